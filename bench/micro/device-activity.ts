/**
 * Micro-benchmark of the busiest-devices counter on the ingest hot path: ns per count() for a
 * fleet of N devices, against the bare `acceptedTotal++` it sits next to; and the cost of one
 * busiest(5) (once per status read, not per message).
 *   node build/bench/micro/device-activity.js [counts]
 */
import { createDeviceActivity } from '../../gateway/src/ingest/device-activity.js';

const n = Number(process.argv[2] ?? 5_000_000);
const counters = { acceptedTotal: 0 };

function bench(label: string, fn: (i: number) => void): number {
  for (let i = 0; i < 200_000; i++) fn(i);
  const t0 = performance.now();
  for (let i = 0; i < n; i++) fn(i);
  const ns = ((performance.now() - t0) * 1e6) / n;
  process.stdout.write(`| ${label} | ${ns.toFixed(1)} ns |\n`);
  return ns;
}

process.stdout.write('| step | per message |\n| --- | --- |\n');
bench('acceptedTotal++ (baseline)', () => {
  counters.acceptedTotal++;
});
for (const devices of [100, 1_000, 10_000]) {
  const ids = Array.from({ length: devices }, (_, i) => `dev-${String(i).padStart(5, '0')}`);
  const activity = createDeviceActivity({ maxDevices: 10_000, windowMs: 0 });
  bench(`count(), ${devices} devices`, (i) => activity.count(ids[i % devices]!));
  // The gate's id is a fresh string cut from each packet's topic: its hash is not cached yet.
  const topics = ids.map((id) => `devices/${id}/telemetry`);
  let sink = 0;
  const cut = bench(`  topic.slice() alone, ${devices} devices`, (i) => {
    sink += topics[i % devices]!.slice(8, -10).length;
  });
  const both = bench(`  count(topic.slice()), ${devices} devices`, (i) => activity.count(topics[i % devices]!.slice(8, -10)));
  process.stdout.write(`| count() of a fresh id, ${devices} devices | ${(both - cut).toFixed(1)} ns net of the slice${sink > 0 ? "" : "?"} |\n`);
  const t0 = performance.now();
  for (let r = 0; r < 100; r++) activity.busiest(5);
  process.stdout.write(`| busiest(5), ${devices} devices | ${((performance.now() - t0) / 100).toFixed(3)} ms per call |\n`);
  activity.close();
}
