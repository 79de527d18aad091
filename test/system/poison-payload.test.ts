/**
 * Proves the "one poisoned row bricks it" regression is gone, against the real gateway process
 * and real Kafka: on a route with a typed Avro schema, JSON payloads nested 10,000 levels deep
 * (~20 KB each: one with the deep array inside a field, the shape whose dead-letter preview used
 * to overflow the stack in the forward pump and exit the process, then a top-level deep array and
 * a deep object) are PUBACKed among good messages of the same and another device. The gateway
 * stays up; the bad ones arrive on the DLQ topic with their x-dlq-code header and in the local
 * dead_letters table; the good ones arrive typed, complete and in per-device order; and a message
 * published afterwards is still forwarded.
 */
import { test } from 'node:test';
import assert from 'node:assert/strict';
import Database from 'better-sqlite3';
import mqtt from 'mqtt';
import { sharedKafka } from '../kafka/shared-kafka.js';
import { GatewayProcess } from '../support/gateway-process.js';
import { uniqueTopics } from '../support/topics.js';
import { auditTopic } from '../support/audit.js';

const readingSchema = {
  type: 'record',
  name: 'Reading',
  namespace: 'com.example.poison',
  fields: [
    { name: 'seq', type: 'long' },
    { name: 'temperature', type: 'double' },
  ],
};

const DEPTH = 10_000;
const POISONS = [
  `{"seq":3,"temperature":${'['.repeat(DEPTH)}${']'.repeat(DEPTH)}}`,
  '['.repeat(DEPTH) + ']'.repeat(DEPTH),
  '{"a":'.repeat(DEPTH) + '1' + '}'.repeat(DEPTH),
];

function countRows(dbPath: string, sql: string): number {
  const db = new Database(dbPath, { readonly: true });
  try {
    return (db.prepare(sql).get() as { n: number }).n;
  } finally {
    db.close();
  }
}

async function waitUntil(cond: () => boolean, what: string, timeoutMs: number): Promise<void> {
  const deadline = Date.now() + timeoutMs;
  while (!cond()) {
    if (Date.now() > deadline) throw new Error(`timed out waiting for ${what}`);
    await new Promise((r) => setTimeout(r, 100));
  }
}

test('10,000-deep JSON payloads are dead-lettered with a code; the gateway stays up and forwards the rest in order', async (t) => {
  const kafka = await sharedKafka();
  const { topic, dlqTopic } = uniqueTopics('poison');
  await kafka.createTopics([topic, dlqTopic], 3);
  const routes = [{ topic: 'devices/{deviceId}/telemetry', valueSchema: readingSchema }];
  const gw = new GatewayProcess({ config: { mqtt: { routes }, kafka: { brokers: kafka.brokers, topic, dlqTopic, lingerMs: 0 } } });
  t.after(() => gw.close());
  await gw.start();

  const a = await mqtt.connectAsync(gw.url, { clientId: 'dev-a', clean: true, protocolVersion: 4, reconnectPeriod: 0 });
  t.after(() => a.endAsync(true));
  const b = await mqtt.connectAsync(gw.url, { clientId: 'dev-b', clean: true, protocolVersion: 4, reconnectPeriod: 0 });
  t.after(() => b.endAsync(true));
  const good = (seq: number) => JSON.stringify({ seq, temperature: 20 + seq / 10 });
  // Interleaved, each PUBACK awaited: dev-a 1, 2, poison x3, 3, 4 (poisons between its good ones), dev-b 1..4.
  for (const [client, id, payload] of [
    [a, 'dev-a', good(1)],
    [b, 'dev-b', good(1)],
    [a, 'dev-a', good(2)],
    [a, 'dev-a', POISONS[0]!],
    [b, 'dev-b', good(2)],
    [a, 'dev-a', POISONS[1]!],
    [a, 'dev-a', POISONS[2]!],
    [a, 'dev-a', good(3)],
    [b, 'dev-b', good(3)],
    [a, 'dev-a', good(4)],
    [b, 'dev-b', good(4)],
  ] as const) {
    await client.publishAsync(`devices/${id}/telemetry`, payload, { qos: 1 });
  }
  assert.ok(POISONS.every((p) => p.length >= 20_000 && p.length <= 60_010), 'each poison is 20-60 KB');

  await waitUntil(() => countRows(gw.dbPath, 'SELECT count(*) AS n FROM records') === 0 || !gw.running, 'buffer drained', 60_000);
  assert.equal(gw.running, true, 'the gateway process is still up after forwarding the poison rows');
  assert.ok(!gw.logs.some((l) => l.event === 'crash' || l.level >= 60), 'no fatal log line');

  // Still serving: a message published after the poisons is forwarded too.
  await b.publishAsync('devices/dev-b/telemetry', good(5), { qos: 1 });
  await waitUntil(() => countRows(gw.dbPath, 'SELECT count(*) AS n FROM records') === 0, 'late message forwarded', 30_000);

  const typed = new Map<string, number[]>();
  const dead: Array<{ deviceId: string; code?: string; reason?: string; payload: Buffer }> = [];
  const report = await auditTopic({
    brokers: kafka.brokers,
    topic,
    dlqTopic,
    routes,
    timeoutMs: 30_000,
    onRecord: (env) => {
      const p = env.payload as { seq: number; temperature: number };
      assert.equal(p.temperature, 20 + p.seq / 10, 'typed payload decoded');
      typed.set(env.deviceId, [...(typed.get(env.deviceId) ?? []), Number(p.seq)]);
    },
    onDeadLetter: (env, headers) => dead.push({ deviceId: env.deviceId, code: headers['x-dlq-code'], reason: headers['x-dlq-reason'], payload: env.payload as Buffer }),
  });
  assert.deepEqual(typed.get('dev-a'), [1, 2, 3, 4], 'dev-a: every good message, in order');
  assert.deepEqual(typed.get('dev-b'), [1, 2, 3, 4, 5], 'dev-b: every good message, in order');
  assert.equal(report.records, 9);
  assert.equal(dead.length, 3, 'the three poisons are on the DLQ topic');
  for (const d of dead) {
    assert.equal(d.deviceId, 'dev-a');
    assert.equal(d.code, 'GW_ERR_ENCODE_PAYLOAD_TOO_DEEP');
    assert.match(d.reason ?? '', /deeper than 64 levels/);
  }
  assert.deepEqual(
    dead.map((d) => Buffer.from(d.payload).toString('utf8')).sort(),
    [...POISONS].sort(),
    'the DLQ carries the original bytes',
  );

  assert.equal(await gw.stop(), 0, 'graceful stop still works');
  const db = new Database(gw.dbPath, { readonly: true });
  t.after(() => db.close());
  const rows = db.prepare('SELECT device_id AS deviceId, code, length(payload) AS bytes FROM dead_letters ORDER BY id').all() as Array<{ deviceId: string; code: string; bytes: number }>;
  assert.deepEqual(
    rows.map((r) => [r.deviceId, r.code, r.bytes]),
    POISONS.map((p) => ['dev-a', 'GW_ERR_ENCODE_PAYLOAD_TOO_DEEP', Buffer.byteLength(p)]),
    'dead_letters holds each poison, whole',
  );
});
