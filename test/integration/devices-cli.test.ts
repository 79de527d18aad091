/**
 * Proves that `edge-gateway devices ...` (the built CLI, a separate process) provisions
 * credentials in the database a running gateway holds open: while devices publish QoS1 and the
 * gateway group-commits, add/import/rotate/remove/list all succeed, the gateway keeps running and
 * acknowledging, and a credential store that was opened on the same file before the CLI ran (as
 * the gateway's is) sees every change at once: new secrets verify, a rotated secret and a
 * removed device no longer do. Also proves provisioning before the first start: the CLI creates
 * and migrates a new database owner-only, and the gateway then starts on it.
 */
import assert from 'node:assert/strict';
import { spawn } from 'node:child_process';
import { mkdtempSync, rmSync, statSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join, resolve } from 'node:path';
import { test, type TestContext } from 'node:test';
import { fileURLToPath } from 'node:url';
import Database from 'better-sqlite3';
import { runSimulation } from '../../firmware-sim/src/load-generator.js';
import type { SimProgress } from '../../firmware-sim/src/sim-types.js';
import { SCHEMA_VERSION } from '../../gateway/src/buffer/migrations.js';
import { openBufferDatabase } from '../../gateway/src/buffer/sqlite-buffer.js';
import { createDeviceCredentials, type DeviceCredentials } from '../../gateway/src/ingest/device-credentials.js';
import { sharedKafka } from '../kafka/shared-kafka.js';
import { GatewayProcess } from '../support/gateway-process.js';
import { uniqueTopics } from '../support/topics.js';

const repoRoot = resolve(fileURLToPath(new URL('../../../', import.meta.url)));

interface CliResult {
  code: number | null;
  stdout: string;
  stderr: string;
}

/** Runs `edge-gateway devices ...` as the user would (EG_TEST_GATEWAY_CMD: the shipped binary). */
function cli(args: string[], input?: string): Promise<CliResult> {
  const cmd = process.env['EG_TEST_GATEWAY_CMD'];
  const [bin, ...pre] = cmd ? cmd.split(' ') : [process.execPath, join(repoRoot, 'build/gateway/src/main.js')];
  return new Promise((resolveRun, reject) => {
    const child = spawn(bin!, [...pre, 'devices', ...args], { stdio: ['pipe', 'pipe', 'pipe'], env: { ...process.env, GATEWAY_CONFIG: '' } });
    let stdout = '';
    let stderr = '';
    child.stdout.on('data', (d: Buffer) => (stdout += d.toString()));
    child.stderr.on('data', (d: Buffer) => (stderr += d.toString()));
    child.once('error', reject);
    child.once('exit', (code) => resolveRun({ code, stdout, stderr }));
    child.stdin.end(input ?? '');
  });
}

function openStore(t: TestContext, path: string): DeviceCredentials {
  const db = openBufferDatabase({ path, synchronous: 'FULL' });
  t.after(() => db.close());
  return createDeviceCredentials(db);
}

const pw = (s: string) => Buffer.from(s);

test('devices add/import/rotate/remove/list against a running gateway: it keeps serving and sees the changes without restart', async (t) => {
  const kafka = await sharedKafka();
  const { topic, dlqTopic } = uniqueTopics('devices');
  await kafka.createTopics([topic, dlqTopic], 3);
  const gw = new GatewayProcess({ config: { kafka: { brokers: kafka.brokers, topic, dlqTopic } } });
  t.after(() => gw.close());
  await gw.start();

  // Opened before any CLI run and kept open, like the gateway's own connection.
  const store = openStore(t, gw.dbPath);
  assert.deepEqual(store.list(), []);

  // Devices publish QoS1 throughout, so the gateway commits while the CLI writes.
  const stop = new AbortController();
  let progress: SimProgress | null = null;
  const sim = runSimulation(
    { url: gw.url, devices: 5, qos: 1, durationMs: 120_000, ratePerDevice: 50, progressIntervalMs: 100, deviceIdPrefix: 'pub-' },
    { signal: stop.signal, onProgress: (p) => (progress = p) },
  );
  t.after(() => stop.abort());
  while ((progress as SimProgress | null)?.acked === undefined || progress!.acked === 0) await new Promise((r) => setTimeout(r, 50));
  const ackedBefore = progress!.acked;

  const add = await cli(['add', 'dev-1', '--config', gw.configPath]);
  assert.equal(add.code, 0, add.stderr);
  const secret1 = add.stdout.trim();
  assert.match(secret1, /^[A-Za-z0-9_-]{32}$/, 'stdout is exactly the secret');
  assert.doesNotMatch(add.stderr, new RegExp(secret1), 'the secret is only on stdout');
  assert.equal(await store.verify('dev-1', pw(secret1)), 'ok', 'visible to the already-open store');

  const again = await cli(['add', 'dev-1', '--db', gw.dbPath]);
  assert.equal(again.code, 2);
  assert.equal(again.stdout, '');
  assert.match(again.stderr, /GW_ERR_AUTH_DEVICE_EXISTS/);

  const dir = mkdtempSync(join(tmpdir(), 'eg-devices-'));
  t.after(() => rmSync(dir, { recursive: true, force: true }));
  const csv = join(dir, 'fleet.csv');
  writeFileSync(csv, ['deviceId,secret', ...Array.from({ length: 20 }, (_, i) => `fleet-${i}${i % 4 === 0 ? `,given-secret-${i}-xyz` : ''}`)].join('\n'));
  const imp = await cli(['import', csv, '--config', gw.configPath]);
  assert.equal(imp.code, 0, imp.stderr);
  const lines = imp.stdout.trim().split('\n');
  assert.equal(lines[0], 'deviceId,secret');
  const generated = new Map(lines.slice(1).map((l) => l.split(',') as [string, string]));
  assert.equal(generated.size, 15, 'one generated secret per row without one');
  for (const [id, secret] of generated) assert.equal(await store.verify(id, pw(secret)), 'ok', id);
  assert.equal(await store.verify('fleet-4', pw('given-secret-4-xyz')), 'ok');
  assert.equal(store.list().length, 21);

  const badImport = join(dir, 'bad.csv');
  writeFileSync(badImport, 'new-1\nfleet-3\nnew/2\n');
  const bad = await cli(['import', badImport, '--db', gw.dbPath]);
  assert.equal(bad.code, 2);
  assert.match(bad.stderr, /line 3: device id "new\/2"/);
  const exists = await cli(['import', '-', '--db', gw.dbPath], 'new-1\nfleet-3\n');
  assert.equal(exists.code, 2);
  assert.match(exists.stderr, /line 2: fleet-3/);
  assert.equal(await store.verify('new-1', pw('anything-at-all')), 'unknown', 'a failed import writes nothing');

  const rot = await cli(['rotate', 'dev-1', '--config', gw.configPath]);
  assert.equal(rot.code, 0, rot.stderr);
  const secret2 = rot.stdout.trim();
  assert.equal(await store.verify('dev-1', pw(secret1)), 'bad_secret', 'the old secret stopped working at once');
  assert.equal(await store.verify('dev-1', pw(secret2)), 'ok');

  const rm = await cli(['remove', 'fleet-1', '--config', gw.configPath]);
  assert.equal(rm.code, 0, rm.stderr);
  assert.equal(await store.verify('fleet-1', pw(generated.get('fleet-1')!)), 'unknown');

  const list = await cli(['list', '--json', '--config', gw.configPath]);
  assert.equal(list.code, 0, list.stderr);
  const listed = JSON.parse(list.stdout) as Array<Record<string, unknown>>;
  assert.equal(listed.length, 20);
  assert.ok(!list.stdout.includes('scrypt$14$8$1$'), 'no hash (salt/key) in the listing');
  assert.deepEqual(Object.keys(listed[0]!).sort(), ['createdAt', 'deviceId', 'rotatedAt', 'scheme']);

  assert.equal(gw.running, true, 'the gateway kept running');
  const ackedDuring = progress!.acked - ackedBefore;
  stop.abort();
  const summary = await sim;
  assert.ok(ackedDuring > 0, 'devices were acknowledged while the CLI wrote');
  assert.equal(summary.acked, summary.sent, 'every publish was acknowledged');
  assert.equal(summary.errors, 0);
  assert.deepEqual(
    gw.logs.filter((l) => l.level >= 50).map((l) => l.msg),
    [],
    'no error logged by the gateway',
  );
  t.diagnostic(`${ackedDuring} publishes acknowledged while the CLI ran`);
});

test('devices add before the first start creates an owner-only, migrated database the gateway then starts on', async (t) => {
  const kafka = await sharedKafka();
  const { topic, dlqTopic } = uniqueTopics('devices-new');
  const dir = mkdtempSync(join(tmpdir(), 'eg-devices-new-'));
  t.after(() => rmSync(dir, { recursive: true, force: true }));
  const dbPath = join(dir, 'state', 'buffer.db');

  const add = await cli(['add', 'dev-1', '--db', dbPath]);
  assert.equal(add.code, 0, add.stderr);
  assert.equal(statSync(dbPath).mode & 0o777, 0o600);
  assert.equal(statSync(join(dir, 'state')).mode & 0o777, 0o700);
  const raw = new Database(dbPath, { readonly: true });
  assert.equal(raw.pragma('user_version', { simple: true }), SCHEMA_VERSION);
  assert.equal(raw.pragma('journal_mode', { simple: true }), 'wal');
  raw.close();

  const gw = new GatewayProcess({ dir: join(dir, 'state'), config: { buffer: { path: dbPath }, kafka: { brokers: kafka.brokers, topic, dlqTopic } } });
  t.after(() => gw.close());
  await gw.start();
  assert.equal(statSync(`${dbPath}-wal`).mode & 0o777, 0o600, "the gateway's WAL inherits the database's mode");
  assert.equal(await openStore(t, dbPath).verify('dev-1', pw(add.stdout.trim())), 'ok');
});
