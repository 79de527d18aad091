/**
 * Heap per connection: V8 heap snapshots of the gateway with 0 and then N idle devices connected
 * (QoS1 devices publishing once a minute, Kafka down), diffed by constructor, plus RSS, V8 heap
 * and external memory from the gateway's own stats line at both points. Answers "what does one
 * more idle device cost in V8's heap, and in which objects" (RSS by device count: memory-curve). The snapshots are taken from outside
 * (NODE_OPTIONS=--heapsnapshot-signal=SIGUSR2); a snapshot forces a full GC first, so the heap
 * numbers here are live objects, while RSS includes garbage not yet collected.
 */
import { rmSync } from 'node:fs';
import { GatewayProcess, type LogLine } from '../../test/support/gateway-process.js';
import { nodeAndNativeBuilds, withGatewayCmd } from '../lib/gateway-builds.js';
import { diff, SNAPSHOT_NODE_OPTIONS, summarize, takeSnapshot } from '../lib/heap-snapshot.js';
import { procMemory } from '../lib/proc-memory.js';
import { runSimProcess } from '../lib/sim-process.js';
import { fmt, writeResult, type Row } from '../lib/report.js';

const KiB = 1024;
const MiB = 1024 * 1024;

function lastStats(gw: GatewayProcess): LogLine {
  const s = gw.logs.filter((l) => l.event === 'stats').at(-1);
  if (!s) throw new Error('no stats line yet');
  return s;
}

async function waitForClients(gw: GatewayProcess, n: number, timeoutMs = 120_000): Promise<void> {
  const deadline = Date.now() + timeoutMs;
  while (((gw.logs.filter((l) => l.event === 'stats').at(-1)?.['clients'] as number | undefined) ?? 0) < n) {
    if (Date.now() > deadline) throw new Error(`fewer than ${n} clients after ${timeoutMs} ms`);
    await new Promise((r) => setTimeout(r, 250));
  }
}

interface Point {
  proc: { rss: number; anon: number; file: number };
  stats: LogLine;
  heapBytes: number;
}

async function measure(devices: number): Promise<{ zero: Point; loaded: Point; top: ReturnType<typeof diff> }> {
  const gw = new GatewayProcess({
    config: { log: { level: 'info', statsIntervalSecs: 1 }, mqtt: { limits: { maxConnections: 0, maxConnectionsPerAddress: 0 } }, kafka: { brokers: ['127.0.0.1:1'] } },
    env: { NODE_OPTIONS: SNAPSHOT_NODE_OPTIONS },
  });
  try {
    await gw.start();
    await new Promise((r) => setTimeout(r, 3000));
    // RSS before the snapshot: writing one costs native memory the size of the heap graph.
    const zero = { proc: procMemory(gw.pid!), stats: lastStats(gw) };
    const snap0 = await takeSnapshot(gw.pid!, gw.dir);
    const sum0 = summarize(snap0);
    rmSync(snap0);
    // Idle devices: one message a minute each, connected for the whole measurement.
    const sim = runSimProcess({ url: gw.url, devices, rate: 1 / 60, duration: `${Math.max(60, devices / 50)}s`, payloadBytes: 200, window: 16 });
    await waitForClients(gw, devices);
    await new Promise((r) => setTimeout(r, 5000));
    const loaded = { proc: procMemory(gw.pid!), stats: lastStats(gw) };
    const snapN = await takeSnapshot(gw.pid!, gw.dir);
    const sumN = summarize(snapN);
    rmSync(snapN);
    await sim;
    return { zero: { ...zero, heapBytes: sum0.totalBytes }, loaded: { ...loaded, heapBytes: sumN.totalBytes }, top: diff(sum0.groups, sumN.groups, devices) };
  } finally {
    await gw.close();
  }
}

export async function run(args: { devices: number[] }): Promise<void> {
  const rows: Row[] = [];
  const data: Record<string, unknown> = {};
  const builds = nodeAndNativeBuilds();
  const notes: string[] = [];
  for (const [build, cmd] of builds) for (const devices of args.devices) {
    const m = await withGatewayCmd(cmd, () => measure(devices));
    data[`${build} devices_${devices}`] = m;
    const per = (a: number, b: number) => fmt((b - a) / devices / KiB, 1);
    rows.push({
      gateway: build,
      devices,
      'RSS MiB before the first snapshot': fmt(m.zero.proc.rss / MiB, 1),
      'live heap MiB (0 -> N)': `${fmt(m.zero.heapBytes / MiB, 1)} -> ${fmt(m.loaded.heapBytes / MiB, 1)}`,
      'live heap KiB/device': per(m.zero.heapBytes, m.loaded.heapBytes),
      'heapTotal KiB/device': per(m.zero.stats['heapTotalBytes'] as number, m.loaded.stats['heapTotalBytes'] as number),
      'external KiB/device': per(m.zero.stats['externalBytes'] as number, m.loaded.stats['externalBytes'] as number),
    });
    notes.push(
      `${build}, ${devices} devices, live heap per device by constructor (bytes, count): ` +
        m.top
          .slice(0, 15)
          .map((t) => `${t.key} ${fmt(t.bytesPer)} B x${fmt(t.countPer, 1)}`)
          .join('; '),
    );
  }
  writeResult('heap', 'Heap per connection: 0 vs N idle devices (QoS1, Kafka down), heap snapshot diff by constructor', rows, data, [
    'live heap: self sizes of all nodes of a V8 heap snapshot (taken after a full GC); heapTotal/external/RSS from the stats line and /proc at the same moments',
    'no RSS per device here: writing a snapshot mallocs a graph of the whole heap, which glibc keeps, so every RSS after the first snapshot is inflated; RSS by device count is in memory-curve.md (no snapshots there)',
    ...notes,
  ]);
}
