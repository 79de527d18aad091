/**
 * Schema Registry wire format end to end (issue 12), against a real Apicurio Registry (its
 * Confluent-compatible API) and a real Kafka, read back by an independent consumer: Python
 * confluent-kafka's AvroDeserializer, which fetches each writer schema from the registry by the
 * id in the record's header (test/tools/registry_consume.py).
 *
 * 1. Registry down at start (an auth proxy in front of Apicurio answers 503): devices are
 *    acknowledged, records wait in the buffer (none sent, none dead-lettered); the registry comes
 *    back -> everything is delivered. Down in the middle (the proxy hangs): ids are known, records
 *    keep flowing. kill -9 and a restart while it is still down: ids come from the buffer's
 *    cache, records flow at once. Then every acknowledged message is decoded by the independent
 *    consumer, keyed by its device, in order, with the exact long and the registry's schema id.
 * 2. Compatibility (BACKWARD): a gateway started with a schema the subject refuses waits with
 *    GW_ERR_REGISTRY_INCOMPATIBLE (nothing lost, nothing dead-lettered); a pushed compatible fix
 *    is applied and drains it; a pushed incompatible change is rejected with the registry's
 *    reason and the running schema is kept.
 */
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { execFile } from 'node:child_process';
import { writeFileSync } from 'node:fs';
import { join, resolve } from 'node:path';
import { fileURLToPath } from 'node:url';
import mqtt from 'mqtt';
import { runSimulation, type SimSummary } from '../../firmware-sim/src/load-generator.js';
import { AuditLedger } from '../../gateway/src/audit/audit-report.js';
import { createAvroEncoder } from '../../gateway/src/encode/avro-encoder.js';
import { signConfigDocument } from '../../gateway/src/control/config-document.js';
import { partitionForKey } from '../../gateway/src/control/partition-for-key.js';
import { freePorts } from '../kafka/free-port.js';
import { sharedKafka } from '../kafka/shared-kafka.js';
import { latestVersion, registerSchema } from '../registry/ccompat-client.js';
import { startRegistry } from '../registry/registry-harness.js';
import { sharedRegistry } from '../registry/shared-registry.js';
import { createTestPki } from '../support/pki.js';
import { GatewayProcess } from '../support/gateway-process.js';
import { signingKeyPair, waitForGatewayStatus } from '../support/gateway-status-topic.js';
import { kcatProduce, kcatRead } from '../support/kcat.js';
import { registryConsume, type RegistryRecord } from '../support/registry-consumer.js';
import { startRegistryAuthProxy } from '../support/registry-auth-proxy.js';
import { uniqueTopics } from '../support/topics.js';
import { sleep } from '../support/wait.js';
import { assertNoLoss } from '../support/audit-assertions.js';

const repoRoot = resolve(fileURLToPath(new URL('../../../', import.meta.url)));

const READING = {
  type: 'record',
  name: 'Reading',
  namespace: 'com.example.registry',
  fields: [
    { name: 'seq', type: 'long' },
    { name: 'big', type: 'long' },
    { name: 'temperature', type: 'double' },
  ],
};

interface Envelope {
  deviceId: string;
  topic: string;
  receivedAt: number;
  seq: number;
  payload: string | Record<string, unknown>;
}

/** The ledger's view of a record decoded by the Python consumer (raw payloads come as base64). */
function ledgerOf(records: readonly RegistryRecord[], perDevice: SimSummary['perDevice']): ReturnType<AuditLedger['report']> {
  const ledger = new AuditLedger();
  for (const r of records) {
    const env = r.value as Envelope;
    const payload = typeof env.payload === 'string' ? Buffer.from(env.payload, 'base64') : env.payload;
    const seq = JSON.parse(Buffer.isBuffer(payload) ? payload.toString('utf8') : '{}') as { seq?: number };
    ledger.add({ key: r.key, deviceId: env.deviceId, deviceSeq: typeof seq.seq === 'number' ? seq.seq : null, partition: r.partition });
  }
  return ledger.report('registry', perDevice);
}

function mergePerDevice(sims: readonly SimSummary[]): SimSummary['perDevice'] {
  return Object.assign({}, ...sims.map((s) => s.perDevice)) as SimSummary['perDevice'];
}

test('registry format: down at start (buffered, then delivered), down in the middle and across kill -9 (cached ids); decoded by confluent-kafka AvroDeserializer', { timeout: 300_000 }, async (t) => {
  const kafka = await sharedKafka();
  const { topic, dlqTopic } = uniqueTopics('registry');
  const readings = `${topic}.readings`;
  await kafka.createTopics([topic, dlqTopic, readings], 3);
  const registry = await startRegistry();
  t.after(() => registry.close());
  await registry.setCompatibility('BACKWARD');
  const proxy = await startRegistryAuthProxy({ target: registry.url, basicAuth: { username: 'gw-reg', password: 'registry-pass-123' } });
  t.after(() => proxy.close());
  proxy.setMode('unavailable');

  const gw = new GatewayProcess({
    config: {
      gatewayId: 'gw-registry',
      log: { level: 'info', statsIntervalSecs: 0 },
      mqtt: { routes: [{ topic: 'devices/{deviceId}/telemetry' }, { topic: 'devices/{deviceId}/reading', valueSchema: READING, kafkaTopic: readings }] },
      kafka: {
        brokers: kafka.brokers,
        topic,
        dlqTopic,
        valueFormat: 'registry',
        // The password comes from the environment, as on a box.
        schemaRegistry: { url: proxy.url, auth: { type: 'basic', username: 'gw-reg' }, requestTimeoutMs: 1000, retryMaxMs: 1000 },
      },
    },
    env: { GATEWAY_SCHEMA_REGISTRY_PASSWORD: 'registry-pass-123' },
  });
  t.after(() => gw.close());
  await gw.start();
  const sims: SimSummary[] = [];
  const simulate = async (prefix: string) => {
    const s = await runSimulation({ url: gw.url, devices: 5, qos: 1, messagesPerDevice: 40, deviceIdPrefix: prefix, inflightWindow: 8, drainTimeoutMs: 60_000 });
    assert.equal(s.acked, 200, `${prefix}: every publish acknowledged`);
    sims.push(s);
  };

  // 1. Registry down at start: acknowledged, buffered, nothing on Kafka, nothing dead-lettered.
  await simulate('a-');
  const device = await mqtt.connectAsync(gw.url, { clientId: 'meter-1', reconnectPeriod: 0 });
  await device.publishAsync('devices/meter-1/reading', '{"seq":1,"big":9223372036854775807,"temperature":21.5}', { qos: 1 });
  await device.endAsync();
  const waiting = await gw.waitForEvent('forward_waiting', 15_000);
  assert.equal(waiting['code'], 'GW_ERR_REGISTRY_UNREACHABLE');
  await sleep(1500);
  assert.equal((await kcatRead(kafka.brokers, topic)).length, 0, 'nothing is sent without a schema id');
  assert.equal((await kcatRead(kafka.brokers, dlqTopic)).length, 0, 'nothing is dead-lettered for it');
  assert.ok(proxy.requests().some((r) => r.outcome === 'unavailable'), 'the gateway asked the registry');

  // The registry comes back: all of it is delivered.
  proxy.setMode('forward');
  const first = await registryConsume({ brokers: kafka.brokers, topic, registry: registry.endpoint, count: 200, timeoutMs: 60_000 });
  assert.equal(first.length, 200);
  await gw.waitForEvent('forward_resumed', 15_000);

  // 2. Down in the middle (the proxy hangs): ids are known, records keep flowing.
  proxy.setMode('hang');
  await simulate('b-');
  const during = await registryConsume({ brokers: kafka.brokers, topic, registry: registry.endpoint, count: 400, timeoutMs: 60_000 });
  assert.equal(during.length, 400, 'a registry outage does not stop forwarding once ids are known');

  // 3. kill -9 and restart while the registry is still unreachable: ids from the buffer's cache.
  proxy.setMode('unavailable');
  await gw.kill();
  const logsBefore = gw.logs.length;
  await gw.start();
  await simulate('c-');
  const all = await registryConsume({ brokers: kafka.brokers, topic, registry: registry.endpoint, count: 600, timeoutMs: 60_000 });
  assert.equal(gw.logs.slice(logsBefore).some((l) => l.event === 'forward_waiting'), false, 'a restart without the registry forwards at once from cached ids');

  // Every acknowledged message, decoded by the independent consumer: keyed, in order, no loss.
  const report = ledgerOf(all, mergePerDevice(sims));
  assertNoLoss(report, { checkGaps: false });
  assert.equal(report.records, 600);
  assert.equal(report.duplicates, 0);
  const subject = await latestVersion(registry.endpoint, `${topic}-value`);
  assert.deepEqual([...new Set(all.map((r) => r.schemaId))], [subject.id], 'every record carries the id registered under <topic>-value');
  const sample = all[0]!.value as Envelope;
  assert.equal(typeof sample.receivedAt, 'number', 'receivedAt decodes as a timestamp-millis');
  assert.ok(Math.abs(sample.receivedAt - Date.now()) < 300_000);

  // The product's own auditor reads the registry format too (`edge-gateway audit --config`).
  proxy.setMode('forward');
  const expectFile = join(gw.dir, 'expect.json');
  writeFileSync(expectFile, JSON.stringify(mergePerDevice(sims)));
  // Asynchronously: the registry's proxy runs in this process and must keep answering.
  const audit = await new Promise<{ status: number | null; stdout: string; stderr: string }>((done) => {
    execFile(
      process.execPath,
      [join(repoRoot, 'build/gateway/src/main.js'), 'audit', '--config', gw.configPath, '--expect', expectFile, '--json', '--timeout-ms', '30000'],
      { env: { ...process.env, GATEWAY_SCHEMA_REGISTRY_PASSWORD: 'registry-pass-123' }, timeout: 90_000 },
      (err, stdout, stderr) => done({ status: err === null ? 0 : typeof err.code === 'number' ? err.code : null, stdout, stderr }),
    );
  });
  assert.equal(audit.status, 0, `audit: ${audit.stdout}\n${audit.stderr}`);
  const audited = JSON.parse(audit.stdout) as { ok: boolean; records: number; missingAcked: number; undecodable: number };
  assert.deepEqual([audited.ok, audited.records, audited.missingAcked, audited.undecodable], [true, 600, 0, 0]);

  // The typed route: its own subject and id, the long exact.
  const typed = await registryConsume({ brokers: kafka.brokers, topic: readings, registry: registry.endpoint, count: 1, timeoutMs: 30_000 });
  assert.equal(typed.length, 1);
  const reading = typed[0]!.value as Envelope;
  assert.equal(typed[0]!.key, 'meter-1');
  assert.deepEqual(reading.payload, { seq: 1, big: 9223372036854775807n, temperature: 21.5 });
  assert.equal(typed[0]!.schemaId, (await latestVersion(registry.endpoint, `${readings}-value`)).id);
  t.diagnostic(`600 telemetry + 1 typed record decoded by AvroDeserializer; ${proxy.requests().length} registry requests through the proxy`);
});

test('registry compatibility: refused at start (records wait), a compatible push drains them, an incompatible push is rejected and the old schema kept', { timeout: 240_000 }, async (t) => {
  const kafka = await sharedKafka();
  const { topic, dlqTopic } = uniqueTopics('regcompat');
  const configTopic = `${topic}.config`;
  const statusTopic = `${topic}.status`;
  await kafka.createTopics([topic, dlqTopic, statusTopic], 1);
  await kafka.createTopics([configTopic], 3);
  const registry = await startRegistry();
  t.after(() => registry.close());
  await registry.setCompatibility('BACKWARD');
  const GW = 'gw-regcompat';
  const subject = `${topic}-value`;

  const payloadSchema = (extra: unknown[]) => ({ ...READING, fields: [...READING.fields, ...extra] });
  const route = (extra: unknown[]) => [{ topic: 'devices/{deviceId}/reading', valueSchema: payloadSchema(extra) }];
  // What is on the subject already: the envelope with the plain Reading (registered by someone else).
  const v1 = createAvroEncoder({
    gatewayId: GW,
    defaultTopic: topic,
    routes: route([]),
    registry: { ids: { idOf: () => null, problem: () => null }, strategy: 'topic', dlqTopic },
  }).schemaRefs()[0]!;
  const v1Id = await registerSchema(registry.endpoint, subject, v1.schema);

  const keys = signingKeyPair();
  const [mqttPort] = await freePorts(1);
  const base = {
    gatewayId: GW,
    log: { level: 'info', statsIntervalSecs: 0 },
    // A field without a default: BACKWARD refuses it (new readers cannot read old records).
    mqtt: { host: '127.0.0.1', port: mqttPort, routes: route([{ name: 'pressure', type: 'double' }]) },
    kafka: { brokers: kafka.brokers, topic, dlqTopic, valueFormat: 'registry', schemaRegistry: { url: registry.url, retryMaxMs: 1000 } },
    admin: { port: 0 },
    control: {
      trustedKeys: [{ kid: 'ops-1', publicKey: keys.publicKey }],
      remoteConfig: { enabled: true, topic: configTopic, healthWindowMs: 8000, pollIntervalMs: 500 },
      status: { topic: statusTopic, heartbeatIntervalSecs: 2 },
    },
  };
  const gw = new GatewayProcess({ config: base });
  t.after(() => gw.close());
  (base as Record<string, unknown>)['buffer'] = { path: gw.dbPath };
  await gw.start();

  // Refused at start: the gateway keeps acknowledging and buffering; nothing is sent or dead-lettered.
  // A change of routes is live: the device stays connected through both pushes.
  const device = await mqtt.connectAsync(gw.url, { clientId: 'meter-2', reconnectPeriod: 0 });
  t.after(() => device.endAsync());
  for (let seq = 1; seq <= 5; seq++) await device.publishAsync('devices/meter-2/reading', JSON.stringify({ seq, big: seq, temperature: 20 + seq, pressure: 1000 + seq }), { qos: 1 });
  const unresolved = await gw.waitForEvent('registry_schema_unresolved', 15_000);
  assert.equal(unresolved['code'], 'GW_ERR_REGISTRY_INCOMPATIBLE');
  assert.equal(unresolved['subject'], subject);
  await gw.waitForEvent('forward_waiting', 15_000, (l) => l['code'] === 'GW_ERR_REGISTRY_INCOMPATIBLE');
  assert.equal((await kcatRead(kafka.brokers, topic)).length + (await kcatRead(kafka.brokers, dlqTopic)).length, 0);

  const partition = partitionForKey(GW, 3);
  const push = async (version: number, extra: unknown[]) => {
    const config = { ...structuredClone(base), mqtt: { host: '127.0.0.1', port: mqttPort, routes: route(extra) } };
    const jws = await signConfigDocument({ privateKeyPem: keys.privateKeyPem, kid: 'ops-1', gatewayId: GW, version, config });
    await kcatProduce(kafka.brokers, configTopic, partition, GW, jws);
  };
  // A compatible fix (a default): applied, and the waiting records drain under its new id.
  await push(1, [{ name: 'pressure', type: ['null', 'double'], default: null }]);
  const applied = await waitForGatewayStatus(kafka.brokers, statusTopic, GW, 'v1 applied', (s) => s.config.lastResult?.version === 1 && s.config.lastResult.state !== 'pending', 60_000);
  assert.equal(applied.config.lastResult?.state, 'applied', JSON.stringify(applied.config.lastResult));
  const drained = await registryConsume({ brokers: kafka.brokers, topic, registry: registry.endpoint, count: 5, timeoutMs: 60_000 });
  assert.deepEqual(drained.map((r) => (r.value as Envelope).payload), [1, 2, 3, 4, 5].map((seq) => ({ seq, big: seq, temperature: 20 + seq, pressure: 1000 + seq })));
  const v2 = await latestVersion(registry.endpoint, subject);
  assert.notEqual(v2.id, v1Id);
  assert.deepEqual([...new Set(drained.map((r) => r.schemaId))], [v2.id]);

  // An incompatible change (a new field without a default): rejected with the registry's reason; v2 stays.
  await push(2, [{ name: 'pressure', type: ['null', 'double'], default: null }, { name: 'altitude', type: 'double' }]);
  const rejected = await waitForGatewayStatus(kafka.brokers, statusTopic, GW, 'v2 rejected', (s) => s.config.lastResult?.version === 2 && s.config.lastResult.state !== 'pending', 60_000);
  assert.equal(rejected.config.lastResult?.state, 'rejected');
  assert.equal(rejected.config.lastResult?.code, 'GW_ERR_REGISTRY_INCOMPATIBLE');
  assert.match(rejected.config.lastResult?.reason ?? '', new RegExp(`subject "${subject.replace(/\./g, '\\.')}".*refuses|Incompatible`));
  t.diagnostic(`v2 rejected: ${rejected.config.lastResult?.reason ?? ''}`);
  assert.equal(rejected.config.version, 1, 'the running config stays v1');
  assert.equal((await latestVersion(registry.endpoint, subject)).id, v2.id, 'nothing new registered');
  await device.publishAsync('devices/meter-2/reading', JSON.stringify({ seq: 6, big: 6, temperature: 26, pressure: 1006, altitude: 5 }), { qos: 1 });
  const after = await registryConsume({ brokers: kafka.brokers, topic, registry: registry.endpoint, count: 6, timeoutMs: 60_000 });
  assert.deepEqual(after[5]!.value && (after[5]!.value as Envelope).payload, { seq: 6, big: 6, temperature: 26, pressure: 1006 });
  assert.equal(after[5]!.schemaId, v2.id);
  assert.equal((await kcatRead(kafka.brokers, dlqTopic)).length, 0, 'nothing was dead-lettered');
});

test('registry over mutual TLS with a bearer token from the environment; a wrong CA is a clear wait, not a loss', { timeout: 180_000 }, async (t) => {
  const kafka = await sharedKafka();
  const { topic, dlqTopic } = uniqueTopics('regtls');
  await kafka.createTopics([topic, dlqTopic], 1);
  const registry = await sharedRegistry();
  const pki = createTestPki('registry-gw');
  t.after(() => pki.close());
  const server = pki.server();
  const client = pki.client('gw-regtls');
  const proxy = await startRegistryAuthProxy({ target: registry.url, bearerToken: 'bearer-token-0042', tls: { certFile: server.cert, keyFile: server.key, caFile: pki.ca.cert, requireClientCert: true } });
  t.after(() => proxy.close());
  const other = createTestPki('registry-wrong-ca');
  t.after(() => other.close());

  const config = (caFile: string) => ({
    gatewayId: 'gw-regtls',
    log: { level: 'info', statsIntervalSecs: 0 },
    kafka: {
      brokers: kafka.brokers,
      topic,
      dlqTopic,
      valueFormat: 'registry',
      schemaRegistry: { url: proxy.url, auth: { type: 'bearer' }, tls: { caFile, certFile: client.cert, keyFile: client.key }, retryMaxMs: 1000 },
    },
  });
  const env = { GATEWAY_SCHEMA_REGISTRY_TOKEN: 'bearer-token-0042' };

  // A CA that did not sign the registry's certificate: records wait with the TLS reason.
  const wrong = new GatewayProcess({ config: config(other.ca.cert), env });
  t.after(() => wrong.close());
  await wrong.start();
  const dev = await mqtt.connectAsync(wrong.url, { clientId: 'tls-dev', reconnectPeriod: 0 });
  await dev.publishAsync('devices/tls-dev/telemetry', '{"seq":1}', { qos: 1 });
  await dev.endAsync();
  const waiting = await wrong.waitForEvent('registry_schema_unresolved', 15_000);
  assert.equal(waiting['code'], 'GW_ERR_REGISTRY_UNREACHABLE');
  assert.match(String(waiting['reason']), /certificate/i);
  assert.doesNotMatch(JSON.stringify(wrong.logs), /bearer-token-0042/, 'the token never reaches the log');
  await wrong.stop();

  // The right CA, on the same buffer: the waiting record and a new one arrive, decoded.
  const gw = new GatewayProcess({ config: config(pki.ca.cert), env, dir: wrong.dir });
  t.after(() => gw.close());
  await gw.start();
  const dev2 = await mqtt.connectAsync(gw.url, { clientId: 'tls-dev', reconnectPeriod: 0 });
  await dev2.publishAsync('devices/tls-dev/telemetry', '{"seq":2}', { qos: 1 });
  await dev2.endAsync();
  const records = await registryConsume({ brokers: kafka.brokers, topic, registry: registry.endpoint, count: 2, timeoutMs: 60_000 });
  assert.deepEqual(records.map((r) => Buffer.from((r.value as Envelope).payload as string, 'base64').toString()), ['{"seq":1}', '{"seq":2}']);
  assert.ok(proxy.requests().some((r) => r.outcome === 'forwarded' && r.path.includes(`/subjects/${topic}-value`)), 'registered through the mTLS + bearer proxy');
});
