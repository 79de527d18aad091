/**
 * Registry wire format in the encoder: 00 + big-endian id + the same Avro body as single-object;
 * subjects per naming strategy; not ready (and never encoding) until every schema has an id.
 */
import assert from 'node:assert/strict';
import { test } from 'node:test';
import type avro from 'avsc';
import { avroTypes } from '../../../gateway/src/encode/single-object.js';
import { createAvroEncoder, type EncoderRoute } from '../../../gateway/src/encode/avro-encoder.js';
import { readSchemaId, subjectFor, type SchemaRef } from '../../../gateway/src/encode/registry-subject.js';
import type { SchemaIdSource } from '../../../gateway/src/encode/schema-id-resolver.js';
import type { StoredRecord } from '../../../gateway/src/record.js';

const READING = { type: 'record', name: 'Reading', namespace: 'test', fields: [{ name: 'seq', type: 'long' }, { name: 't', type: 'double' }] };
const ROUTES: EncoderRoute[] = [
  { topic: 'devices/{deviceId}/telemetry' },
  { topic: 'devices/{deviceId}/reading', valueSchema: READING, kafkaTopic: 'readings' },
];

function ids(map: Map<string, number>): SchemaIdSource {
  return {
    idOf: (r: SchemaRef) => map.get(r.subject) ?? null,
    problem: (r: SchemaRef) => (map.has(r.subject) ? null : { code: 'GW_ERR_REGISTRY_UNREACHABLE', reason: `no id for ${r.subject}` }),
  };
}

const rec = (topic: string, payload: string): StoredRecord => ({ deviceId: 'dev-1', topic, qos: 1, receivedAt: 1_700_000_000_123, payload: Buffer.from(payload), seq: 9 });

test('subject names follow the strategy (topic by default), one per topic and schema, DLQ included', () => {
  const enc = createAvroEncoder({ gatewayId: 'gw', defaultTopic: 'telemetry.raw', routes: ROUTES, registry: { ids: ids(new Map()), strategy: 'topic', dlqTopic: 'telemetry.dlq' } });
  assert.deepEqual(enc.schemaRefs().map((r) => r.subject), ['telemetry.raw-value', 'readings-value', 'telemetry.dlq-value']);
  const byRecord = createAvroEncoder({ gatewayId: 'gw', defaultTopic: 'telemetry.raw', routes: ROUTES, registry: { ids: ids(new Map()), strategy: 'record', dlqTopic: 'telemetry.dlq' } });
  // The raw envelope on two topics is one subject under RecordNameStrategy.
  assert.deepEqual(byRecord.schemaRefs().map((r) => r.subject), ['io.edgegateway.telemetry.v1.Envelope', 'io.edgegateway.telemetry.v1.TypedEnvelope_test_Reading']);
  assert.equal(subjectFor('topic-record', 'readings', 'a.B'), 'readings-a.B');
  // Registered schemas keep logical types (timestamp-millis on receivedAt) and docs.
  const raw = JSON.parse(enc.schemaRefs()[0]!.schema) as { fields: Array<{ name: string; type: unknown }> };
  assert.deepEqual(raw.fields.find((f) => f.name === 'receivedAt')!.type, { type: 'long', logicalType: 'timestamp-millis' });
});

test('not ready until every schema has an id; then 00 + id + the single-object body', () => {
  const map = new Map<string, number>([['telemetry.raw-value', 7]]);
  const enc = createAvroEncoder({ gatewayId: 'gw', defaultTopic: 'telemetry.raw', routes: ROUTES, registry: { ids: ids(map), strategy: 'topic', dlqTopic: 'telemetry.dlq' } });
  assert.deepEqual(enc.ready(), { code: 'GW_ERR_REGISTRY_UNREACHABLE', reason: 'no id for readings-value' });
  map.set('readings-value', 0x01020304);
  map.set('telemetry.dlq-value', 300);
  assert.equal(enc.ready(), null);

  const plain = createAvroEncoder({ gatewayId: 'gw', defaultTopic: 'telemetry.raw', routes: ROUTES });
  for (const [topic, payload, id] of [['devices/dev-1/telemetry', 'hello', 7], ['devices/dev-1/reading', '{"seq":9007199254740993,"t":1.5}', 0x01020304]] as const) {
    const out = enc.encode(rec(topic, payload));
    const single = plain.encode(rec(topic, payload));
    assert.ok(out.ok && single.ok);
    assert.equal(readSchemaId(out.value), id);
    assert.deepEqual(out.value.subarray(0, 5), Buffer.from([0, (id >>> 24) & 255, (id >>> 16) & 255, (id >>> 8) & 255, id & 255]));
    assert.deepEqual(out.value.subarray(5), single.value.subarray(10), 'same Avro body as single-object');
  }
  const reading = enc.encode(rec('devices/dev-1/reading', '{"seq":9007199254740993,"t":1.5}'));
  assert.ok(reading.ok);
  const registered = JSON.parse(enc.schemaRefs()[1]!.schema) as avro.Schema;
  const decoded = avroTypes(registered).exactType.fromBuffer(reading.value.subarray(5)) as { payload: { seq: bigint; t: number } };
  assert.deepEqual({ ...decoded.payload }, { seq: 9007199254740993n, t: 1.5 });
  // The DLQ gets the raw envelope under the DLQ topic's id.
  assert.equal(readSchemaId(enc.encodeRaw(rec('devices/dev-1/reading', 'x'))), 300);
});

test('single-object format: ready at once, no subjects', () => {
  const enc = createAvroEncoder({ gatewayId: 'gw', defaultTopic: 'telemetry.raw', routes: ROUTES });
  assert.equal(enc.ready(), null);
  assert.deepEqual(enc.schemaRefs(), []);
});
