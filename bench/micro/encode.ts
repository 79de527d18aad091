/**
 * Micro-benchmark of the encode stage alone: raw envelopes per second for 200-byte payloads.
 *   node build/bench/micro/encode.js [records]
 */
import { createAvroEncoder } from '../../gateway/src/encode/avro-encoder.js';
import type { StoredRecord } from '../../gateway/src/record.js';

const n = Number(process.argv[2] ?? 1_000_000);
const encoder = createAvroEncoder({ gatewayId: 'bench-gw', defaultTopic: 't', routes: [{ topic: 'devices/{deviceId}/telemetry' }] });
const records: StoredRecord[] = [];
for (let i = 0; i < 1000; i++) {
  const deviceId = `dev-${String(i % 100).padStart(5, '0')}`;
  records.push({ deviceId, topic: `devices/${deviceId}/telemetry`, qos: 1, receivedAt: Date.now(), seq: i + 1, payload: Buffer.alloc(200, 0x61) });
}
let bytes = 0;
for (let warm = 0; warm < 100_000; warm++) bytes += encoder.encodeRaw(records[warm % 1000]!).length;
const t0 = performance.now();
for (let i = 0; i < n; i++) bytes += encoder.encodeRaw(records[i % 1000]!).length;
const ms = performance.now() - t0;
process.stdout.write(`| encodeRaw | ${n} records | ${(n / (ms / 1000)).toFixed(0)} records/s | ${((ms * 1e6) / n).toFixed(0)} ns/record |\n`);
