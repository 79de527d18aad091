import assert from 'node:assert/strict';
import { execFile } from 'node:child_process';
import { mkdtemp, readFile, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { fileURLToPath } from 'node:url';
import { after, before, describe, it } from 'node:test';
import { parseCliArgs } from '../../../firmware-sim/src/cli-args.js';
import type { SimSummary } from '../../../firmware-sim/src/sim-types.js';
import { formatSummaryTable } from '../../../firmware-sim/src/summary-table.js';
import { TestBroker } from './aedes-fixture.js';

const MAIN = path.resolve(path.dirname(fileURLToPath(import.meta.url)), '../../../firmware-sim/src/main.js');

function runCli(args: string[]): Promise<{ code: number; stdout: string; stderr: string }> {
  return new Promise((resolve) => {
    execFile(process.execPath, [MAIN, ...args], { timeout: 30_000 }, (err, stdout, stderr) => {
      const code = err ? (typeof err.code === 'number' ? err.code : 1) : 0;
      resolve({ code, stdout, stderr });
    });
  });
}

describe('parseCliArgs', () => {
  it('maps flags to SimOptions', () => {
    const c = parseCliArgs([
      '--devices', '100', '--rate', '2.5', '--qos', '2', '--duration', '30s', '--url', 'mqtt://h:1', '--count', '7',
      '--payload-bytes', '200', '--window', '16', '--prefix', 'x-', '--topic', 't/{deviceId}', '--malformed-every', '9',
      '--summary-json', 'out.json', '--drain-timeout', '500ms',
    ]);
    assert.deepEqual(c.sim, {
      url: 'mqtt://h:1', devices: 100, qos: 2, ratePerDevice: 2.5, durationMs: 30_000, messagesPerDevice: 7, payloadBytes: 200,
      inflightWindow: 16, deviceIdPrefix: 'x-', topicTemplate: 't/{deviceId}', malformedEvery: 9, drainTimeoutMs: 500,
    });
    assert.equal(c.summaryJson, 'out.json');
  });

  it('rejects bad input', () => {
    assert.throws(() => parseCliArgs(['--qos', '3']), /qos/);
    assert.throws(() => parseCliArgs(['--devices', '0']), /devices/);
    assert.throws(() => parseCliArgs(['--duration', 'forever']), /duration/);
    assert.throws(() => parseCliArgs(['--bogus']));
  });
});

describe('formatSummaryTable', () => {
  it('lists the headline numbers', () => {
    const s: SimSummary = {
      devices: 2, qos: 1, sent: 10, resent: 1, acked: 10, errors: 0, dropped: 0, unsent: 0, reconnects: 0, elapsedMs: 1000, msgsPerSec: 10,
      latencyMs: { p50: 1.5, p99: 2.25, p999: 3, max: 4 }, perDevice: {},
    };
    const t = formatSummaryTable(s);
    for (const re of [/devices\s+\|\s+2/, /sent\s+\|\s+10/, /acked/, /resent/, /errors/, /dropped/, /msgs\/s/, /p50 ms\s+\|\s+1\.50/, /p99 ms/, /p99\.9 ms/]) {
      assert.match(t, re);
    }
  });
});

describe('firmware-sim CLI', () => {
  let broker: TestBroker;
  let dir: string;
  before(async () => {
    broker = await TestBroker.start();
    dir = await mkdtemp(path.join(tmpdir(), 'firmware-sim-'));
  });
  after(async () => {
    await broker.kill();
    await rm(dir, { recursive: true, force: true });
  });

  it('publishes, prints a table, writes the JSON summary and exits 0', async () => {
    const file = path.join(dir, 'summary.json');
    const r = await runCli(['--devices', '3', '--count', '20', '--qos', '1', '--url', broker.url, '--summary-json', file]);
    assert.equal(r.code, 0, r.stderr);
    assert.match(r.stdout, /acked\s+\|\s+60/);
    const s = JSON.parse(await readFile(file, 'utf8')) as SimSummary;
    assert.equal(s.acked, 60);
    assert.equal(s.perDevice['dev-00003']!.ackedContiguousTo, 20);
  });

  it('exits 1 when messages stay unacknowledged', async () => {
    broker.stall = true;
    try {
      const r = await runCli(['--devices', '1', '--count', '5', '--rate', '100', '--url', broker.url, '--drain-timeout', '300ms']);
      assert.equal(r.code, 1);
      assert.match(r.stdout, /acked\s+\|\s+0/);
    } finally {
      broker.release();
    }
  });

  it('exits 2 on bad arguments', async () => {
    const r = await runCli(['--qos', '5']);
    assert.equal(r.code, 2);
    assert.match(r.stderr, /qos/);
  });
});
