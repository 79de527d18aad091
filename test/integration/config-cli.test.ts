/**
 * Proves the operator's side of remote configuration with the built CLI (separate processes)
 * against the real Kafka of the harness:
 *  - keys generate -> config sign -> config push puts exactly one record, key = gateway id, value =
 *    the JWS, on partition partitionForKey(gatewayId, 6) of a compacted 6-partition topic, and the
 *    record read back with kcat verifies against the key from the printed trustedKeys YAML;
 *  - that partition is the one a Java-compatible client picks (librdkafka's murmur2_random, via kcat);
 *  - config status reads the whole status topic to its end and shows the last record per gateway
 *    (an older record and a tombstoned gateway do not show; a garbage record is skipped and counted);
 *  - config sign refuses an invalid config naming the field; keys generate never overwrites a key.
 */
import assert from 'node:assert/strict';
import { execFile, spawn } from 'node:child_process';
import { readFileSync, statSync, writeFileSync } from 'node:fs';
import { join, resolve } from 'node:path';
import { test } from 'node:test';
import { fileURLToPath } from 'node:url';
import { promisify } from 'node:util';
import { parse as parseYaml } from 'yaml';
import { validateConfig } from '../../gateway/src/config/load-config.js';
import { verifyConfigDocument } from '../../gateway/src/control/config-document.js';
import { partitionForKey } from '../../gateway/src/control/partition-for-key.js';
import { STATUS_KIND, type GatewayStatusRecord } from '../../gateway/src/control/status-record.js';
import { quietKafka, waitForLeaders } from '../kafka/create-topics.js';
import { sharedKafka } from '../kafka/shared-kafka.js';
import { tempDir } from '../support/temp-dir.js';

const execFileAsync = promisify(execFile);
const repoRoot = resolve(fileURLToPath(new URL('../../../', import.meta.url)));
const PARTITIONS = 6;

interface CliResult {
  code: number | null;
  stdout: string;
  stderr: string;
}

/** Runs `edge-gateway ...` as the user would (EG_TEST_GATEWAY_CMD: the shipped binary). */
function cli(args: string[]): Promise<CliResult> {
  const cmd = process.env['EG_TEST_GATEWAY_CMD'];
  const [bin, ...pre] = cmd ? cmd.split(' ') : [process.execPath, join(repoRoot, 'build/gateway/src/main.js')];
  return new Promise((resolveRun, reject) => {
    const child = spawn(bin!, [...pre, ...args], { stdio: ['ignore', 'pipe', 'pipe'], env: { ...process.env, GATEWAY_CONFIG: '' } });
    let stdout = '';
    let stderr = '';
    child.stdout.on('data', (d: Buffer) => (stdout += d.toString()));
    child.stderr.on('data', (d: Buffer) => (stderr += d.toString()));
    child.once('error', reject);
    child.once('exit', (code) => resolveRun({ code, stdout, stderr }));
  });
}

const unique = (label: string) => `${label}.${Math.random().toString(16).slice(2, 10)}`;

async function createCompactedTopic(brokers: string[], topic: string, partitions: number): Promise<void> {
  const admin = quietKafka(brokers).admin();
  await admin.connect();
  try {
    await admin.createTopics({
      topics: [{ topic, numPartitions: partitions, replicationFactor: 1, configEntries: [{ name: 'cleanup.policy', value: 'compact' }] }],
      waitForLeaders: false,
    });
    await waitForLeaders(admin, [topic], 30_000);
  } finally {
    await admin.disconnect();
  }
}

interface KcatRecord {
  partition: number;
  offset: number;
  key: string | null;
  payload: string | null;
}

/** Every record of a topic (or one partition), read to the end with kcat. */
async function kcatRead(brokers: string[], topic: string, partition?: number): Promise<KcatRecord[]> {
  const args = ['-C', '-b', brokers.join(','), '-t', topic, ...(partition === undefined ? [] : ['-p', String(partition)]), '-o', 'beginning', '-e', '-q', '-J'];
  const { stdout } = await execFileAsync('kcat', args, { timeout: 30_000, maxBuffer: 64 * 1024 * 1024 });
  return stdout.split('\n').filter((l) => l.trim()).map((l) => JSON.parse(l) as KcatRecord);
}

test('keys generate -> config sign -> config push: one record, key = gateway id, on partitionForKey(id, 6), verifying with the printed key', async (t) => {
  const kafka = await sharedKafka();
  const topic = unique('edge.gateway.config');
  await createCompactedTopic(kafka.brokers, topic, PARTITIONS);
  const dir = tempDir(t);

  const keys = await cli(['keys', 'generate', '--kid', 'ops-2025', '--out-dir', join(dir, 'keys')]);
  assert.equal(keys.code, 0, keys.stderr);
  const privatePath = join(dir, 'keys', 'ops-2025.private.pem');
  assert.equal(statSync(privatePath).mode & 0o777, 0o600, 'private key owner-only');
  assert.match(readFileSync(privatePath, 'utf8'), /^-----BEGIN PRIVATE KEY-----\n/);
  assert.match(readFileSync(join(dir, 'keys', 'ops-2025.public.pem'), 'utf8'), /^-----BEGIN PUBLIC KEY-----\n/);
  // The printed YAML is a valid config section, and its key is the one just written.
  const snippet = validateConfig(parseYaml(keys.stdout), 'snippet');
  assert.deepEqual(snippet.control.trustedKeys, [{ kid: 'ops-2025', publicKey: readFileSync(join(dir, 'keys', 'ops-2025.public.pem'), 'utf8') }]);

  const gatewayId = 'gw-berlin-07';
  const configFile = join(dir, 'gw.yaml');
  writeFileSync(
    configFile,
    `gatewayId: ${gatewayId}\nkafka:\n  brokers: [kafka-1:9092]\n` +
      `control:\n  remoteConfig: { enabled: true, topic: ${topic} }\n${keys.stdout.replace(/^control:\n/, '')}`,
  );
  const docFile = join(dir, 'gw.jws');
  const sign = await cli(['config', 'sign', '--key', privatePath, '--kid', 'ops-2025', '--gateway-id', gatewayId, '--version', '7', '--expires-in', '86400', '--out', docFile, configFile]);
  assert.equal(sign.code, 0, sign.stderr);
  assert.doesNotMatch(sign.stderr, /warning/, 'a config that keeps remote config on and trusts the signing key warns about nothing');
  const jws = readFileSync(docFile, 'utf8').trim();

  const push = await cli(['config', 'push', '--bootstrap-server', kafka.brokers.join(','), '--topic', topic, docFile]);
  assert.equal(push.code, 0, push.stderr);
  const expected = partitionForKey(gatewayId, PARTITIONS);
  assert.equal(push.stdout, `${topic}\t${expected}\t0\n`);

  const all = await kcatRead(kafka.brokers, topic);
  assert.equal(all.length, 1, 'exactly one record in the whole topic');
  const inPartition = await kcatRead(kafka.brokers, topic, expected);
  assert.equal(inPartition.length, 1);
  assert.equal(inPartition[0]!.key, gatewayId);
  assert.equal(inPartition[0]!.payload, jws);
  const doc = await verifyConfigDocument(inPartition[0]!.payload!, { trustedKeys: snippet.control.trustedKeys, gatewayId });
  assert.equal(doc.version, 7);
  assert.equal(doc.kid, 'ops-2025');
  assert.deepEqual(doc.config, parseYaml(readFileSync(configFile, 'utf8')), 'the file as written, not defaulted');
  assert.ok(doc.expiresAt! > Date.now() + 86_000_000);

  // A push to a topic that does not exist fails with a code, and says how the topic must be made.
  const missing = await cli(['config', 'push', '--bootstrap-server', kafka.brokers.join(','), '--topic', unique('no.such.topic'), docFile]);
  assert.equal(missing.code, 2);
  assert.match(missing.stderr, /GW_ERR_CONTROL_KAFKA.*cleanup\.policy=compact/);
});

test('partitionForKey picks the partition a Java-compatible producer (librdkafka murmur2_random via kcat) picks', async () => {
  const kafka = await sharedKafka();
  const topic = unique('partitioner');
  await createCompactedTopic(kafka.brokers, topic, PARTITIONS);
  const keys = ['gw-1', 'gw-2', 'gw-3', 'gw-berlin-07', 'pi-7919', 'edge.gateway.42', 'sensor-\u03b1', 'x'];
  const input = keys.map((k) => `${k}\tv\n`).join('');
  await new Promise<void>((done, fail) => {
    const child = spawn('kcat', ['-P', '-b', kafka.brokers.join(','), '-t', topic, '-K', '\t', '-X', 'topic.partitioner=murmur2_random'], { stdio: ['pipe', 'ignore', 'inherit'] });
    child.once('error', fail);
    child.once('exit', (code) => (code === 0 ? done() : fail(new Error(`kcat exited ${code}`))));
    child.stdin.end(input);
  });
  const records = await kcatRead(kafka.brokers, topic);
  assert.equal(records.length, keys.length);
  assert.ok(new Set(records.map((r) => r.partition)).size > 2, 'the keys spread over several partitions');
  for (const r of records) assert.equal(r.partition, partitionForKey(r.key!, PARTITIONS), r.key!);
});

function statusRecord(gatewayId: string, over: { at: string; version: number | null; source: 'file' | 'pushed'; result: GatewayStatusRecord['config']['lastResult']; devices: number; rows: number; up: boolean }): GatewayStatusRecord {
  return {
    kind: STATUS_KIND,
    schemaVersion: 1,
    gatewayId,
    at: over.at,
    config: { version: over.version, hash: 'ab'.repeat(32), source: over.source, lastResult: over.result },
    heartbeat: {
      uptimeSecs: 100,
      binaryVersion: '0.1.0',
      node: 'v20.20.2',
      devicesConnected: over.devices,
      buffer: { rows: over.rows, bytes: over.rows * 200, oldestAgeMs: null },
      kafka: { up: over.up, lastError: over.up ? null : 'GW_ERR_FORWARD_CONNECT' },
      deadLetteredTotal: 0,
      droppedTotal: 0,
    },
  };
}

test('config status: last record per gateway, tombstones delete, garbage skipped and counted; --gateway-id and --json', async (t) => {
  const kafka = await sharedKafka();
  const topic = unique('edge.gateway.status');
  await createCompactedTopic(kafka.brokers, topic, 3);
  const now = Date.now();
  const iso = (agoMs: number) => new Date(now - agoMs).toISOString();
  const oldA = statusRecord('gw-a', { at: iso(600_000), version: null, source: 'file', result: null, devices: 1, rows: 5, up: false });
  const newA = statusRecord('gw-a', { at: iso(5_000), version: 3, source: 'pushed', result: { version: 3, state: 'applied', at: iso(60_000) }, devices: 42, rows: 0, up: true });
  const b = statusRecord('gw-b', {
    at: iso(180_000),
    version: null,
    source: 'file',
    result: { version: 2, state: 'rejected', code: 'GW_ERR_CONTROL_SIGNATURE', reason: 'x', at: iso(200_000) },
    devices: 7,
    rows: 1200,
    up: false,
  });
  const gone = statusRecord('gw-gone', { at: iso(1000), version: null, source: 'file', result: null, devices: 0, rows: 0, up: true });

  const producer = quietKafka(kafka.brokers).producer();
  await producer.connect();
  t.after(() => producer.disconnect());
  const send = (key: string | null, value: string | null) => producer.send({ topic, acks: -1, messages: [{ key, value }] });
  await send('gw-a', JSON.stringify(oldA));
  await send('gw-gone', JSON.stringify(gone));
  await send('gw-b', JSON.stringify(b));
  await send('junk-1', '{"not": "a status record"');
  await send('gw-a', JSON.stringify(newA));
  await send('gw-gone', null);

  const bootstrap = ['--bootstrap-server', kafka.brokers.join(','), '--topic', topic];
  const table = await cli(['config', 'status', ...bootstrap]);
  assert.equal(table.code, 0, table.stderr);
  const lines = table.stdout.trimEnd().split('\n').map((l) => l.split(/\s{2,}/));
  assert.deepEqual(lines, [
    ['GATEWAY', 'CONFIG', 'LAST RESULT', 'HEARTBEAT', 'DEVICES', 'BUFFER ROWS', 'KAFKA'],
    ['gw-a', 'v3 pushed', 'applied v3', lines[1]![3]!, '42', '0', 'up'],
    ['gw-b', 'file', 'rejected v2 GW_ERR_CONTROL_SIGNATURE', '3m ago', '7', '1200', 'down'],
  ]);
  assert.match(lines[1]![3]!, /^\d+s ago$/);
  assert.match(table.stderr, /6 records read, 2 gateways, 1 skipped/);
  assert.match(table.stderr, /skipped "junk-1" \(partition \d offset \d+\): not JSON/);

  const one = await cli(['config', 'status', ...bootstrap, '--gateway-id', 'gw-a']);
  assert.equal(one.code, 0, one.stderr);
  assert.deepEqual(JSON.parse(one.stdout), newA);

  const json = await cli(['config', 'status', ...bootstrap, '--json']);
  assert.equal(json.code, 0, json.stderr);
  assert.deepEqual(JSON.parse(json.stdout), [newA, b]);

  const deleted = await cli(['config', 'status', ...bootstrap, '--gateway-id', 'gw-gone']);
  assert.equal(deleted.code, 1, 'a tombstoned gateway is gone');
  assert.match(deleted.stderr, /no status record for gateway gw-gone/);

  const empty = unique('edge.gateway.status.empty');
  await createCompactedTopic(kafka.brokers, empty, 2);
  const none = await cli(['config', 'status', '--bootstrap-server', kafka.brokers.join(','), '--topic', empty]);
  assert.equal(none.code, 0, none.stderr);
  assert.equal(none.stdout.trim().split('\n').length, 1, 'only the header for an empty topic');
});

test('config status reads a topic larger than one fetch per partition to its end: every gateway at its last heartbeat', async (t) => {
  const kafka = await sharedKafka();
  const topic = unique('edge.gateway.status.big');
  await createCompactedTopic(kafka.brokers, topic, 3);
  // Idempotent: a plain producer's retried request can write a batch twice (seen here: 2,444 of 2,400).
  const producer = quietKafka(kafka.brokers).producer({ idempotent: true, maxInFlightRequests: 1 });
  await producer.connect();
  t.after(() => producer.disconnect());
  const GATEWAYS = 60;
  const BEATS = 40;
  const at = new Date().toISOString();
  // ~2.2 KB each: 2,400 records, about 1.7 MiB per partition: more than one fetch (1 MiB per partition) returns.
  for (let beat = 1; beat <= BEATS; beat++) {
    const messages = Array.from({ length: GATEWAYS }, (_, g) => {
      const id = `gw-${String(g).padStart(3, '0')}`;
      return { key: id, value: JSON.stringify({ ...statusRecord(id, { at, version: null, source: 'file', result: null, devices: beat, rows: g, up: true }), pad: 'p'.repeat(2000) }) };
    });
    await producer.send({ topic, acks: -1, messages });
  }
  const res = await cli(['config', 'status', '--bootstrap-server', kafka.brokers.join(','), '--topic', topic, '--json']);
  assert.equal(res.code, 0, res.stderr);
  const records = JSON.parse(res.stdout) as GatewayStatusRecord[];
  assert.equal(records.length, GATEWAYS);
  assert.deepEqual(new Set(records.map((r) => r.heartbeat.devicesConnected)), new Set([BEATS]), 'each gateway at its last heartbeat');
  const inTopic = await kcatRead(kafka.brokers, topic);
  assert.equal(inTopic.length, GATEWAYS * BEATS, 'kcat reads every record once');
  assert.match(res.stderr, new RegExp(`${GATEWAYS * BEATS} records read, ${GATEWAYS} gateways, 0 skipped`), 'so does config status');
});

test('config sign refuses an invalid config naming the field; keys generate never overwrites a key', async (t) => {
  const dir = tempDir(t);
  const keys = await cli(['keys', 'generate', '--kid', 'ops', '--out-dir', dir]);
  assert.equal(keys.code, 0, keys.stderr);
  const privatePath = join(dir, 'ops.private.pem');
  const before = readFileSync(privatePath, 'utf8');

  const again = await cli(['keys', 'generate', '--kid', 'ops', '--out-dir', dir]);
  assert.equal(again.code, 2);
  assert.match(again.stderr, /GW_ERR_CONTROL_KEY_FILE.*ops\.private\.pem exists/);
  assert.equal(again.stdout, '');
  assert.equal(readFileSync(privatePath, 'utf8'), before, 'the existing key is untouched');

  const bad = join(dir, 'bad.yaml');
  writeFileSync(bad, 'gatewayId: gw-1\nkafka:\n  batchMaxRecords: -5\n');
  const signBad = await cli(['config', 'sign', '--key', privatePath, '--kid', 'ops', '--gateway-id', 'gw-1', '--version', '1', bad]);
  assert.equal(signBad.code, 2);
  assert.equal(signBad.stdout, '', 'nothing signed');
  assert.match(signBad.stderr, /GW_ERR_CONFIG_INVALID.*kafka\.batchMaxRecords/);

  const unknown = join(dir, 'unknown.yaml');
  writeFileSync(unknown, 'gatewayId: gw-1\nmqtt:\n  listnrs: []\n');
  const signUnknown = await cli(['config', 'sign', '--key', privatePath, '--kid', 'ops', '--gateway-id', 'gw-1', '--version', '1', unknown]);
  assert.equal(signUnknown.code, 2);
  assert.match(signUnknown.stderr, /GW_ERR_CONFIG_INVALID.*mqtt\.listnrs/);

  const other = join(dir, 'other.yaml');
  writeFileSync(other, 'gatewayId: gw-2\n');
  const signOther = await cli(['config', 'sign', '--key', privatePath, '--kid', 'ops', '--gateway-id', 'gw-1', '--version', '1', other]);
  assert.equal(signOther.code, 2);
  assert.match(signOther.stderr, /GW_ERR_CONFIG_INVALID.*gatewayId: is "gw-2" but the document is for "gw-1"/);
});
