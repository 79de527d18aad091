/**
 * Micro-benchmark of exact JSON -> Avro (issue 12): what the hot path pays for the 16-digit scan
 * and the unknown-field check, and what the exact parser costs on the payloads that need it.
 *   node build/bench/micro/exact-json.js [records]
 */
import { createAvroEncoder, type EncoderRoute } from '../../gateway/src/encode/avro-encoder.js';
import { mayHoldUnsafeInteger, parseJsonExact } from '../../gateway/src/encode/exact-numbers.js';
import type { StoredRecord } from '../../gateway/src/record.js';

const n = Number(process.argv[2] ?? 300_000);
const SCHEMA = {
  type: 'record',
  name: 'Telemetry',
  fields: [
    { name: 'deviceId', type: 'string' },
    { name: 'seq', type: 'long' },
    { name: 'ts', type: { type: 'long', logicalType: 'timestamp-millis' } },
    { name: 'temperature', type: 'double' },
    { name: 'humidity', type: 'double' },
    { name: 'battery', type: 'double' },
    { name: 'firmwareVersion', type: 'string' },
    { name: 'uptimeSecs', type: 'long' },
  ],
};
// A firmware-sim style payload (~170 bytes), the same with one undeclared field, and with a max long.
const typical = '{"deviceId":"dev-00042","seq":123456,"ts":1700000000123,"temperature":21.53,"humidity":40.2,"battery":3.71,"firmwareVersion":"1.4.2","uptimeSecs":86400}';
const unknownField = typical.replace('"uptimeSecs"', '"rssi":-67,"uptimeSecs"');
const bigLong = typical.replace('"seq":123456', '"seq":9223372036854775807');

function time(label: string, fn: (i: number) => unknown): void {
  for (let i = 0; i < 50_000; i++) fn(i);
  const t0 = performance.now();
  for (let i = 0; i < n; i++) fn(i);
  const ms = performance.now() - t0;
  process.stdout.write(`| ${label} | ${(n / (ms / 1000)).toFixed(0)} /s | ${((ms * 1e6) / n).toFixed(0)} ns |\n`);
}

function rec(payload: string): StoredRecord {
  return { deviceId: 'dev-00042', topic: 'devices/dev-00042/telemetry', qos: 1, receivedAt: Date.now(), seq: 1, payload: Buffer.from(payload) };
}

function encoder(unknownFields: EncoderRoute['unknownFields']) {
  return createAvroEncoder({ gatewayId: 'bench-gw', defaultTopic: 't', routes: [{ topic: 'devices/{deviceId}/telemetry', valueSchema: SCHEMA, unknownFields }] });
}

process.stdout.write(`| step (${typical.length}-byte payload) | rate | per record |\n| --- | --- | --- |\n`);
time('JSON.parse', () => JSON.parse(typical));
const typicalBytes = Buffer.from(typical);
time('16-digit scan (hot path addition)', () => mayHoldUnsafeInteger(typicalBytes));
time('parseJsonExact (lossless-json), typical payload', () => parseJsonExact(typical));
time('parseJsonExact, payload with a max long', () => parseJsonExact(bigLong));
const drop = encoder('drop');
const reject = encoder('reject');
const extra = encoder('extra');
const r = rec(typical);
const rUnknown = rec(unknownField);
const rBig = rec(bigLong);
time('typed encode, typical (drop)', () => drop.encode(r));
time('typed encode, typical (extra)', () => extra.encode(r));
time('typed encode, unknown field (drop)', () => drop.encode(rUnknown));
time('typed encode, unknown field (reject -> dead letter)', () => reject.encode(rUnknown));
time('typed encode, unknown field (extra)', () => extra.encode(rUnknown));
time('typed encode, max long (exact path)', () => drop.encode(rBig));
