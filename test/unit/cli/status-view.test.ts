/**
 * `edge-gateway status`: the snapshot as aligned key/value lines, and where the command finds
 * the admin server (flags over the config's admin section and GATEWAY_ADMIN_TOKEN).
 */
import assert from 'node:assert/strict';
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { test } from 'node:test';
import { adminTarget } from '../../../gateway/src/cli/status-command.js';
import { bytes, duration, formatAdminStatus } from '../../../gateway/src/cli/status-view.js';
import { ADMIN_STATUS_KIND, type AdminStatus } from '../../../gateway/src/control/admin-status.js';

const snapshot: AdminStatus = {
  kind: ADMIN_STATUS_KIND,
  schemaVersion: 1,
  gatewayId: 'pi-0042',
  at: '2026-01-01T00:00:05.000Z',
  atMs: 0,
  uptimeSecs: 3725,
  binaryVersion: '0.1.0',
  node: 'v24.1.0',
  pipelineRunning: true,
  config: { version: 8, source: 'pushed', hash: 'ab12cd34ef56ab12cd34', lastResult: { version: 9, state: 'rolled_back', code: 'GW_ERR_CONTROL_UNHEALTHY', reason: 'Kafka not reached', at: '2026-01-01T00:00:00.000Z' } },
  devices: { connected: 1042, busiest: [{ deviceId: 'dev-7', messages: 310 }, { deviceId: 'dev-1', messages: 120 }], busiestWindowMs: 45_000 },
  ingest: { acceptedTotal: 123456, rejectedTotal: 3, rejectedByCode: { GW_ERR_INGEST_TOPIC_UNROUTED: 3, GW_ERR_INGEST_IDENTITY: 0 } },
  forward: { sentTotal: 123000, batchesTotal: 400, sendErrorsTotal: 2, lastSendMs: 5 },
  buffer: { rows: 456, bytes: 3 * 1024 * 1024, maxSizeBytes: 1024 ** 3, fill: 3 / 1024, oldestAgeMs: 95_000, flow: 'open' },
  kafka: { up: false, lastError: 'connect ECONNREFUSED 127.0.0.1:9092' },
  deadLetters: { total: 2, rows: 1 },
  drops: { total: 5, byReason: { overflow: 5, expired: 0 } },
};

test('aligned key/value lines with every fact of the page', () => {
  const out = formatAdminStatus(snapshot);
  assert.equal(
    out,
    [
      'gateway       pi-0042 (0.1.0, node v24.1.0)',
      'uptime        62 min',
      'config        v8 pushed (ab12cd34ef56)',
      'last push     rolled_back v9 GW_ERR_CONTROL_UNHEALTHY at 2026-01-01T00:00:00.000Z: Kafka not reached',
      'devices       1,042 connected; busiest over 45 s: dev-7 310, dev-1 120',
      'ingest        123,456 accepted, 3 rejected (GW_ERR_INGEST_TOPIC_UNROUTED 3)',
      'forward       123,000 sent to Kafka in 400 batches, 2 send errors',
      'buffer        456 rows, 3.0 MiB of 1.0 GiB (0.29 %), oldest 95 s, flow open',
      'kafka         down',
      'last error    connect ECONNREFUSED 127.0.0.1:9092',
      'dead letters  2 (1 in dead_letters)',
      'drops         5 (overflow 5)',
      'at            2026-01-01T00:00:05.000Z',
      '',
    ].join('\n'),
  );
});

test('a local file, no push yet, no traffic, no pipeline', () => {
  const out = formatAdminStatus({
    ...snapshot,
    pipelineRunning: false,
    config: { version: null, source: 'file', hash: 'ff00ff00ff00ff00', lastResult: null },
    devices: { connected: 0, busiest: [], busiestWindowMs: 0 },
    buffer: { ...snapshot.buffer, rows: 0, bytes: 0, fill: 0, oldestAgeMs: null },
    kafka: { up: true, lastError: null },
    drops: { total: 0, byReason: {} },
  });
  assert.match(out, /^gateway +pi-0042 \(0\.1\.0, node v24\.1\.0\) - pipeline rebuilding$/m);
  assert.match(out, /^config +local file \(ff00ff00ff00\)$/m);
  assert.match(out, /^last push +none$/m);
  assert.match(out, /^devices +0 connected$/m);
  assert.match(out, /^buffer +0 rows, 0 B of 1\.0 GiB \(0\.00 %\), oldest -, flow open$/m);
  assert.match(out, /^kafka +up$/m);
  assert.match(out, /^last error +none$/m);
  assert.match(out, /^drops +0$/m);
});

test('bytes and durations', () => {
  assert.deepEqual([bytes(0), bytes(1023), bytes(1536), bytes(5 * 1024 ** 3)], ['0 B', '1023 B', '1.5 KiB', '5.0 GiB']);
  assert.deepEqual([duration(119_000), duration(120_000), duration(7_200_000), duration(172_800_000)], ['119 s', '2 min', '2.0 h', '2.0 d']);
});

test('the admin address and token: config admin section, env token, flags win; a wildcard bind is reached on loopback', (t) => {
  const dir = mkdtempSync(join(tmpdir(), 'eg-status-'));
  t.after(() => rmSync(dir, { recursive: true, force: true }));
  const path = join(dir, 'config.yaml');
  writeFileSync(path, 'admin:\n  host: 0.0.0.0\n  port: 9999\n  token: from-the-config-file-0123\n');
  assert.deepEqual(adminTarget({ configPath: path, env: {} }), { url: 'http://127.0.0.1:9999', token: 'from-the-config-file-0123' });
  assert.deepEqual(adminTarget({ configPath: path, env: { GATEWAY_ADMIN_TOKEN: 'from-the-environment-01' } }).token, 'from-the-environment-01');
  assert.deepEqual(adminTarget({ configPath: path, url: 'http://10.0.0.5:1', token: 'flag', env: {} }), { url: 'http://10.0.0.5:1', token: 'flag' });
  assert.deepEqual(adminTarget({ configPath: undefined, env: {} }), { url: 'http://127.0.0.1:9883', token: undefined });
});

test('strings from outside (device ids, Kafka errors, push reasons) reach the terminal without control characters', () => {
  const esc = '\u001b]52;c;cm0gLXJmIH4=\u0007\u001b[2J\r\u009b31m';
  const out = formatAdminStatus({
    ...snapshot,
    devices: { ...snapshot.devices, busiest: [{ deviceId: `evil${esc}`, messages: 1 }] },
    kafka: { up: false, lastError: `broker says ${esc}` },
    config: { ...snapshot.config, lastResult: { ...snapshot.config.lastResult!, reason: `bad ${esc}`, code: `X${esc}` } },
  });
  assert.doesNotMatch(out.replace(/\n/g, ''), /\p{Cc}/u);
  assert.match(out, /evil\\u001b\]52;c;cm0gLXJmIH4=\\u0007\\u001b\[2J\\u000d\\u009b31m 1/);
});
