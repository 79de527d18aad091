/**
 * Micro-benchmark of device authentication (DeviceCredentials.verify on a real SQLite file):
 * one scrypt verify at the default cost, verifies per second with K in flight, a success-cache
 * hit, and the heap per cached device.
 *   node build/bench/micro/device-auth.js [devices-for-cache=100000]
 */
import { mkdtempSync, rmSync } from 'node:fs';
import { cpus, loadavg, tmpdir } from 'node:os';
import { join } from 'node:path';
import { openBufferDatabase } from '../../gateway/src/buffer/sqlite-buffer.js';
import { createDeviceCredentials } from '../../gateway/src/ingest/device-credentials.js';
import { hashSecret } from '../../gateway/src/ingest/secret-hash.js';

const cacheDevices = Number(process.argv[2] ?? 100_000);
const dir = mkdtempSync(join(tmpdir(), 'bench-auth-'));
const db = openBufferDatabase({ path: join(dir, 'buffer.db'), synchronous: 'NORMAL' });
try {
  const store = createDeviceCredentials(db, { maxConcurrentVerifies: 8 });
  const secret = await store.add('dev-1');
  const password = Buffer.from(secret);
  const row = (label: string, value: string) => process.stdout.write(`| ${label} | ${value} |\n`);
  process.stdout.write(`| device auth (${cpus().length} cores, ${cpus()[0]?.model ?? '?'}, load ${loadavg()[0]!.toFixed(1)}, UV_THREADPOOL_SIZE ${process.env['UV_THREADPOOL_SIZE'] ?? '4 (default)'}) | |\n|---|---|\n`);

  // Sequential full verifies: the cost one CONNECT pays (rotate between runs to defeat the cache).
  const sequential: number[] = [];
  for (let i = 0; i < 10; i++) {
    const fresh = Buffer.from(await store.rotate('dev-1'));
    const t0 = performance.now();
    if ((await store.verify('dev-1', fresh)) !== 'ok') throw new Error('verify failed');
    sequential.push(performance.now() - t0);
  }
  sequential.sort((a, b) => a - b);
  row('scrypt verify (logN 14, r 8, p 1), median of 10', `${sequential[5]!.toFixed(1)} ms`);

  // K = 8 in flight, unknown ids (dummy scrypt, never cached): throughput of the bound.
  const t1 = performance.now();
  let done = 0;
  while (performance.now() - t1 < 3000) {
    const batch = Array.from({ length: 8 }, (_, i) => store.verify(`nobody-${i}`, password));
    done += (await Promise.all(batch)).length;
  }
  row('full verifies/s with 8 in flight', `${(done / ((performance.now() - t1) / 1000)).toFixed(1)}`);

  // Cache hits.
  const current = Buffer.from(await store.rotate('dev-1'));
  await store.verify('dev-1', current);
  const n = 100_000;
  const t2 = performance.now();
  for (let i = 0; i < n; i++) await store.verify('dev-1', current);
  row('cache-hit verify (SQLite read + HMAC)', `${(((performance.now() - t2) * 1000) / n).toFixed(1)} µs`);

  // Heap per cache entry: fill the cache with `cacheDevices` devices sharing one hash row shape.
  const hash = await hashSecret('bench-secret-123', { logN: 4, r: 8, p: 1 });
  const insert = db.prepare('INSERT INTO device_credentials (device_id, secret_hash, created_at) VALUES (?, ?, 0)');
  db.transaction(() => {
    for (let i = 0; i < cacheDevices; i++) insert.run(`fleet-${String(i).padStart(6, '0')}`, hash);
  })();
  const big = createDeviceCredentials(db, { maxConcurrentVerifies: 64 });
  const pw = Buffer.from('bench-secret-123');
  for (let i = 0; i < cacheDevices; i += 64) {
    await Promise.all(Array.from({ length: Math.min(64, cacheDevices - i) }, (_, k) => big.verify(`fleet-${String(i + k).padStart(6, '0')}`, pw)));
  }
  globalThis.gc?.();
  const before = process.memoryUsage();
  (big as unknown as { cache: { clear(): void } }).cache.clear();
  globalThis.gc?.();
  const after = process.memoryUsage();
  const perEntry = (before.heapUsed + before.arrayBuffers - after.heapUsed - after.arrayBuffers) / cacheDevices;
  row(`success cache, ${cacheDevices} devices (run with --expose-gc)`, globalThis.gc ? `${perEntry.toFixed(0)} bytes/entry, ${((perEntry * cacheDevices) / 2 ** 20).toFixed(1)} MiB` : 'n/a');
} finally {
  db.close();
  rmSync(dir, { recursive: true, force: true });
}
