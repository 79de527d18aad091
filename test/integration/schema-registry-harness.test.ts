/**
 * The Schema Registry test harness on the real things: Apicurio Registry (ccompat API) from
 * test/registry, Kafka from test/kafka, the auth/TLS proxy and the independent Python decoder.
 * Proves: a schema registered over HTTPS + Basic auth through the proxy gets an id; a record
 * framed as magic 0 + id + Avro body, produced to Kafka, is decoded back by confluent-kafka's
 * AvroDeserializer to the values sent (a long beyond 2^53 exact, timestamp-millis as epoch
 * millis, bytes as base64); BACKWARD refuses a new field without default with a 409 and the old
 * version stays latest; a subject's FORWARD overrides the global level, a subject's NONE does not; Bearer + mTLS on the proxy, its 401,
 * 503 and hang modes; a record with an unknown id makes the decoder fail loudly; stop + start
 * serves again on the same port with empty storage; sharedRegistry() is one per process.
 */
import assert from 'node:assert/strict';
import { after, test } from 'node:test';
import avro from 'avsc';
import { quietKafka } from '../kafka/create-topics.js';
import { sharedKafka } from '../kafka/shared-kafka.js';
import { CcompatError, ccompatRequest, latestVersion, registerSchema, schemaById, setCompatibility, type RegistryEndpoint } from '../registry/ccompat-client.js';
import { startRegistry, type SchemaRegistry } from '../registry/registry-harness.js';
import { sharedRegistry } from '../registry/shared-registry.js';
import { frameWireFormat } from '../registry/wire-format.js';
import { createTestPki } from '../support/pki.js';
import { startRegistryAuthProxy } from '../support/registry-auth-proxy.js';
import { RegistryConsumeError, registryConsume } from '../support/registry-consumer.js';
import { uniqueTopics } from '../support/topics.js';

const READING_V1 = {
  type: 'record',
  name: 'Reading',
  namespace: 'eg.test',
  fields: [
    { name: 'device', type: 'string' },
    { name: 'seq', type: 'long' },
    { name: 'ts', type: { type: 'long', logicalType: 'timestamp-millis' } },
    { name: 'temp', type: 'double' },
    { name: 'raw', type: 'bytes' },
    { name: 'note', type: ['null', 'string'], default: null },
  ],
};

/** avsc's long is a double; this one reads and writes BigInt, for values beyond 2^53. */
const bigLong = avro.types.LongType.__with({
  fromBuffer: (buf: Buffer) => buf.readBigInt64LE(0),
  toBuffer: (n: bigint) => {
    const buf = Buffer.alloc(8);
    buf.writeBigInt64LE(n);
    return buf;
  },
  fromJSON: (v: unknown) => BigInt(v as string),
  toJSON: (n: bigint) => n.toString(),
  isValid: (v: unknown) => typeof v === 'bigint',
  compare: (a: bigint, b: bigint) => (a < b ? -1 : a > b ? 1 : 0),
});
const readingType = avro.Type.forSchema(READING_V1 as avro.Schema, { typeHook: (s) => (s === 'long' ? bigLong : undefined) });

let registry: Promise<SchemaRegistry> | undefined;
/** One Apicurio for this file (the stop/start test uses its own). */
function fileRegistry(): Promise<SchemaRegistry> {
  registry ??= startRegistry();
  return registry;
}
after(async () => {
  if (registry !== undefined) await (await registry).close();
});

async function produceWireFormat(brokers: string[], topic: string, records: Array<{ key: string; value: Buffer }>): Promise<void> {
  const producer = quietKafka(brokers, 'eg-test-registry').producer();
  await producer.connect();
  try {
    await producer.send({ topic, acks: -1, messages: records });
  } finally {
    await producer.disconnect();
  }
}

test('HTTPS + Basic through the proxy: register, produce wire format, decode with confluent-kafka', { timeout: 60_000 }, async (t) => {
  const [kafka, reg] = await Promise.all([sharedKafka(), fileRegistry()]);
  await reg.setCompatibility('BACKWARD');
  const pki = createTestPki('registry');
  t.after(() => pki.close());
  const server = pki.server();
  const basicAuth = { username: 'gw', password: 'gw-secret' };
  const proxy = await startRegistryAuthProxy({ target: reg.url, basicAuth, tls: { certFile: server.cert, keyFile: server.key } });
  t.after(() => proxy.close());
  const ep: RegistryEndpoint = { url: proxy.url, basicAuth, caFile: pki.ca.cert };

  const anonymous = await ccompatRequest({ url: proxy.url, caFile: pki.ca.cert }, 'GET', '/subjects');
  assert.equal(anonymous.status, 401);
  assert.equal(anonymous.text, '{"error_code":40101,"message":"Unauthorized"}');
  const wrong = await ccompatRequest({ ...ep, basicAuth: { username: 'gw', password: 'nope' } }, 'GET', '/subjects');
  assert.equal(wrong.status, 401);

  const { topic } = uniqueTopics('registry');
  const subject = `${topic}-value`;
  const id = await registerSchema(ep, subject, READING_V1);
  assert.equal(await registerSchema(ep, subject, READING_V1), id, 'the same schema again: same id');
  assert.deepEqual(JSON.parse(await schemaById(ep, id)), READING_V1);

  const sent = [
    { device: 'dev-1', seq: 2n ** 53n + 1n, ts: 1_733_512_345_678, temp: 21.5, raw: Buffer.from([0, 1, 0xfe, 0xff]), note: null },
    { device: 'dev-2', seq: 2n ** 63n - 1n, ts: 0, temp: -0.25, raw: Buffer.alloc(0), note: 'ünïcode' },
  ];
  await kafka.createTopics([topic], 1);
  await produceWireFormat(
    kafka.brokers,
    topic,
    sent.map((v) => ({ key: v.device, value: frameWireFormat(id, readingType.toBuffer(v)) })),
  );

  const got = await registryConsume({ brokers: kafka.brokers, topic, registry: ep, count: 2, timeoutMs: 20_000 });
  assert.deepEqual(
    got,
    sent.map((v, i) => ({
      partition: 0,
      offset: i,
      key: v.device,
      schemaId: id,
      value: { ...v, raw: v.raw.toString('base64') },
    })),
  );
  assert.equal(typeof (got[0]!.value as { seq: unknown }).seq, 'bigint', 'longs beyond 2^53 stay exact');
  assert.ok(proxy.requests().some((r) => r.outcome === 'forwarded' && r.path === `/apis/ccompat/v7/schemas/ids/${id}`), 'the decoder fetched the schema through the proxy');
});

test('BACKWARD refuses a new field without default (409), the old version stays latest; per subject FORWARD lets it in, NONE does not', { timeout: 30_000 }, async () => {
  const reg = await fileRegistry();
  await reg.setCompatibility('BACKWARD');
  const ep = reg.endpoint;
  const subject = `${uniqueTopics('compat').topic}-value`;

  const unknown = await ccompatRequest(ep, 'POST', `/compatibility/subjects/${subject}/versions/latest`, { schema: JSON.stringify(READING_V1) });
  assert.equal(unknown.status, 404, 'compatibility check against an unknown subject');
  assert.equal((unknown.body as { error_code: number }).error_code, 40402);

  const v1 = await registerSchema(ep, subject, READING_V1);
  const v2 = { ...READING_V1, fields: [...READING_V1.fields, { name: 'site', type: 'string' }] };
  const check = await ccompatRequest(ep, 'POST', `/compatibility/subjects/${subject}/versions/latest`, { schema: JSON.stringify(v2) });
  assert.deepEqual([check.status, check.body], [200, { is_compatible: false, reason: null }]);
  const refused = await registerSchema(ep, subject, v2).then(
    () => assert.fail('an incompatible schema was registered'),
    (err: unknown) => err,
  );
  assert.ok(refused instanceof CcompatError);
  assert.equal(refused.status, 409);
  assert.equal((refused.body as { error_code: number }).error_code, 409);
  assert.match((refused.body as { message: string }).message, /RuleViolationException: Incompatible artifact: .* site at \/fields\/6/);
  const latest = await latestVersion(ep, subject);
  assert.deepEqual([latest.id, latest.version], [v1, 1]);

  // Apicurio quirk: a subject's NONE means "no subject rule", so the global BACKWARD still applies.
  await setCompatibility(ep, 'NONE', subject);
  await assert.rejects(registerSchema(ep, subject, v2), (e: unknown) => e instanceof CcompatError && e.status === 409);
  await setCompatibility(ep, 'FORWARD', subject); // a subject level other than NONE does override
  const v2id = await registerSchema(ep, subject, v2);
  assert.notEqual(v2id, v1);
  assert.equal((await latestVersion(ep, subject)).version, 2);
});

test('proxy: Bearer + mTLS, 503 and hang modes; the decoder fails loudly on an unknown schema id', { timeout: 60_000 }, async (t) => {
  const [kafka, reg] = await Promise.all([sharedKafka(), fileRegistry()]);
  const pki = createTestPki('registry-mtls');
  t.after(() => pki.close());
  const server = pki.server();
  const client = pki.client('gateway');
  const bearerToken = 'test-token-4b1d';
  const proxy = await startRegistryAuthProxy({ target: reg.url, bearerToken, tls: { certFile: server.cert, keyFile: server.key, caFile: pki.ca.cert, requireClientCert: true } });
  t.after(() => proxy.close());
  const ep: RegistryEndpoint = { url: proxy.url, bearerToken, caFile: pki.ca.cert, certFile: client.cert, keyFile: client.key };

  await assert.rejects(ccompatRequest({ url: proxy.url, bearerToken, caFile: pki.ca.cert }, 'GET', '/subjects'), 'no client certificate: the TLS handshake fails');
  assert.equal((await ccompatRequest({ ...ep, bearerToken: 'other' }, 'GET', '/subjects')).status, 401);
  assert.equal((await ccompatRequest(ep, 'GET', '/subjects')).status, 200);

  proxy.setMode('unavailable');
  const down = await ccompatRequest(ep, 'GET', '/subjects');
  assert.deepEqual([down.status, (down.body as { error_code: number }).error_code], [503, 50301]);
  proxy.setMode('hang');
  await assert.rejects(ccompatRequest({ ...ep, timeoutMs: 300 }, 'GET', '/subjects'), /timed out/);
  proxy.setMode('forward');
  assert.equal((await ccompatRequest(ep, 'GET', '/subjects')).status, 200);

  const { topic } = uniqueTopics('registry-bad');
  const id = await registerSchema(ep, `${topic}-value`, READING_V1);
  const good = { device: 'dev-3', seq: 7n, ts: 1, temp: 1, raw: Buffer.from('x'), note: null };
  await kafka.createTopics([topic], 1);
  await produceWireFormat(kafka.brokers, topic, [
    { key: 'dev-3', value: frameWireFormat(id, readingType.toBuffer(good)) },
    { key: 'dev-4', value: frameWireFormat(987_654, readingType.toBuffer(good)) },
  ]);
  const failed = await registryConsume({ brokers: kafka.brokers, topic, registry: ep, count: 2, timeoutMs: 20_000 }).then(
    () => assert.fail('a record with an unknown schema id was decoded'),
    (err: unknown) => err,
  );
  assert.ok(failed instanceof RegistryConsumeError);
  t.diagnostic(failed.message);
  assert.equal(failed.exitCode, 2);
  assert.match(failed.stderr, /@1: decode with schema id 987654 failed/);
  assert.deepEqual(failed.records.map((r) => [r.key, r.schemaId, (r.value as { seq: unknown }).seq]), [['dev-3', id, 7]], 'the good record decoded (Bearer + mTLS) before the failure');
});

test('stop + start on the same port: ready again, storage empty (H2 in memory)', { timeout: 60_000 }, async (t) => {
  const reg = await startRegistry();
  t.after(() => reg.close());
  const proxy = await startRegistryAuthProxy({ target: reg.url });
  t.after(() => proxy.close());
  const subject = 'restart-value';
  const id = await registerSchema(reg.endpoint, subject, READING_V1);

  await reg.stop();
  assert.equal(reg.isRunning(), false);
  await assert.rejects(ccompatRequest(reg.endpoint, 'GET', '/subjects'), /ECONNREFUSED/);
  const viaProxy = await ccompatRequest({ url: proxy.url }, 'GET', '/subjects');
  assert.equal(viaProxy.status, 502, 'the proxy answers 502 while the registry is down');

  const t0 = Date.now();
  await reg.start();
  t.diagnostic(`restart on port ${reg.port}: ${Date.now() - t0} ms`);
  assert.equal(reg.isRunning(), true);
  assert.deepEqual((await ccompatRequest(reg.endpoint, 'GET', '/subjects')).body, [], 'every subject is gone');
  await assert.rejects(schemaById(reg.endpoint, id), (e: unknown) => e instanceof CcompatError && e.status === 404);
  assert.equal(await registerSchema(reg.endpoint, subject, READING_V1), 1, 'ids start again at 1');
  assert.equal((await ccompatRequest({ url: proxy.url }, 'GET', '/subjects')).status, 200);

  await reg.close();
  await reg.close(); // safe twice
});

test('sharedRegistry: one per process', { timeout: 60_000 }, async () => {
  const a = await sharedRegistry();
  assert.equal(await sharedRegistry(), a);
  const subject = `${uniqueTopics('shared').topic}-value`;
  await a.setCompatibility('BACKWARD', subject);
  assert.ok((await registerSchema(a.endpoint, subject, READING_V1)) > 0);
});
