/**
 * Session floor: what one more idle device costs in resident memory, per MQTT session layer, under
 * the same load generator in one run (N idle QoS1 devices, one 200-byte message a minute each,
 * each subscribed to its config topic as firmware-sim does by default):
 *   mosquitto            the C reference broker;
 *   node:net + mqtt-packet  the floor of any session layer on Node: a socket and a parser per
 *                        connection, answering CONNECT/SUBSCRIBE/PUBLISH/PINGREQ and nothing else;
 *   aedes alone          the broker the gateway embeds, with its defaults and no hooks;
 *   the gateway          build/ under this node, and the single executable when built natively.
 * RssAnon (anonymous resident memory: V8 heap, malloc, stacks) is read from /proc before the
 * devices connect and (median of 5 samples) 15 s after all of them are connected; the difference
 * over N is the per-device cost. Nothing forces a GC, for any variant (the gateway's heap trim is
 * off here; memory-curve measures it); every Node variant runs with the V8 flags
 * the single executable bakes in (SEA_EXEC_ARGV), so the young generation is the same size.
 * Answers issue 13's "if aedes' per-client cost is the floor, show the numbers".
 */
import { spawn, type ChildProcess } from 'node:child_process';
import { readFileSync } from 'node:fs';
import { fileURLToPath } from 'node:url';
import { SEA_EXEC_ARGV } from '../../deploy/build/sea-inject.js';
import { GatewayProcess } from '../../test/support/gateway-process.js';
import { sleep } from '../../test/support/wait.js';
import { freePort } from '../lib/free-port.js';
import { procMemory } from '../lib/proc-memory.js';
import { nodeAndNativeBuilds, withGatewayCmd } from '../lib/gateway-builds.js';
import { startMosquitto } from '../lib/mosquitto.js';
import { fmt, writeResult, type Row } from '../lib/report.js';
import { runSimProcess } from '../lib/sim-process.js';

const KiB = 1024;
const MiB = 1024 * KiB;

interface Running {
  pid: number;
  port: number;
  /** V8 heap used/total now (Node variants only). */
  heap(): { used: number; total: number } | undefined;
  close(): Promise<void>;
}

interface Sample {
  anon: number;
  rss: number;
  heapUsed: number;
  heapTotal: number;
}

/** Established IPv4 connections whose local port is `port` (the broker's side of each device). */
function establishedTo(port: number): number {
  const hex = `:${port.toString(16).toUpperCase().padStart(4, '0')}`;
  let n = 0;
  for (const line of readFileSync('/proc/net/tcp', 'utf8').split('\n').slice(1)) {
    const f = line.trim().split(/\s+/);
    if (f[1]?.endsWith(hex) && f[3] === '01') n++;
  }
  return n;
}

/** A bench broker from build/bench/brokers/, which prints its memoryUsage() each second. */
async function startNodeBroker(script: string): Promise<Running> {
  const port = await freePort();
  const path = fileURLToPath(new URL(`../brokers/${script}`, import.meta.url));
  const child: ChildProcess = spawn(process.execPath, [...SEA_EXEC_ARGV, path, String(port)], { stdio: ['ignore', 'pipe', 'inherit'] });
  let last: { heapUsed: number; heapTotal: number } | undefined;
  let buffered = '';
  child.stdout!.setEncoding('utf8').on('data', (chunk: string) => {
    buffered += chunk;
    const lines = buffered.split('\n');
    buffered = lines.pop() ?? '';
    for (const l of lines) if (l.startsWith('{')) last = JSON.parse(l) as typeof last;
  });
  for (let i = 0; last === undefined; i++) {
    if (i > 200 || child.exitCode !== null) throw new Error(`${script} did not start`);
    await sleep(50);
  }
  return {
    pid: child.pid!,
    port,
    heap: () => (last ? { used: last.heapUsed, total: last.heapTotal } : undefined),
    close: () => new Promise<void>((resolve) => (child.exitCode !== null ? resolve() : (child.once('exit', () => resolve()), child.kill('SIGKILL')))),
  };
}

async function startGateway(cmd: string | undefined): Promise<Running> {
  const gw = new GatewayProcess({
    // The heap trim is off here: no other variant gets a memory-reducing GC (memory-curve shows the trim).
    config: { log: { level: 'info', statsIntervalSecs: 1 }, mqtt: { limits: { maxConnections: 0, maxConnectionsPerAddress: 0 } }, kafka: { brokers: ['127.0.0.1:1'] }, memory: { trim: { enabled: false } } },
    // build/ under node gets the executable's flags; the executable has them already.
    env: { NODE_OPTIONS: SEA_EXEC_ARGV.join(' ') },
  });
  await withGatewayCmd(cmd, () => gw.start());
  return {
    pid: gw.pid!,
    port: Number(new URL(gw.url).port),
    heap: () => {
      const s = gw.logs.filter((l) => l.event === 'stats').at(-1);
      return s ? { used: s['heapUsedBytes'] as number, total: s['heapTotalBytes'] as number } : undefined;
    },
    close: () => gw.close(),
  };
}

async function startMosquittoRunning(): Promise<Running> {
  const m = await startMosquitto();
  return { pid: m.pid, port: Number(new URL(m.url).port), heap: () => undefined, close: () => m.close() };
}

/** `n` samples one second apart: a GC can land between any two. */
async function samples(r: Running, n: number): Promise<Sample[]> {
  const out: Sample[] = [];
  for (let i = 0; i < n; i++) {
    if (i > 0) await sleep(1000);
    out.push(sample(r));
  }
  return out;
}

function medianSample(all: Sample[]): Sample {
  const median = (k: keyof Sample) => all.map((x) => x[k]).sort((a, b) => a - b)[Math.floor(all.length / 2)]!;
  return { anon: median('anon'), rss: median('rss'), heapUsed: median('heapUsed'), heapTotal: median('heapTotal') };
}

function sample(r: Running): Sample {
  const { anon, rss } = procMemory(r.pid);
  const h = r.heap();
  return { anon, rss, heapUsed: h?.used ?? NaN, heapTotal: h?.total ?? NaN };
}

async function measure(start: () => Promise<Running>, devices: number): Promise<{ zero: Sample; loaded: Sample; connected: number }> {
  const r = await start();
  try {
    await sleep(3000);
    const zero = sample(r);
    const sim = runSimProcess({ url: `mqtt://127.0.0.1:${r.port}`, devices, rate: 1 / 60, duration: `${35 + Math.ceil(devices / 250)}s`, payloadBytes: 200, window: 16 });
    const deadline = Date.now() + 120_000;
    while (establishedTo(r.port) < devices && Date.now() < deadline) await sleep(250);
    // Let the connection storm's garbage be collected the way each runtime does it on its own
    // (V8's memory reducer starts 8 s after a mark-compact that grew the heap).
    await sleep(15_000);
    const connected = establishedTo(r.port);
    const loaded = medianSample(await samples(r, 5));
    await sim;
    return { zero, loaded, connected };
  } finally {
    await r.close();
  }
}

export async function run(args: { devices: number[] }): Promise<void> {
  const variants: Array<[string, () => Promise<Running>]> = [
    ['mosquitto 2 (C)', startMosquittoRunning],
    ['node:net + mqtt-packet (floor)', () => startNodeBroker('mqtt-floor.js')],
    ['aedes alone', () => startNodeBroker('aedes-alone.js')],
    ...nodeAndNativeBuilds().map(([name, cmd]): [string, () => Promise<Running>] => [`gateway, ${name}`, () => startGateway(cmd)]),
  ];
  const rows: Row[] = [];
  const data: Record<string, unknown> = {};
  // Variants back to back per device count, so a neighbour's load on this shared machine hits all.
  for (const devices of args.devices) for (const [name, start] of variants) {
    const m = await measure(start, devices);
    data[`${name} devices_${devices}`] = m;
    const per = (a: number, b: number) => fmt((b - a) / devices / KiB, 1);
    rows.push({
      'session layer': name,
      devices,
      connected: m.connected,
      'RssAnon MiB (0 -> N)': `${fmt(m.zero.anon / MiB, 1)} -> ${fmt(m.loaded.anon / MiB, 1)}`,
      'RssAnon KiB/device': per(m.zero.anon, m.loaded.anon),
      'VmRSS MiB at N': fmt(m.loaded.rss / MiB, 1),
      'heap used MiB (0 -> N)': Number.isFinite(m.loaded.heapUsed) ? `${fmt(m.zero.heapUsed / MiB, 1)} -> ${fmt(m.loaded.heapUsed / MiB, 1)}` : '-',
      'heap total KiB/device': Number.isFinite(m.loaded.heapTotal) ? per(m.zero.heapTotal, m.loaded.heapTotal) : '-',
    });
  }
  writeResult('session-floor', 'Session floor: resident memory per idle device, by MQTT session layer (QoS1, 1 msg/min, subscribed to its config topic)', rows, data, [
    `RssAnon: anonymous resident memory from /proc, before the devices connect and then the median of 5 samples 1 s apart, 15 s after the last one connected; KiB/device = the difference over N. No variant is forced to GC (the gateway's heap trim is off here): each runtime collects the connection storm its own way. Every Node variant runs with the executable's V8 flags (${SEA_EXEC_ARGV.join(' ')})`,
    'node:net + mqtt-packet is a bench reference (bench/brokers/mqtt-floor.ts), not a broker: no authentication, no session state, no routing; it is the least any Node session layer can cost per connection (a socket, its stream states and a parser)',
    'aedes alone: bench/brokers/aedes-alone.ts, aedes defaults (in-memory persistence), no hooks; the gateway adds authentication, ACLs, limits and the publish gate around the same aedes',
    'heap: process.memoryUsage() (bench brokers) or the gateway\'s stats line at the same moments; mosquitto has none',
  ]);
}
