/**
 * Issue 12, exact types: logical types survive into the exported schema without changing the
 * fingerprint; longs beyond 2^53 are written and read exactly; undeclared JSON fields are
 * dropped (and reported), rejected, or kept in `extra`, as the route says.
 */
import assert from 'node:assert/strict';
import { test } from 'node:test';
import avro from 'avsc';
import { createAvroEncoder, type AvroEncoder, type EncoderRoute } from '../../../gateway/src/encode/avro-encoder.js';
import { crc64Avro } from '../../../gateway/src/encode/crc64-avro.js';
import { RAW_ENVELOPE_SCHEMA } from '../../../gateway/src/encode/envelope-schema.js';
import { mayHoldUnsafeInteger, parseJsonExact } from '../../../gateway/src/encode/exact-numbers.js';
import type { EncodeOutcome } from '../../../gateway/src/encode/encoder.js';
import { validateConfig } from '../../../gateway/src/config/load-config.js';
import type { StoredRecord } from '../../../gateway/src/record.js';

const SCHEMA = {
  type: 'record',
  name: 'Telemetry',
  namespace: 'test.exact',
  fields: [
    { name: 'seq', type: 'long' },
    { name: 'temperature', type: 'double' },
    { name: 'counter', type: ['null', 'long'], default: null },
    { name: 'ts', type: { type: 'long', logicalType: 'timestamp-millis' }, default: 0 },
    { name: 'price', type: { type: 'bytes', logicalType: 'decimal', precision: 9, scale: 2 }, default: '' },
    {
      name: 'location',
      type: ['null', { type: 'record', name: 'Location', fields: [{ name: 'lat', type: 'double' }, { name: 'lon', type: 'double' }] }],
      default: null,
    },
    { name: 'samples', type: { type: 'array', items: 'long' }, default: [] },
    { name: 'gauge', type: ['null', 'double'], default: null },
  ],
};

function encoder(unknownFields?: EncoderRoute['unknownFields']): AvroEncoder {
  return createAvroEncoder({ gatewayId: 'gw', defaultTopic: 'raw', routes: [{ topic: 'd/{deviceId}/t', valueSchema: SCHEMA, unknownFields }] });
}

function rec(payload: string): StoredRecord {
  return { deviceId: 'dev-1', topic: 'd/dev-1/t', qos: 1, receivedAt: 1_700_000_000_123, payload: Buffer.from(payload), seq: 7 };
}

function decoded(enc: AvroEncoder, out: EncodeOutcome): Record<string, unknown> {
  assert.ok(out.ok, `encoded: ${JSON.stringify(out)}`);
  const codec = enc.typedCodecs[0]!;
  assert.equal(out.value.readBigUInt64LE(2), codec.fingerprint);
  return (codec.exactType.fromBuffer(out.value.subarray(10)) as { payload: Record<string, unknown> }).payload;
}

test('exported schemas keep logicalType (receivedAt timestamp-millis, a route decimal); the fingerprint is of the canonical form without it', () => {
  const enc = encoder();
  for (const codec of enc.allCodecs()) {
    const exported = codec.type.schema({ exportAttrs: true }) as { fields: Array<{ name: string; type: unknown }> };
    assert.deepEqual(exported.fields.find((f) => f.name === 'receivedAt')!.type, { type: 'long', logicalType: 'timestamp-millis' });
    assert.ok(!codec.canonical.includes('logicalType'), 'Parsing Canonical Form strips logicalType');
    // Same fingerprint as avsc computes from the schema with logical types ignored: unchanged on the wire.
    const plainCanonical = JSON.stringify(avro.Type.forSchema(JSON.parse(JSON.stringify(exported)) as avro.Schema).schema());
    assert.equal(codec.canonical, plainCanonical);
    assert.equal(codec.fingerprint, crc64Avro(Buffer.from(plainCanonical)));
  }
  // The raw envelope's fingerprint as released before this change.
  assert.equal(enc.rawCodec.fingerprintHex, '58a6078aa3b7cb24');
  assert.equal(enc.rawCodec.canonical, JSON.stringify(avro.Type.forSchema(RAW_ENVELOPE_SCHEMA as unknown as avro.Schema).schema()));
  const payload = (enc.typedCodecs[0]!.type.schema({ exportAttrs: true }) as { fields: Array<{ name: string; type: { fields: Array<{ name: string; type: unknown }> } }> }).fields.find((f) => f.name === 'payload')!.type;
  assert.deepEqual(payload.fields.find((f) => f.name === 'price')!.type, { type: 'bytes', logicalType: 'decimal', precision: 9, scale: 2 });
  assert.deepEqual(payload.fields.find((f) => f.name === 'ts')!.type, { type: 'long', logicalType: 'timestamp-millis' });
});

test('a long beyond 2^53 is encoded and read back exactly (max, min, in a union and an array)', () => {
  const enc = encoder();
  const p = decoded(enc, enc.encode(rec('{"seq":9223372036854775807,"temperature":21.5,"counter":-9223372036854775808,"samples":[1,9007199254740993]}')));
  assert.equal(p['seq'], 9223372036854775807n);
  assert.equal(p['counter'], -9223372036854775808n);
  assert.deepEqual(p['samples'], [1, 9007199254740993n]);
  assert.equal(p['temperature'], 21.5);
});

test('values that fit a double stay numbers; a double field given a 17-digit integer gets the double', () => {
  const enc = encoder();
  const small = decoded(enc, enc.encode(rec('{"seq":42,"temperature":1.25}')));
  assert.equal(small['seq'], 42);
  const wide = decoded(enc, enc.encode(rec('{"seq":1,"temperature":12345678901234567,"counter":null,"gauge":98765432109876543}')));
  assert.equal(wide['temperature'], 12345678901234567);
  assert.equal(wide['gauge'], 98765432109876543, 'also in a union with a double branch');
  // A 16-digit run inside a string only takes the exact parser; the result is the same.
  const inString = decoded(enc, enc.encode(rec('{"seq":3,"temperature":2,"location":{"lat":1,"lon":2},"note":"1234567890123456"}')));
  assert.equal(inString['seq'], 3);
});

test('a long out of the 64-bit range, or an int-sized field given one, is a schema mismatch naming the field', () => {
  const enc = encoder();
  const over = enc.encode(rec('{"seq":9223372036854775808,"temperature":1}'));
  assert.equal(over.ok, false);
  assert.equal((over as { code: string }).code, 'GW_ERR_ENCODE_SCHEMA_MISMATCH');
  assert.match((over as { reason: string }).reason, /seq=9223372036854775808/);
});

test('exact parser: JSON.parse semantics otherwise (last duplicate key wins, fractions are doubles)', () => {
  assert.deepEqual(parseJsonExact('{"a":1,"a":2,"b":1.5,"c":"x"}'), { a: 2, b: 1.5, c: 'x' });
  assert.deepEqual(parseJsonExact('[9223372036854775807,-1,1e3]'), [9223372036854775807n, -1, 1000]);
  assert.equal(mayHoldUnsafeInteger(Buffer.from('{"seq":999999999999999}')), false, '15 digits are always exact');
  assert.equal(mayHoldUnsafeInteger(Buffer.from('{"seq":9007199254740993}')), true);
});

test('unknownFields drop (default): sent without them, the paths reported for counting', () => {
  const enc = encoder();
  const out = enc.encode(rec('{"seq":1,"temperature":2,"humidity":41.5,"location":{"lat":1,"lon":2,"alt":300}}'));
  assert.ok(out.ok);
  assert.deepEqual(out.dropped, ['humidity', 'location.alt']);
  assert.equal(decoded(enc, out)['humidity'], undefined);
  const clean = enc.encode(rec('{"seq":1,"temperature":2}'));
  assert.ok(clean.ok);
  assert.equal(clean.dropped, null, 'nothing to report on the common path');
});

test('unknownFields reject: GW_ERR_ENCODE_UNKNOWN_FIELD naming the fields', () => {
  const enc = encoder('reject');
  const out = enc.encode(rec('{"seq":1,"temperature":2,"humidity":41.5}'));
  assert.deepEqual(out, { ok: false, code: 'GW_ERR_ENCODE_UNKNOWN_FIELD', reason: 'fields not in test.exact.Telemetry: humidity' });
  assert.equal(enc.encode(rec('{"seq":1,"temperature":2}')).ok, true);
});

test('unknownFields extra: every record type gains extra: map<string> with each unknown field as JSON text', () => {
  const enc = encoder('extra');
  const exported = JSON.stringify(enc.typedCodecs[0]!.type.schema({ exportAttrs: true }));
  assert.match(exported, /"name":"extra","type":\{"type":"map","values":"string"\},"default":\{\}/);
  const p = decoded(
    enc,
    enc.encode(rec('{"seq":1,"temperature":2,"humidity":41.5,"tags":{"room":"a"},"big":18446744073709551615,"extra":"mine","location":{"lat":1,"lon":2,"alt":300}}')),
  );
  assert.deepEqual(p['extra'], { humidity: '41.5', tags: '{"room":"a"}', big: '18446744073709551615', extra: '"mine"' });
  assert.deepEqual((p['location'] as Record<string, unknown>)['extra'], { alt: '300' });
  const none = decoded(enc, enc.encode(rec('{"seq":1,"temperature":2}')));
  assert.deepEqual(none['extra'], {});
  // A schema that already has a field named extra cannot take the mode.
  assert.throws(
    () => createAvroEncoder({ gatewayId: 'gw', defaultTopic: 'raw', routes: [{ topic: 'd/{deviceId}/t', valueSchema: { type: 'record', name: 'X', fields: [{ name: 'extra', type: 'string' }] }, unknownFields: 'extra' }] }),
    (e: Error & { code?: string }) => e.code === 'GW_ERR_ENCODE_SCHEMA_INVALID' && /extra/.test(e.message),
  );
});

test('config: unknownFields defaults to drop, accepts reject/extra, refuses anything else', () => {
  const cfg = validateConfig({ mqtt: { routes: [{ topic: 'd/{deviceId}/t' }, { topic: 'e/{deviceId}/t', unknownFields: 'extra' }] } });
  assert.equal(cfg.mqtt.routes[0]!.unknownFields, 'drop');
  assert.equal(cfg.mqtt.routes[1]!.unknownFields, 'extra');
  assert.throws(() => validateConfig({ mqtt: { routes: [{ topic: 'd/{deviceId}/t', unknownFields: 'keep' }] } }), /mqtt\.routes\.0\.unknownFields/);
});
