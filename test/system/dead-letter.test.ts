/**
 * Proves bad payloads hurt nobody: on a route with a typed Avro schema, malformed payloads (bad
 * JSON, wrong field types) interleaved with good ones land in the dead-letter topic with the
 * reason in a header and in the local dead_letters table, while the same devices' good messages
 * arrive as typed records, complete and in order.
 */
import { test } from 'node:test';
import assert from 'node:assert/strict';
import Database from 'better-sqlite3';
import { runSimulation } from '../../firmware-sim/src/load-generator.js';
import { sharedKafka } from '../kafka/shared-kafka.js';
import { GatewayProcess } from '../support/gateway-process.js';
import { uniqueTopics } from '../support/topics.js';
import { auditTopic } from '../support/audit.js';

const telemetrySchema = {
  type: 'record',
  name: 'Telemetry',
  namespace: 'com.example.sensors',
  fields: [
    { name: 'deviceId', type: 'string' },
    { name: 'seq', type: 'long' },
    { name: 'ts', type: { type: 'long', logicalType: 'timestamp-millis' } },
    { name: 'temperature', type: 'double' },
    { name: 'humidity', type: 'double' },
    { name: 'battery', type: 'double' },
    { name: 'firmwareVersion', type: 'string' },
    { name: 'uptimeSecs', type: 'long' },
    { name: 'note', type: ['null', 'string'], default: null },
  ],
};

test('malformed payloads go to the DLQ with a reason; good ones from the same device arrive typed and in order', async (t) => {
  const kafka = await sharedKafka();
  const { topic, dlqTopic } = uniqueTopics('dlq');
  await kafka.createTopics([topic, dlqTopic], 3);
  const routes = [{ topic: 'devices/{deviceId}/telemetry', valueSchema: telemetrySchema }];
  const gw = new GatewayProcess({ config: { mqtt: { routes }, kafka: { brokers: kafka.brokers, topic, dlqTopic } } });
  t.after(() => gw.close());
  await gw.start();

  const sim = await runSimulation({ url: gw.url, devices: 10, qos: 1, messagesPerDevice: 100, malformedEvery: 10 });
  assert.equal(sim.acked, 1000);
  const malformed = Object.values(sim.perDevice).reduce((n, d) => n + d.malformedSeqs.length, 0);
  assert.equal(malformed, 100);

  const typed: Array<{ deviceId: string; temperature: unknown; seq: unknown }> = [];
  const dead: Array<{ deviceId: string; reason?: string; code?: string; seqHeader?: string }> = [];
  const report = await auditTopic({
    brokers: kafka.brokers,
    topic,
    dlqTopic,
    routes,
    sim,
    timeoutMs: 60_000,
    onRecord: (env) => {
      const p = env.payload as Record<string, unknown>;
      typed.push({ deviceId: env.deviceId, temperature: p['temperature'], seq: p['seq'] });
    },
    onDeadLetter: (env, headers) => dead.push({ deviceId: env.deviceId, reason: headers['x-dlq-reason'], code: headers['x-dlq-code'], seqHeader: headers['x-gateway-seq'] }),
  });

  assert.equal(report.records, 900, 'the 900 good messages are on the telemetry topic');
  assert.equal(report.dlq.records, 100, 'the 100 bad ones are on the dead-letter topic');
  assert.equal(report.dlq.malformedFound, 100);
  assert.equal(report.gaps, 0, 'dead-lettered seqs are accounted for; no good message missing');
  assert.equal(report.outOfOrder, 0);
  assert.equal(report.ok, true);
  assert.ok(typed.every((r) => typeof r.temperature === 'number' && typeof r.seq === 'number'), 'good payloads decoded as the typed record');
  assert.deepEqual(
    Object.keys(report.dlq.byCode).sort(),
    ['GW_ERR_ENCODE_PAYLOAD_NOT_JSON', 'GW_ERR_ENCODE_SCHEMA_MISMATCH'],
    'both kinds of bad payload are reported with their own code',
  );
  for (const d of dead) {
    assert.ok(d.reason && d.reason.length > 10, `reason header present: ${d.reason}`);
    assert.ok(d.seqHeader && Number(d.seqHeader) > 0);
  }
  assert.ok(dead.some((d) => /temperature/.test(d.reason ?? '')), 'schema mismatch names the field');

  await gw.stop();
  const db = new Database(gw.dbPath, { readonly: true });
  t.after(() => db.close());
  const rows = db.prepare('SELECT code, reason FROM dead_letters').all() as Array<{ code: string; reason: string }>;
  assert.equal(rows.length, 100, 'dead letters are kept locally too');
  assert.equal((db.prepare('SELECT count(*) AS n FROM records').get() as { n: number }).n, 0, 'buffer drained');
});
