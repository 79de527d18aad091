/**
 * Proves the arm64 single executable works, under qemu-aarch64 with Debian's arm64 libc: it
 * reports its versions, and as a gateway it starts, accepts MQTT publishes from firmware-sim (the
 * same binary's `sim` subcommand, also arm64: 5 devices x 20 QoS1), commits them to SQLite (the
 * buffer's AUTOINCREMENT counter, read back with the host's SQLite, reached 100) and forwards
 * them to the test Kafka, where the auditor finds all 100, keyed and in order.
 */
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { spawn, spawnSync } from 'node:child_process';
import { mkdtempSync, readFileSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import Database from 'better-sqlite3';
import type { SimSummary } from '../../firmware-sim/src/load-generator.js';
import { sharedKafka } from '../kafka/shared-kafka.js';
import { auditTopic } from '../support/audit.js';
import { GatewayProcess } from '../support/gateway-process.js';
import { uniqueTopics } from '../support/topics.js';
import { binaryOrSkip, rssMiB, VERSION_LINE } from './binaries.js';

const DEVICES = 5;
const PER_DEVICE = 20;

function privateDir(t: { after(fn: () => void): void }, label: string): string {
  const dir = mkdtempSync(join(tmpdir(), `eg-${label}-`));
  t.after(() => rmSync(dir, { recursive: true, force: true }));
  return dir;
}

test('arm64 --version under qemu names the gateway, Node 24, linux-arm64 and SQLite', (t) => {
  const bin = binaryOrSkip(t, 'arm64');
  if (!bin) return;
  const res = spawnSync(bin.command[0]!, [...bin.command.slice(1), '--version'], { encoding: 'utf8', env: { ...process.env, EDGE_GATEWAY_NATIVE_DIR: privateDir(t, 'native') } });
  assert.equal(res.status, 0, res.stderr);
  const m = VERSION_LINE.exec(res.stdout.trim());
  assert.ok(m, `unexpected --version output: ${res.stdout}`);
  assert.equal(m[2], 'arm64');
  t.diagnostic(res.stdout.trim());
});

test('arm64 gateway under qemu: firmware-sim publishes -> SQLite -> Kafka, audited complete', { timeout: 240_000 }, async (t) => {
  const bin = binaryOrSkip(t, 'arm64');
  if (!bin) return;
  const kafka = await sharedKafka();
  const { topic, dlqTopic } = uniqueTopics('arm64');
  await kafka.createTopics([topic, dlqTopic], 3);
  process.env['EG_TEST_GATEWAY_CMD'] = bin.command.join(' ');
  const gw = new GatewayProcess({ config: { gatewayId: 'gw-arm64', kafka: { brokers: kafka.brokers, topic, dlqTopic } }, env: { EDGE_GATEWAY_NATIVE_DIR: privateDir(t, 'native') } });
  t.after(() => gw.close());
  const t0 = performance.now();
  await gw.start();
  const listeningMs = performance.now() - t0;
  const starting = await gw.waitForEvent('starting');
  assert.match(String(starting['node']), /^v24\./);
  await gw.waitForEvent('kafka_up', 60_000);
  await new Promise((r) => setTimeout(r, 2000));
  const idleRss = rssMiB(gw.pid!);

  // The devices: the arm64 binary's own firmware-sim.
  const summaryPath = join(privateDir(t, 'sim'), 'summary.json');
  const sim = spawn(
    bin.command[0]!,
    [...bin.command.slice(1), 'sim', '--url', gw.url, '--devices', String(DEVICES), '--count', String(PER_DEVICE), '--qos', '1', '--summary-json', summaryPath],
    { stdio: ['ignore', 'pipe', 'pipe'], env: { ...process.env, EDGE_GATEWAY_NATIVE_DIR: privateDir(t, 'sim-native') } },
  );
  t.after(() => sim.kill('SIGKILL'));
  let simOut = '';
  sim.stdout.on('data', (d: Buffer) => (simOut += d.toString()));
  sim.stderr.on('data', (d: Buffer) => (simOut += d.toString()));
  const simCode = await new Promise<number | null>((resolve) => sim.once('exit', (c) => resolve(c)));
  assert.equal(simCode, 0, `edge-gateway sim failed:\n${simOut}`);
  const summary = JSON.parse(readFileSync(summaryPath, 'utf8')) as SimSummary;
  assert.equal(summary.acked, DEVICES * PER_DEVICE, 'every publish was PUBACKed by the arm64 gateway');

  const report = await auditTopic({ brokers: kafka.brokers, topic, dlqTopic, sim: summary, timeoutMs: 90_000 });
  assert.equal(report.records, DEVICES * PER_DEVICE);
  assert.equal(report.devices, DEVICES);
  assert.equal(report.missingAcked, 0);
  assert.equal(report.gaps, 0);
  assert.equal(report.duplicates, 0);
  assert.equal(report.outOfOrder, 0);
  assert.equal(report.keyMismatches, 0);
  assert.equal(report.undecodable, 0);
  assert.equal(report.ok, true);

  assert.equal(await gw.stop(), 0, 'graceful shutdown exits 0');
  // Written by the arm64 build of SQLite, read by the host's: the file format is portable.
  const db = new Database(gw.dbPath, { readonly: true, fileMustExist: true });
  try {
    const seq = db.prepare("SELECT seq FROM sqlite_sequence WHERE name = 'records'").get() as { seq: number } | undefined;
    assert.equal(seq?.seq, DEVICES * PER_DEVICE, 'every publish was committed to the SQLite buffer');
    const left = db.prepare('SELECT count(*) AS n FROM records').get() as { n: number };
    assert.equal(left.n, 0, 'rows were deleted after Kafka acknowledged them');
  } finally {
    db.close();
  }
  t.diagnostic(`arm64 under qemu-user: spawn -> mqtt_listening ${listeningMs.toFixed(0)} ms; idle VmRSS of the qemu process ${idleRss.toFixed(1)} MiB`);
});
