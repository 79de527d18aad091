/**
 * Memory curve: gateway RSS and ingest at 10, 100, 1,000 and 10,000 devices (QoS1, 200-byte
 * payloads, Kafka down so everything is buffered), for the shipped single executable when it is
 * built natively under dist/ (else this checkout's build/). Per device count, three gateway runs:
 *   idle      every device connected, one message a minute each;
 *   10k/s     10,000 msgs/s in total spread over the devices (the "under load");
 *   ceiling   full speed, window 64 per device, beside mosquitto at the same device count.
 * `--node-options "A|B"` repeats the curve once per set of node flags, in the same run, so flag
 * trade-offs are compared side by side; `--build node` runs build/ under the bench's own node, the
 * flags on its command line (any V8 flag); for the executable they go in NODE_OPTIONS (which
 * Node limits to a few V8 flags).
 */
import { readFileSync } from 'node:fs';
import { GatewayProcess } from '../../test/support/gateway-process.js';
import { buildCmdWithNodeFlags, builtExecutables, withGatewayCmd } from '../lib/gateway-builds.js';
import { startMosquitto } from '../lib/mosquitto.js';
import { procMemory } from '../lib/proc-memory.js';
import { runSimProcess } from '../lib/sim-process.js';
import { fmt, writeResult, type Row } from '../lib/report.js';

const MiB = 1024 * 1024;

interface Run {
  /** VmRSS: includes the executable's clean file-backed pages (text, ICU data, SEA blob), which the kernel can reclaim. */
  rssPeak: number;
  /** RssAnon: heap, stacks, malloc: what only a restart gives back. */
  anonPeak: number;
  /** Gateway CPU (user + system) per acknowledged message, microseconds. */
  cpuUsPerMsg: number;
  /** The last stats line of the run (devices still connected): after the connection storm's garbage is collected. */
  rssLast: number;
  heapUsedPeak: number;
  heapTotalPeak: number;
  clients: number;
  msgsPerSec: number;
  /** heap_trimmed events (memory.trim) and the RSS they returned, MiB. */
  trims: number;
  trimmedMiB: number;
}

/** VmRSS and RssAnon in bytes; zeros once the process is gone. */
function procRss(pid: number): { rss: number; anon: number } {
  try {
    return procMemory(pid);
  } catch {
    return { rss: 0, anon: 0 };
  }
}

/** utime + stime of a process, in seconds (clock ticks of 100 Hz). */
function cpuSecs(pid: number): number {
  try {
    const fields = readFileSync(`/proc/${pid}/stat`, 'utf8').split(') ')[1]!.split(' ');
    return (Number(fields[11]) + Number(fields[12])) / 100;
  } catch {
    return NaN;
  }
}

async function gatewayRun(devices: number, rate: number, window: number, duration: string, nodeOptionsEnv: string): Promise<Run> {
  const gw = new GatewayProcess({
    config: { log: { level: 'info', statsIntervalSecs: 1 }, mqtt: { limits: { maxConnections: 0, maxConnectionsPerAddress: 0 } }, kafka: { brokers: ['127.0.0.1:1'] } },
    env: nodeOptionsEnv ? { NODE_OPTIONS: nodeOptionsEnv } : {},
  });
  try {
    await gw.start();
    const pid = gw.pid!;
    // Our own 1 s samples of /proc, kept while (nearly) every device was connected.
    const samples: Array<{ rss: number; anon: number }> = [];
    const sampler = setInterval(() => {
      const clients = (gw.logs.filter((l) => l.event === 'stats').at(-1)?.['clients'] as number | undefined) ?? 0;
      if (clients >= devices * 0.99) samples.push(procRss(pid));
    }, 1000);
    const cpu0 = cpuSecs(pid);
    const sim = await runSimProcess({ url: gw.url, devices, rate, duration, payloadBytes: 200, window }).finally(() => clearInterval(sampler));
    const cpu = cpuSecs(pid) - cpu0;
    const all = gw.logs.filter((l) => l.event === 'stats');
    const trims = gw.logs.filter((l) => l.event === 'heap_trimmed');
    // Peaks over the stats lines while (nearly) every device was connected.
    const stats = all.filter((l) => (l['clients'] as number) >= devices * 0.99);
    const peak = (k: string) => Math.max(0, ...stats.map((l) => l[k] as number));
    return {
      anonPeak: Math.max(0, ...samples.map((x) => x.anon)),
      cpuUsPerMsg: sim.acked > 0 ? (cpu * 1e6) / sim.acked : NaN,
      rssPeak: Math.max(peak('rssBytes'), ...samples.map((x) => x.rss)), rssLast: (stats.at(-1)?.['rssBytes'] as number | undefined) ?? 0, heapUsedPeak: peak('heapUsedBytes'), heapTotalPeak: peak('heapTotalBytes'), clients: Math.max(0, ...all.map((l) => l['clients'] as number)), msgsPerSec: sim.msgsPerSec, trims: trims.length, trimmedMiB: trims.reduce((n, l) => n + (l['freedBytes'] as number), 0) / MiB };
  } finally {
    await gw.close();
  }
}

/** mosquitto's msgs/s at full speed, and how many devices got at least one PUBACK. */
async function mosquittoCeiling(devices: number, duration: string): Promise<{ msgsPerSec: number; served: number }> {
  const mosq = await startMosquitto();
  try {
    const s = await runSimProcess({ url: mosq.url, devices, rate: 0, duration, payloadBytes: 200, window: 64 });
    return { msgsPerSec: s.msgsPerSec, served: Object.values(s.perDevice).filter((d) => d.acked > 0).length };
  } finally {
    await mosq.close();
  }
}

/** Long enough for every device to be connected for a good part of the run. */
const durationFor = (devices: number, base: number) => `${base + Math.ceil(devices / 500)}s`;

export async function run(args: { devices: number[]; nodeOptions: string[]; duration: number; build: 'binary' | 'node' }): Promise<void> {
  const rows: Row[] = [];
  const data: Record<string, unknown> = {};
  // NODE_OPTIONS cannot override a flag the executable's own execArgv sets (those count as command
  // line), so flag variants of what the binary pins are measured on build/ under the same Node.
  const native = args.build === 'binary' ? builtExecutables().find(([name]) => name.includes('native')) : undefined;
  const [build, cmd]: [string, string | undefined] = native ?? [`node ${process.version} build/`, undefined];
  const mosq = new Map<number, { msgsPerSec: number; served: number }>();
  for (const devices of args.devices) mosq.set(devices, await mosquittoCeiling(devices, durationFor(devices, args.duration)));
  // Variants back to back per device count, so a neighbour's load on this shared machine hits both.
  for (const devices of args.devices) for (const nodeOptions of args.nodeOptions) {
    const d = (base: number) => durationFor(devices, base);
    const [runCmd, env] = native ? [cmd, nodeOptions] : [buildCmdWithNodeFlags(nodeOptions), ''];
    const idle = await withGatewayCmd(runCmd, () => gatewayRun(devices, 1 / 60, 16, d(args.duration), env));
    const busy = await withGatewayCmd(runCmd, () => gatewayRun(devices, 10_000 / devices, 16, d(args.duration), env));
    const ceiling = await withGatewayCmd(runCmd, () => gatewayRun(devices, 0, 64, d(args.duration), env));
    const m = mosq.get(devices)!;
    data[`${nodeOptions || 'default'} devices_${devices}`] = { idle, busy, ceiling, mosquitto: m };
    rows.push({
      ...(args.nodeOptions.length > 1 ? { 'node flags': nodeOptions || '(none)' } : {}),
      devices,
      connected: `${idle.clients} / ${busy.clients} / ${ceiling.clients}`,
      'idle RSS MiB peak / last': `${fmt(idle.rssPeak / MiB, 1)} / ${fmt(idle.rssLast / MiB, 1)}`,
      'idle heap used/total MiB': `${fmt(idle.heapUsedPeak / MiB, 1)} / ${fmt(idle.heapTotalPeak / MiB, 1)}`,
      'idle RssAnon MiB': fmt(idle.anonPeak / MiB, 1),
      'idle heap trims (MiB freed)': `${idle.trims} (${fmt(idle.trimmedMiB, 0)})`,
      '10k/s RSS MiB': fmt(busy.rssPeak / MiB, 1),
      '10k/s RssAnon MiB': fmt(busy.anonPeak / MiB, 1),
      '10k/s heap trims (MiB freed)': `${busy.trims} (${fmt(busy.trimmedMiB, 0)})`,
      '10k/s gw CPU us/msg': fmt(busy.cpuUsPerMsg, 1),
      '10k/s achieved msgs/s': fmt(busy.msgsPerSec),
      'ceiling RSS MiB': fmt(ceiling.rssPeak / MiB, 1),
      'ceiling msgs/s': fmt(ceiling.msgsPerSec),
      'ceiling gw CPU us/msg': fmt(ceiling.cpuUsPerMsg, 1),
      'mosquitto msgs/s (served)': `${fmt(m.msgsPerSec)} (${m.served})`,
      'ratio gw/mosq': fmt(ceiling.msgsPerSec / m.msgsPerSec, 2),
    });
  }
  writeResult(args.build === 'binary' && args.nodeOptions.length === 1 ? 'memory-curve' : `memory-curve-${args.build}-flags`, `Memory curve: ${build}, RSS and ingest by device count (QoS1, 200-byte payloads, Kafka down)`, rows, data, [
    'RSS/heap: peak of the gateway\'s own 1 s stats lines while >= 99% of the devices were connected (idle: also the last line, when the connection storm\'s garbage has been collected); connected = peak clients in the idle / 10k/s / ceiling runs',
    'RssAnon: anonymous resident memory (V8 heap, malloc, stacks) sampled from /proc each second; RSS also counts the executable\'s clean file-backed pages (~70 MiB for the single executable: Node\'s text, ICU data, the SEA blob), which the kernel can drop under memory pressure',
    'heap trims: heap_trimmed events in the run (memory.trim, default on) and the anonymous RSS they returned; the idle peak RSS is before the trim, the idle last after it',
    'gw CPU us/msg: the gateway\'s user+system CPU over the run divided by acknowledged messages: a cost that a busy neighbour on this shared machine moves far less than msgs/s',
    `idle: one message a minute per device; 10k/s: 10,000 msgs/s in total spread over the devices (window 16); ceiling: full speed, window 64 per device; ${args.duration} s + 1 s per 500 devices per run`,
    'mosquitto 2 (in memory; served = devices that got a PUBACK) at full speed with the same load generator, in the same run, before the gateway runs: the ratio is measured side by side on a shared 2-core machine, absolute msgs/s are not comparable across runs',
  ]);
}
