/**
 * The DLQ message of a dead letter: a raw envelope cut to the configured bound (still decodable,
 * device/topic/seq intact), the headers a cloud consumer needs, and the decision that a refused
 * DLQ record is never sent again.
 */
import assert from 'node:assert/strict';
import { randomBytes } from 'node:crypto';
import { test } from 'node:test';
import { createAvroEncoder } from '../../../gateway/src/encode/avro-encoder.js';
import { deadLetterMessage, isPermanentRefusal, onRejected, rawEnvelopeWithin } from '../../../gateway/src/forward/dead-letter-message.js';
import { gatewayError } from '../../../gateway/src/errors.js';
import type { StoredRecord } from '../../../gateway/src/record.js';

const encoder = createAvroEncoder({ gatewayId: 'gw-test', defaultTopic: 'telemetry.raw', routes: [{ topic: 'devices/{deviceId}/telemetry' }] });
const decode = (v: Buffer) => encoder.rawCodec.type.fromBuffer(v.subarray(10)) as { deviceId: string; seq: number; topic: string; payload: Buffer };

function rec(payload: Buffer, seq = 42): StoredRecord {
  return { deviceId: 'dev-1', topic: 'devices/dev-1/telemetry', qos: 1, receivedAt: 1_700_000_000_000, payload, seq };
}

test('a value within the bound is the whole raw envelope, not truncated', () => {
  const r = rec(Buffer.from('{"seq":1}'));
  const { value, truncated } = rawEnvelopeWithin(encoder, r, 1024);
  assert.equal(truncated, false);
  assert.ok(value.equals(encoder.encodeRaw(r)));
});

test('a large payload is cut from the end so the value fits exactly within the bound; the envelope stays decodable', () => {
  for (const size of [2_000, 70_000, 200_000, 1_500_000]) {
    for (const max of [1024, 4096, 64 * 1024]) {
      const payload = randomBytes(size);
      const r = rec(payload);
      const { value, truncated } = rawEnvelopeWithin(encoder, r, max);
      assert.equal(truncated, size + 100 > max, `${size} into ${max}`);
      assert.ok(value.length <= max, `${value.length} <= ${max}`);
      // Cut no more than the varint of the length could save (a few bytes).
      if (truncated) assert.ok(value.length >= max - 4, `${value.length} close to ${max}`);
      const env = decode(value);
      assert.equal(env.deviceId, 'dev-1');
      assert.equal(env.seq, 42);
      assert.equal(env.topic, 'devices/dev-1/telemetry');
      assert.ok(payload.subarray(0, env.payload.length).equals(env.payload), 'a prefix of the original payload');
    }
  }
});

test('a rejected record: key = device id, headers with code, reason, seq, source topic, refused size, truncated', () => {
  const payload = Buffer.concat([Buffer.from('{"deviceId":"dev-1","seq":7,"blob":"'), Buffer.alloc(300_000, 0x41), Buffer.from('"}')]);
  const r = rec(payload, 99);
  const refused = { topic: 'telemetry.raw', value: encoder.encodeRaw(r) };
  const m = deadLetterMessage(encoder, r, { code: 'GW_ERR_FORWARD_REJECTED', reason: `MESSAGE_TOO_LARGE: ${'x'.repeat(500)}` }, { dlqTopic: 'telemetry.dlq', maxValueBytes: 64 * 1024 }, refused);
  assert.equal(m.topic, 'telemetry.dlq');
  assert.equal(m.key, 'dev-1');
  assert.ok(m.value.length <= 64 * 1024);
  assert.deepEqual(Object.keys(m.headers!).sort(), ['x-dlq-code', 'x-dlq-original-bytes', 'x-dlq-reason', 'x-dlq-source-topic', 'x-dlq-truncated', 'x-gateway-seq']);
  assert.equal(m.headers!['x-dlq-code'], 'GW_ERR_FORWARD_REJECTED');
  assert.equal(m.headers!['x-dlq-original-bytes'], String(refused.value.length));
  assert.equal(m.headers!['x-dlq-source-topic'], 'telemetry.raw');
  assert.equal(m.headers!['x-dlq-truncated'], 'true');
  assert.equal(m.headers!['x-gateway-seq'], '99');
  assert.ok(m.headers!['x-dlq-reason']!.length <= 200, 'reason bounded');
  assert.match(m.headers!['x-dlq-reason']!, /^MESSAGE_TOO_LARGE/);
  assert.match(decode(m.value).payload.toString(), /^\{"deviceId":"dev-1","seq":7,"blob":"AAAA/, 'the head (with the device seq) survives');
});

test('an encode failure: no source topic or refused size; small payloads are not cut', () => {
  const m = deadLetterMessage(encoder, rec(Buffer.from('{oops')), { code: 'GW_ERR_ENCODE_PAYLOAD_NOT_JSON', reason: 'bad' }, { dlqTopic: 'dlq', maxValueBytes: 1024 });
  assert.deepEqual(m.headers, { 'x-dlq-code': 'GW_ERR_ENCODE_PAYLOAD_NOT_JSON', 'x-dlq-reason': 'bad', 'x-gateway-seq': '42', 'x-dlq-truncated': 'false' });
});

test('decision: a rejected telemetry record goes to the DLQ; a rejected DLQ record (or nothing) stays local, never re-sent', () => {
  assert.equal(onRejected({ topic: 'telemetry.raw', value: Buffer.alloc(1) }, 'telemetry.dlq'), 'sendToDlq');
  assert.equal(onRejected({ topic: 'telemetry.dlq', value: Buffer.alloc(1) }, 'telemetry.dlq'), 'keepLocally');
  assert.equal(onRejected(undefined, 'telemetry.dlq'), 'keepLocally');
  assert.equal(isPermanentRefusal(gatewayError('GW_ERR_FORWARD_REJECTED', 'MESSAGE_TOO_LARGE')), true);
  for (const code of ['GW_ERR_FORWARD_SEND', 'GW_ERR_FORWARD_TOPIC_MISSING', 'GW_ERR_FORWARD_AUTH'] as const) assert.equal(isPermanentRefusal(gatewayError(code, 'x')), false, code);
});
