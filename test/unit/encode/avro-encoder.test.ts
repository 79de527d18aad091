/**
 * AvroEncoder: raw envelopes round-trip every field; typed routes validate JSON payloads against
 * their record schema and report the failing field; schema problems fail at construction.
 */
import assert from 'node:assert/strict';
import { writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { test } from 'node:test';
import { AvroEncoder, createAvroEncoder, type EncoderRoute } from '../../../gateway/src/encode/avro-encoder.js';
import { GatewayError } from '../../../gateway/src/errors.js';
import type { StoredRecord } from '../../../gateway/src/record.js';
import { tempDir } from '../../support/temp-dir.js';

const READING_SCHEMA = {
  type: 'record',
  name: 'Reading',
  namespace: 'test.sensors',
  fields: [
    { name: 'temperature', type: 'double' },
    { name: 'seq', type: 'int' },
    { name: 'note', type: ['null', 'string'], default: null },
  ],
};

const ROUTES: EncoderRoute[] = [
  { topic: 'devices/{deviceId}/telemetry' },
  { topic: 'devices/{deviceId}/reading', valueSchema: READING_SCHEMA, kafkaTopic: 'readings' },
];

function encoder(routes: EncoderRoute[] = ROUTES): AvroEncoder {
  return createAvroEncoder({ gatewayId: 'gw-test', defaultTopic: 'telemetry.raw', routes });
}

function rec(topic: string, payload: string | Buffer, over: Partial<StoredRecord> = {}): StoredRecord {
  return {
    deviceId: 'dev-1',
    topic,
    qos: 1,
    receivedAt: 1_700_000_000_123,
    payload: Buffer.isBuffer(payload) ? payload : Buffer.from(payload, 'utf8'),
    seq: 42,
    ...over,
  };
}

function decode(enc: AvroEncoder, value: Buffer, kind: 'raw' | 'typed'): Record<string, unknown> {
  const codec = kind === 'raw' ? enc.rawCodec : enc.typedCodecs[0]!;
  assert.equal(value.readBigUInt64LE(2), codec.fingerprint, `${kind} fingerprint in header`);
  return codec.type.fromBuffer(value.subarray(10)) as Record<string, unknown>;
}

function expectSchemaInvalid(fn: () => unknown, field: string): GatewayError {
  let caught: unknown;
  try {
    fn();
  } catch (err) {
    caught = err;
  }
  assert.ok(caught instanceof GatewayError, `expected GatewayError, got ${String(caught)}`);
  assert.equal(caught.code, 'GW_ERR_ENCODE_SCHEMA_INVALID');
  assert.ok(caught.message.includes(field), `message names ${field}: ${caught.message}`);
  return caught;
}

test('raw route: C3 01 + raw fingerprint, and the body decodes back to every field', () => {
  const enc = encoder();
  const payload = Buffer.from([0x00, 0xff, 0x10, 0x80, 0x7b]);
  const out = enc.encode(rec('devices/dev-1/telemetry', payload, { seq: 9_007_199_254_740_000, qos: 2 }));
  assert.ok(out.ok);
  assert.equal(out.topic, 'telemetry.raw');
  assert.equal(out.value[0], 0xc3);
  assert.equal(out.value[1], 0x01);
  const env = decode(enc, out.value, 'raw');
  assert.equal(env['gatewayId'], 'gw-test');
  assert.equal(env['deviceId'], 'dev-1');
  assert.equal(env['topic'], 'devices/dev-1/telemetry');
  assert.equal(env['receivedAt'], 1_700_000_000_123);
  assert.equal(env['seq'], 9_007_199_254_740_000);
  assert.equal(env['qos'], 2);
  assert.ok(Buffer.isBuffer(env['payload']));
  assert.deepEqual(env['payload'], payload);
});

test('typed route: matching JSON decodes to the record; kafkaTopic of the route is used', () => {
  const enc = encoder();
  const out = enc.encode(rec('devices/dev-7/reading', '{"temperature":21.5,"seq":3,"note":"ok"}', { deviceId: 'dev-7', seq: 100 }));
  assert.ok(out.ok, JSON.stringify(out));
  assert.equal(out.topic, 'readings');
  const env = decode(enc, out.value, 'typed');
  assert.equal(env['deviceId'], 'dev-7');
  assert.equal(env['seq'], 100);
  assert.equal(env['topic'], 'devices/dev-7/reading');
  assert.deepEqual({ ...(env['payload'] as object) }, { temperature: 21.5, seq: 3, note: 'ok' });
});

test('typed route: optional field with default null may be omitted', () => {
  const enc = encoder();
  const out = enc.encode(rec('devices/dev-1/reading', '{"temperature":-4,"seq":1}'));
  assert.ok(out.ok, JSON.stringify(out));
  assert.deepEqual({ ...(decode(enc, out.value, 'typed')['payload'] as object) }, { temperature: -4, seq: 1, note: null });
});

test('typed route: wrong field type -> GW_ERR_ENCODE_SCHEMA_MISMATCH naming the field', () => {
  const enc = encoder();
  const out = enc.encode(rec('devices/dev-1/reading', '{"temperature":"hot","seq":1}'));
  assert.equal(out.ok, false);
  assert.ok(!out.ok);
  assert.equal(out.code, 'GW_ERR_ENCODE_SCHEMA_MISMATCH');
  assert.match(out.reason, /temperature/);
  assert.doesNotMatch(out.reason, /\bseq=/, 'only the bad field is listed');

  const missing = enc.encode(rec('devices/dev-1/reading', '{"seq":1}'));
  assert.ok(!missing.ok);
  assert.equal(missing.code, 'GW_ERR_ENCODE_SCHEMA_MISMATCH');
  assert.match(missing.reason, /temperature/);

  const notInt = enc.encode(rec('devices/dev-1/reading', '{"temperature":1,"seq":1.5}'));
  assert.ok(!notInt.ok);
  assert.match(notInt.reason, /seq/);

  const notObject = enc.encode(rec('devices/dev-1/reading', '[1,2]'));
  assert.ok(!notObject.ok);
  assert.equal(notObject.code, 'GW_ERR_ENCODE_SCHEMA_MISMATCH');
});

test('typed route: invalid JSON -> GW_ERR_ENCODE_PAYLOAD_NOT_JSON', () => {
  const out = encoder().encode(rec('devices/dev-1/reading', '{"temperature":21.5,'));
  assert.ok(!out.ok);
  assert.equal(out.code, 'GW_ERR_ENCODE_PAYLOAD_NOT_JSON');
  assert.ok(out.reason.length > 0);
});

test('raw route does not parse the payload (invalid JSON is fine)', () => {
  const out = encoder().encode(rec('devices/dev-1/telemetry', '{not json'));
  assert.ok(out.ok);
});

test('topic matching no route -> GW_ERR_ENCODE_UNROUTED', () => {
  const out = encoder().encode(rec('elsewhere/dev-1/telemetry', '{}'));
  assert.ok(!out.ok);
  assert.equal(out.code, 'GW_ERR_ENCODE_UNROUTED');
  assert.match(out.reason, /elsewhere\/dev-1\/telemetry/);
});

test('encodeRaw always works: unrouted, non-JSON and typed-route records', () => {
  const enc = encoder();
  for (const r of [
    rec('elsewhere/x', 'x', { seq: 1 }),
    rec('devices/dev-1/reading', '{"temperature":"hot"', { seq: 2 }),
    rec('devices/dev-1/reading', '{"temperature":1,"seq":1}', { seq: 3 }),
  ]) {
    const env = decode(enc, enc.encodeRaw(r), 'raw');
    assert.equal(env['seq'], r.seq);
    assert.equal(env['topic'], r.topic);
    assert.deepEqual(env['payload'], r.payload);
  }
});

test('typed envelope has a different fingerprint than raw; allCodecs lists both', () => {
  const enc = encoder();
  assert.equal(enc.typedCodecs.length, 1);
  assert.notEqual(enc.typedCodecs[0]!.fingerprint, enc.rawCodec.fingerprint);
  assert.deepEqual(
    enc.allCodecs().map((c) => c.fingerprint),
    [enc.rawCodec.fingerprint, enc.typedCodecs[0]!.fingerprint],
  );
  const raw = encoder([{ topic: 'devices/{deviceId}/telemetry' }]);
  assert.equal(raw.typedCodecs.length, 0);
  assert.equal(raw.rawCodec.fingerprint, enc.rawCodec.fingerprint, 'raw envelope fingerprint is stable across instances');
});

test('first matching route wins', () => {
  const enc = encoder([
    { topic: 'devices/{deviceId}/reading', kafkaTopic: 'first' },
    { topic: 'devices/{deviceId}/reading', valueSchema: READING_SCHEMA, kafkaTopic: 'second' },
  ]);
  const out = enc.encode(rec('devices/d/reading', 'not json at all'));
  assert.ok(out.ok);
  assert.equal(out.topic, 'first');
});

test('valueSchema that is not a record -> GW_ERR_ENCODE_SCHEMA_INVALID naming mqtt.routes.N.valueSchema', () => {
  expectSchemaInvalid(
    () => encoder([{ topic: 'a/{deviceId}' }, { topic: 'b/{deviceId}', valueSchema: { type: 'enum', name: 'Color', symbols: ['RED'] } }]),
    'mqtt.routes.1.valueSchema',
  );
  expectSchemaInvalid(() => encoder([{ topic: 'a/{deviceId}', valueSchema: { type: 'map', values: 'int' } }]), 'mqtt.routes.0.valueSchema');
});

test('invalid valueSchema -> GW_ERR_ENCODE_SCHEMA_INVALID with cause', () => {
  const err = expectSchemaInvalid(
    () => encoder([{ topic: 'a/{deviceId}' }, { topic: 'b/{deviceId}' }, { topic: 'c/{deviceId}', valueSchema: { type: 'record', name: 'Bad', fields: [{ name: 'x', type: 'no-such-type' }] } }]),
    'mqtt.routes.2.valueSchema',
  );
  assert.ok(err.cause instanceof Error);
});

test('valueSchema as a path to an .avsc file', (t) => {
  const dir = tempDir(t);
  const path = join(dir, 'reading.avsc');
  writeFileSync(path, JSON.stringify(READING_SCHEMA));
  const enc = encoder([{ topic: 'devices/{deviceId}/reading', valueSchema: path }]);
  const out = enc.encode(rec('devices/d1/reading', '{"temperature":1.25,"seq":8}'));
  assert.ok(out.ok, JSON.stringify(out));
  assert.equal(out.topic, 'telemetry.raw');
  assert.deepEqual({ ...(decode(enc, out.value, 'typed')['payload'] as object) }, { temperature: 1.25, seq: 8, note: null });
  // Same schema inline or from a file: same fingerprint.
  assert.equal(enc.typedCodecs[0]!.fingerprint, encoder().typedCodecs[0]!.fingerprint);
});

test('valueSchema path that is missing or not JSON -> GW_ERR_ENCODE_SCHEMA_INVALID', (t) => {
  const dir = tempDir(t);
  expectSchemaInvalid(() => encoder([{ topic: 'a/{deviceId}', valueSchema: join(dir, 'absent.avsc') }]), 'mqtt.routes.0.valueSchema');
  const garbage = join(dir, 'garbage.avsc');
  writeFileSync(garbage, '{ nope');
  expectSchemaInvalid(() => encoder([{ topic: 'a/{deviceId}' }, { topic: 'b/{deviceId}', valueSchema: garbage }]), 'mqtt.routes.1.valueSchema');
});

test('a typed encode does not leak its payload into the next raw encode (shared envelope object)', () => {
  const enc = encoder();
  const typed = enc.encode(rec('devices/d/reading', '{"temperature":2,"seq":2}', { deviceId: 'd', seq: 1 }));
  assert.ok(typed.ok);
  const raw = enc.encode(rec('devices/e/telemetry', 'abc', { deviceId: 'e', seq: 2 }));
  assert.ok(raw.ok);
  const env = decode(enc, raw.value, 'raw');
  assert.equal(env['deviceId'], 'e');
  assert.deepEqual(env['payload'], Buffer.from('abc'));
  // The first output is a finished buffer, untouched by the second encode.
  assert.equal(decode(enc, typed.value, 'typed')['deviceId'], 'd');
});
