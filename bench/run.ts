/**
 * `npm run bench -- <scenario> [options]`: runs one benchmark scenario, prints a markdown table,
 * writes bench/results/<scenario>.{md,json}. Benchmarks never pass or fail on time.
 *   ingest   [--duration 15s] [--devices 100,1000]
 *   e2e      [--duration 20s] [--rates 1000,5000,10000]
 *   drain    [--rows 1000000]
 *   codecs   [--rows 200000]   (the drain once per kafka.compression: rows/s, CPU and bytes per record)
 *   connections [--devices 1000,10000]
 *   memory-curve [--devices 10,100,1000,10000] [--duration 20] [--node-options "A|B"] [--build node]   (RSS and ingest by device count: the binary, or build/ under this node)
 *   heap     [--devices 2000]   (heap snapshot diff 0 vs N idle devices: bytes per connection by constructor)
 *   session-floor [--devices 2000,10000]   (resident memory per idle device: mosquitto, node:net + mqtt-packet, aedes alone, the gateway)
 *   start
 *   metrics  [--duration 10s] [--rounds 2]   (admin off vs on + scraping: the hot path's cost)
 *   profile  [--duration 15s]   (gateway under --cpu-prof: self time by package and function)
 *   compare  --baseline "<gateway command>" [--label L] [--duration 15s] [--rows 300000]
 *   node-sqlite [--runs 3] [--synchronous FULL]   (node:sqlite vs better-sqlite3, the buffer's statements)
 *   fuzz     [--frames 150000] [--seed N] [--persistent-share 0] [--retain-share 0.05] [--typed-max-depth 64]
 *   power-cut [--cuts 20] [--seed N]   (FULL, EXTRA, NORMAL under power cuts on powercut-fs; root)
 */
import { parseArgs } from 'node:util';

async function main(): Promise<void> {
  const { positionals, values } = parseArgs({
    allowPositionals: true,
    options: {
      duration: { type: 'string' },
      devices: { type: 'string' },
      rates: { type: 'string' },
      rows: { type: 'string' },
      baseline: { type: 'string' },
      label: { type: 'string' },
      rounds: { type: 'string' },
      frames: { type: 'string' },
      cuts: { type: 'string' },
      seed: { type: 'string' },
      'persistent-share': { type: 'string' },
      'retain-share': { type: 'string' },
      'typed-max-depth': { type: 'string' },
      runs: { type: 'string' },
      synchronous: { type: 'string' },
      'node-options': { type: 'string' },
      build: { type: 'string' },
    },
  });
  const scenario = positionals[0];
  const list = (s: string | undefined, d: number[]) => (s ? s.split(',').map(Number) : d);
  switch (scenario) {
    case 'ingest':
      return (await import('./scenarios/ingest.js')).run({ duration: values.duration ?? '15s', devices: list(values.devices, [100, 1000]) });
    case 'e2e':
      return (await import('./scenarios/e2e.js')).run({ duration: values.duration ?? '20s', rates: list(values.rates, [1000, 5000, 10000]) });
    case 'drain':
      return (await import('./scenarios/drain.js')).run({ rows: Number(values.rows ?? 1_000_000) });
    case 'codecs':
      return (await import('./scenarios/codecs.js')).run({ rows: Number(values.rows ?? 200_000) });
    case 'connections':
      return (await import('./scenarios/connections.js')).run({ devices: list(values.devices, [1000, 10000]) });
    case 'compare':
      if (!values.baseline) throw new Error('compare needs --baseline "<gateway command>"');
      return (await import('./scenarios/compare.js')).run({ baseline: values.baseline, label: values.label ?? 'baseline', duration: values.duration ?? '15s', rows: Number(values.rows ?? 300_000) });
    case 'profile':
      return (await import('./scenarios/profile.js')).run({ duration: values.duration ?? '15s' });
    case 'metrics':
      return (await import('./scenarios/metrics.js')).run({ duration: values.duration ?? '10s', rounds: Number(values.rounds ?? 2) });
    case 'memory-curve':
      return (await import('./scenarios/memory-curve.js')).run({
        devices: list(values.devices, [10, 100, 1000, 10000]),
        duration: Number(values.duration ?? 20),
        nodeOptions: values['node-options'] !== undefined ? values['node-options'].split('|') : [''],
        build: values.build === 'node' ? 'node' : 'binary',
      });
    case 'heap':
      return (await import('./scenarios/heap.js')).run({ devices: list(values.devices, [2000]) });
    case 'session-floor':
      return (await import('./scenarios/session-floor.js')).run({ devices: list(values.devices, [2000, 10000]) });
    case 'start':
      return (await import('./scenarios/start.js')).run();
    case 'node-sqlite':
      return (await import('./scenarios/node-sqlite.js')).run({ runs: Number(values.runs ?? 3), synchronous: values.synchronous ?? 'FULL' });
    case 'fuzz':
      return (await import('./scenarios/fuzz.js')).run({
        // Planned frames; about a third are never written (the gateway closed the connection first).
        frames: Number(values.frames ?? 150_000),
        seed: Number(values.seed ?? 20_261_202),
        persistentSessionShare: Number(values['persistent-share'] ?? 0),
        retainShare: Number(values['retain-share'] ?? 0.05),
        typedMaxDepth: Number(values['typed-max-depth'] ?? 64),
      });
    case 'power-cut':
      return (await import('./scenarios/power-cut.js')).run({ cuts: Number(values.cuts ?? 20), seed: Number(values.seed ?? 20_261_206) });
    default:
      throw new Error(`unknown scenario "${scenario}"; one of: ingest, e2e, drain, codecs, connections, memory-curve, heap, session-floor, start, node-sqlite, metrics, profile, compare, fuzz, power-cut`);
  }
}

main().catch((err) => {
  console.error(err);
  process.exit(1);
});
