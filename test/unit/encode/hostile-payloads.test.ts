/**
 * Hostile JSON on a typed route never throws out of the encoder: 10,000-deep nesting (arrays,
 * objects, inside a field), a 1 MB deep array, numbers beyond double/long range, lone UTF-16
 * surrogates, and a legitimately recursive schema fed a deep value all come back as
 * { ok: false, code } with a bounded reason, and the encoder keeps encoding good records after.
 */
import assert from 'node:assert/strict';
import { test } from 'node:test';
import { createAvroEncoder, MAX_PAYLOAD_DEPTH, type EncoderRoute } from '../../../gateway/src/encode/avro-encoder.js';
import type { StoredRecord } from '../../../gateway/src/record.js';

const READING_SCHEMA = {
  type: 'record',
  name: 'Reading',
  namespace: 'test.sensors',
  fields: [
    { name: 'temperature', type: 'double' },
    { name: 'seq', type: 'long' },
    { name: 'note', type: ['null', 'string'], default: null },
    { name: 'tags', type: { type: 'map', values: 'string' }, default: {} },
  ],
};
// A schema that legitimately recurses: avsc walks a value of it recursively.
const LIST_SCHEMA = {
  type: 'record',
  name: 'Node',
  namespace: 'test.list',
  fields: [
    { name: 'v', type: 'int' },
    { name: 'next', type: ['null', 'Node'], default: null },
  ],
};
const ROUTES: EncoderRoute[] = [
  { topic: 'devices/{deviceId}/reading', valueSchema: READING_SCHEMA },
  { topic: 'devices/{deviceId}/list', valueSchema: LIST_SCHEMA },
];

function rec(topic: string, payload: string): StoredRecord {
  return { deviceId: 'dev-1', topic, qos: 1, receivedAt: 1_700_000_000_000, payload: Buffer.from(payload, 'utf8'), seq: 7 };
}

const deepArray = (n: number) => '['.repeat(n) + ']'.repeat(n);
const deepObject = (n: number) => '{"a":'.repeat(n) + '1' + '}'.repeat(n);
/** n + 1 nested records (avsc unwraps the ["null", "Node"] union). */
const deepList = (n: number) => '{"v":1,"next":'.repeat(n) + '{"v":1,"next":null}' + '}'.repeat(n);

const HOSTILE: Array<{ name: string; topic: string; payload: string; code: string; reason: RegExp }> = [
  { name: '10,000-deep array', topic: 'devices/dev-1/reading', payload: deepArray(10_000), code: 'GW_ERR_ENCODE_PAYLOAD_TOO_DEEP', reason: /deeper than 64/ },
  { name: '10,000-deep object', topic: 'devices/dev-1/reading', payload: deepObject(10_000), code: 'GW_ERR_ENCODE_PAYLOAD_TOO_DEEP', reason: /deeper than 64/ },
  {
    // The shape that crashed the gateway: the deep value sits in a field, so avsc's errorHook
    // handed it to JSON.stringify for the reason.
    name: '10,000-deep array in a field',
    topic: 'devices/dev-1/reading',
    payload: `{"temperature":${deepArray(10_000)},"seq":1}`,
    code: 'GW_ERR_ENCODE_PAYLOAD_TOO_DEEP',
    reason: /deeper than 64/,
  },
  { name: '1 MB deep array', topic: 'devices/dev-1/reading', payload: deepArray(512 * 1024), code: 'GW_ERR_ENCODE_PAYLOAD_TOO_DEEP', reason: /deeper than 64/ },
  { name: 'deep value of a recursive schema', topic: 'devices/dev-1/list', payload: deepList(5_000), code: 'GW_ERR_ENCODE_PAYLOAD_TOO_DEEP', reason: /deeper than 64/ },
  { name: 'a 5,000-digit number in a long field', topic: 'devices/dev-1/reading', payload: `{"temperature":1,"seq":${'9'.repeat(5000)}}`, code: 'GW_ERR_ENCODE_SCHEMA_MISMATCH', reason: /seq=Infinity/ },
  { name: 'a long beyond 2^53', topic: 'devices/dev-1/reading', payload: '{"temperature":1,"seq":18446744073709551617}', code: 'GW_ERR_ENCODE_SCHEMA_MISMATCH', reason: /seq=/ },
  { name: 'a lone high surrogate', topic: 'devices/dev-1/reading', payload: '{"temperature":1,"seq":1,"note":"ab\\ud800"}', code: 'GW_ERR_ENCODE_SCHEMA_MISMATCH', reason: /note: string holds an unpaired UTF-16 surrogate/ },
  { name: 'a lone low surrogate in a map key', topic: 'devices/dev-1/reading', payload: '{"temperature":1,"seq":1,"tags":{"\\udc00":"x"}}', code: 'GW_ERR_ENCODE_SCHEMA_MISMATCH', reason: /tags\.\(key\)/ },
  { name: 'a huge object as a wrong-typed field', topic: 'devices/dev-1/reading', payload: `{"temperature":{${Array.from({ length: 20_000 }, (_, i) => `"k${i}":${i}`).join(',')}},"seq":1}`, code: 'GW_ERR_ENCODE_SCHEMA_MISMATCH', reason: /temperature=object\(k0,k1,k2,\.\.\.\)/ },
];

for (const h of HOSTILE) {
  test(`hostile payload (${h.name}) -> { ok: false, ${h.code} }, no throw`, () => {
    const enc = createAvroEncoder({ gatewayId: 'gw', defaultTopic: 'telemetry.raw', routes: ROUTES });
    let out;
    assert.doesNotThrow(() => (out = enc.encode(rec(h.topic, h.payload))));
    assert.ok(out);
    const o = out as { ok: boolean; code?: string; reason?: string };
    assert.equal(o.ok, false, h.name);
    assert.equal(o.code, h.code);
    assert.match(o.reason!, h.reason);
    assert.ok(o.reason!.length <= 400, `reason is bounded (${o.reason!.length} chars)`);
    // The raw envelope for the DLQ topic is built from the bytes, never from the parsed value.
    assert.doesNotThrow(() => enc.encodeRaw(rec(h.topic, h.payload)));
    // And the encoder still works.
    const good = enc.encode(rec('devices/dev-1/reading', '{"temperature":21.5,"seq":3}'));
    assert.equal(good.ok, true);
  });
}

test(`nesting up to ${MAX_PAYLOAD_DEPTH} levels is accepted; a surrogate pair and brackets inside strings are fine`, () => {
  const enc = createAvroEncoder({ gatewayId: 'gw', defaultTopic: 'telemetry.raw', routes: ROUTES });
  const okList = enc.encode(rec('devices/dev-1/list', deepList(MAX_PAYLOAD_DEPTH - 1)));
  assert.equal(okList.ok, true, JSON.stringify(okList).slice(0, 200));
  const tooDeep = enc.encode(rec('devices/dev-1/list', deepList(MAX_PAYLOAD_DEPTH)));
  assert.equal(tooDeep.ok, false);
  assert.equal((tooDeep as { code: string }).code, 'GW_ERR_ENCODE_PAYLOAD_TOO_DEEP');
  const brackets = '['.repeat(1000);
  const pair = enc.encode(rec('devices/dev-1/reading', `{"temperature":1,"seq":1,"note":"\\ud83d\\ude00 ${brackets}"}`));
  assert.equal(pair.ok, true, JSON.stringify(pair).slice(0, 200));
});

test('1e400 in a double field encodes as Infinity (IEEE overflow), not as a failure', () => {
  const enc = createAvroEncoder({ gatewayId: 'gw', defaultTopic: 'telemetry.raw', routes: ROUTES });
  const out = enc.encode(rec('devices/dev-1/reading', '{"temperature":1e400,"seq":1}'));
  assert.equal(out.ok, true);
  const decoded = enc.typedCodecs[0]!.type.fromBuffer((out as { value: Buffer }).value.subarray(10)) as { payload: { temperature: number } };
  assert.equal(decoded.payload.temperature, Number.POSITIVE_INFINITY);
});
