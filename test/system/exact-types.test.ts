/**
 * Proves issue 12 (exact types) end to end: a real gateway process, real MQTT publishes, real
 * Kafka, read back with the auditor's decoder (kafkajs + exact longs).
 * 1. {"seq": 9223372036854775807} on a typed route arrives, and decodes as exactly
 *    9223372036854775807n (it used to be dead-lettered).
 * 2. An unknown field (`humidity`) under each unknownFields mode: drop -> the record arrives
 *    without it, counted in /metrics and logged; reject -> the dead-letter topic with
 *    GW_ERR_ENCODE_UNKNOWN_FIELD naming it; extra -> the record carries extra {humidity: "41.5"}.
 * 3. `schemas export` writes receivedAt with logicalType timestamp-millis, and the fingerprint it
 *    prints is the one on the wire (logicalType is not in the canonical form).
 */
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { execFileSync } from 'node:child_process';
import { readFileSync, readdirSync } from 'node:fs';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import mqtt from 'mqtt';
import type { EncoderRoute } from '../../gateway/src/encode/avro-encoder.js';
import type { DecodedEnvelope } from '../../gateway/src/encode/envelope-schema.js';
import { sharedKafka } from '../kafka/shared-kafka.js';
import { auditTopic } from '../support/audit.js';
import { GatewayProcess } from '../support/gateway-process.js';
import { parsePrometheusText, sampleValue } from '../support/prometheus-text.js';
import { uniqueTopics } from '../support/topics.js';
import { sleep } from '../support/wait.js';

const SCHEMA = {
  type: 'record',
  name: 'Reading',
  namespace: 'com.example.exact',
  fields: [
    { name: 'seq', type: 'long' },
    { name: 'temperature', type: 'double' },
  ],
};

test('longs beyond 2^53 arrive exact; unknown fields are dropped and counted, rejected, or kept in extra; exported schema keeps timestamp-millis', async (t) => {
  const kafka = await sharedKafka();
  const { topic, dlqTopic } = uniqueTopics('exact');
  await kafka.createTopics([topic, dlqTopic], 1);
  const routes: EncoderRoute[] = [
    { topic: 'sensors/{deviceId}/drop', valueSchema: SCHEMA },
    { topic: 'sensors/{deviceId}/reject', valueSchema: SCHEMA, unknownFields: 'reject' },
    { topic: 'sensors/{deviceId}/extra', valueSchema: SCHEMA, unknownFields: 'extra' },
  ];
  const gw = new GatewayProcess({ config: { gatewayId: 'gw-exact', mqtt: { routes }, kafka: { brokers: kafka.brokers, topic, dlqTopic } } });
  t.after(() => gw.close());
  await gw.start();

  const client = await mqtt.connectAsync(gw.url, { clientId: 'dev-x', clean: true, protocolVersion: 4, reconnectPeriod: 0 });
  t.after(() => client.endAsync());
  await client.publishAsync('sensors/dev-x/drop', '{"seq":9223372036854775807,"temperature":21.5}', { qos: 1 });
  await client.publishAsync('sensors/dev-x/drop', '{"seq":2,"temperature":22.5,"humidity":41.5}', { qos: 1 });
  await client.publishAsync('sensors/dev-x/reject', '{"seq":3,"temperature":23.5,"humidity":41.5}', { qos: 1 });
  await client.publishAsync('sensors/dev-x/extra', '{"seq":4,"temperature":24.5,"humidity":41.5}', { qos: 1 });

  // Read back until the three typed records and the one dead letter are there.
  let records: Array<{ env: DecodedEnvelope }> = [];
  let dead: Array<{ env: DecodedEnvelope; headers: Record<string, string> }> = [];
  const deadline = Date.now() + 60_000;
  while (records.length < 3 || dead.length < 1) {
    assert.ok(Date.now() < deadline, `read back ${records.length} records and ${dead.length} dead letters within 60 s`);
    records = [];
    dead = [];
    await auditTopic({
      brokers: kafka.brokers,
      topic,
      dlqTopic,
      routes,
      timeoutMs: 5_000,
      onRecord: (env) => records.push({ env }),
      onDeadLetter: (env, headers) => dead.push({ env, headers }),
    });
    if (records.length < 3 || dead.length < 1) await sleep(500);
  }
  // Plain objects (avsc decodes into record classes) so deepEqual compares fields only.
  const byRoute = (suffix: string) => records.filter((r) => r.env.topic.endsWith(suffix)).map((r) => ({ ...(r.env.payload as Record<string, unknown>) }));

  // 1. Exact 64-bit value.
  const dropped = byRoute('/drop');
  assert.equal(dropped.length, 2);
  assert.equal(dropped[0]!['seq'], 9223372036854775807n, 'the max long arrives exactly, as a BigInt');
  assert.equal(dropped[0]!['temperature'], 21.5);

  // 2a. drop: sent without the field, counted and logged.
  assert.deepEqual(dropped[1], { seq: 2, temperature: 22.5 });
  await gw.waitForEvent('admin_listening', 20_000);
  const metrics = await parsePrometheusText(await (await fetch(`http://127.0.0.1:${gw.adminPort}/metrics`)).text());
  assert.equal(sampleValue(metrics, 'gateway_forward_unknown_fields_dropped_total'), 1, 'the dropped field is counted');
  assert.equal(sampleValue(metrics, 'gateway_forward_unknown_field_records_total'), 1);
  const log = await gw.waitForEvent('unknown_fields_dropped', 5_000);
  assert.deepEqual(log['fields'], ['humidity']);

  // 2b. reject: the dead-letter topic, with the code and the field named.
  assert.equal(dead.length, 1);
  assert.equal(dead[0]!.headers['x-dlq-code'], 'GW_ERR_ENCODE_UNKNOWN_FIELD');
  assert.match(dead[0]!.headers['x-dlq-reason'] ?? '', /humidity/);
  assert.equal(Buffer.from(dead[0]!.env.payload as Buffer).toString(), '{"seq":3,"temperature":23.5,"humidity":41.5}', 'the DLQ keeps the payload as received');
  assert.equal(byRoute('/reject').length, 0);

  // 2c. extra: kept as JSON text under its name.
  assert.deepEqual(byRoute('/extra'), [{ seq: 4, temperature: 24.5, extra: { humidity: '41.5' } }]);

  // 3. The exported schemas: receivedAt keeps timestamp-millis; printed fingerprints are the wire's.
  const out = join(gw.dir, 'schemas');
  const printed = execFileSync(process.execPath, [fileURLToPath(new URL('../../gateway/src/main.js', import.meta.url)), 'schemas', 'export', out, '--config', gw.configPath], { encoding: 'utf8' });
  const files = readdirSync(out).filter((f) => f.endsWith('.avsc'));
  assert.equal(files.length, 3, `raw + one per distinct typed schema (drop and reject share one): ${files.join(', ')}`);
  for (const f of files) {
    const schema = JSON.parse(readFileSync(join(out, f), 'utf8')) as { fields: Array<{ name: string; type: unknown }> };
    assert.deepEqual(schema.fields.find((x) => x.name === 'receivedAt')!.type, { type: 'long', logicalType: 'timestamp-millis' }, f);
  }
  const wire = await wireFingerprints(kafka.brokers, topic);
  const exportedFingerprints = [...printed.matchAll(/wire LE hex\)=([0-9a-f]{16})/g)].map((m) => m[1]);
  for (const fp of wire) assert.ok(exportedFingerprints.includes(fp), `wire fingerprint ${fp} is one schemas export printed: ${printed}`);
});

/** The fingerprints (wire LE hex) of the first three records on a topic. */
async function wireFingerprints(brokers: readonly string[], topic: string): Promise<Set<string>> {
  const { Kafka, logLevel } = await import('kafkajs');
  const kafka = new Kafka({ clientId: 'exact-types-test', brokers: [...brokers], logLevel: logLevel.NOTHING });
  const consumer = kafka.consumer({ groupId: `exact-types-${Date.now()}` });
  const seen = new Set<string>();
  await consumer.connect();
  try {
    await consumer.subscribe({ topic, fromBeginning: true });
    let n = 0;
    await new Promise<void>((resolve) => {
      void consumer.run({
        eachMessage: async ({ message }) => {
          if (message.value) seen.add(message.value.subarray(2, 10).toString('hex'));
          if (++n >= 3) resolve();
        },
      });
    });
  } finally {
    await consumer.disconnect();
  }
  return seen;
}
