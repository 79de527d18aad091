/**
 * The codec alone: times @platformatic/kafka's own compressSync (what the sink runs on the event
 * loop for every produced batch) on one 5,000-record batch of the drain's records (Avro envelopes
 * of 200-byte telemetry JSON, 100 devices, keys and values back to back, as in a record batch's
 * body). Run as a child process (`node build/bench/lib/codec-cost.js`) so that the bench can pick
 * the Node that runs it (EG_BENCH_NODE, e.g. Node 24 for zstd); it loads no native addon.
 * Prints one JSON line: codec -> { msPerBatch, inBytes, outBytes } (or { unavailable }).
 */
import { compressionsAlgorithms } from '@platformatic/kafka';
import { createAvroEncoder } from '../../gateway/src/encode/avro-encoder.js';
import { makeTelemetry } from '../../firmware-sim/src/telemetry.js';
import { createRng } from '../../firmware-sim/src/rng.js';

export const BATCH_RECORDS = 5000;
const CODECS = ['gzip', 'snappy', 'lz4', 'zstd'] as const;

function batchBody(): Buffer {
  const encoder = createAvroEncoder({ gatewayId: 'vm', defaultTopic: 'x', routes: [{ topic: 'devices/{deviceId}/telemetry' }] });
  const rng = createRng(7);
  const parts: Buffer[] = [];
  for (let i = 0; i < BATCH_RECORDS; i++) {
    const deviceId = `dev-${String(i % 100).padStart(5, '0')}`;
    const payload = Buffer.from(makeTelemetry(deviceId, Math.floor(i / 100) + 1, i / 100, rng, { payloadBytes: 200 }));
    parts.push(Buffer.from(deviceId), encoder.encodeRaw({ deviceId, topic: `devices/${deviceId}/telemetry`, qos: 1, receivedAt: Date.now(), seq: i + 1, payload }));
  }
  return Buffer.concat(parts);
}

function main(): void {
  const body = batchBody();
  const out: Record<string, unknown> = { node: process.version };
  for (const codec of CODECS) {
    const algo = compressionsAlgorithms[codec];
    if (!algo.available) {
      out[codec] = { unavailable: `no zstd in node:zlib on Node ${process.version}` };
      continue;
    }
    let outBytes = 0;
    for (let i = 0; i < 5; i++) outBytes = algo.compressSync(body).length; // warm-up (JIT, WASM)
    const n = 30;
    const t0 = performance.now();
    for (let i = 0; i < n; i++) algo.compressSync(body);
    out[codec] = { msPerBatch: (performance.now() - t0) / n, inBytes: body.length, outBytes };
  }
  process.stdout.write(`${JSON.stringify(out)}\n`);
}

main();
