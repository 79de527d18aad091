/**
 * One power-cut run, shared by the system test and the bench: the gateway's buffer on powercut-fs,
 * devices publishing QoS 1 at a fixed rate, and at seeded random moments the power is cut (the
 * gateway SIGKILLed, then everything not fsynced thrown away), the file system remounted over
 * what was durable and the gateway restarted on it. Odd lives cannot reach Kafka (everything
 * acknowledged stays in the buffer: the hard case), even lives forward. At every cut the exact
 * acknowledged seqs are snapshotted; after the last life drains, Kafka is read back and every
 * missing acknowledged message is charged to the cut that lost it.
 */
import { join } from 'node:path';
import { deviceSeqOf } from '../../gateway/src/audit/audit-report.js';
import type { AuditReport } from '../../gateway/src/audit/audit-report.js';
import { runSimulation, type SimFleet, type SimSummary } from '../../firmware-sim/src/load-generator.js';
import { createRng } from '../../firmware-sim/src/rng.js';
import { attributeLosses, type FleetAcks, type LossAttribution } from './acked-loss.js';
import { auditTopic } from './audit.js';
import { GatewayProcess } from './gateway-process.js';
import { createPowercutFs, type CutReport } from './powercut-fs.js';

export type Synchronous = 'FULL' | 'EXTRA' | 'NORMAL';

export interface PowerCutOptions {
  synchronous: Synchronous;
  cuts: number;
  seed: number;
  brokers: readonly string[];
  topic: string;
  dlqTopic: string;
  devices?: number;
  ratePerDevice?: number;
  /** A life lasts min + rng * (max - min) ms before its cut. */
  lifeMs?: readonly [number, number];
  /** Progress, one line per cut (bench and test diagnostics). */
  log?: (line: string) => void;
}

export interface CutRecord {
  cut: number;
  kafka: 'down' | 'up';
  lifeMs: number;
  ackedInLife: number;
  lostAcked: number;
  /** Rows the restarted gateway found in the buffer. */
  bufferedAtRestart: number;
  fs: CutReport;
}

export interface PowerCutResult {
  synchronous: Synchronous;
  seed: number;
  sim: SimSummary;
  report: AuditReport;
  cuts: CutRecord[];
  loss: LossAttribution;
  elapsedMs: number;
}

const DEVICES = 30;
const RATE_PER_DEVICE = 30;
const INFLIGHT_WINDOW = 16;
export const BATCH_MAX_RECORDS = 500;

function sleep(ms: number): Promise<void> {
  return new Promise((r) => setTimeout(r, ms));
}

async function until(cond: () => boolean | Promise<boolean>, timeoutMs: number, what: string): Promise<void> {
  const deadline = Date.now() + timeoutMs;
  while (!(await cond())) {
    if (Date.now() > deadline) throw new Error(`timed out after ${timeoutMs} ms waiting for ${what}`);
    await sleep(50);
  }
}

async function bufferedRows(gw: GatewayProcess): Promise<number> {
  const res = await fetch(`http://127.0.0.1:${gw.adminPort}/status`);
  return ((await res.json()) as { buffer: { rows: number } }).buffer.rows;
}

export async function runPowerCuts(o: PowerCutOptions): Promise<PowerCutResult> {
  const log = o.log ?? (() => undefined);
  const rng = createRng(o.seed);
  const [minLife, maxLife] = o.lifeMs ?? [500, 2000];
  const started = Date.now();
  const fs = await createPowercutFs();
  const kafkaUp = { brokers: [...o.brokers], topic: o.topic, dlqTopic: o.dlqTopic, batchMaxRecords: BATCH_MAX_RECORDS, retryInitialMs: 100, retryMaxMs: 1000 };
  const config = (life: number, port: number) => ({
    mqtt: { port },
    buffer: { path: join(fs.dir, 'buffer.db'), synchronous: o.synchronous },
    kafka: life % 2 === 1 && life <= o.cuts ? { ...kafkaUp, brokers: ['127.0.0.1:1'] } : kafkaUp,
  });
  // The config lives outside the power-cut file system (it is not what is under test).
  const first = new GatewayProcess({ config: config(1, 0) });
  let current = first;
  const stopDevices = new AbortController();
  try {
    await first.start();
    const port = first.port;
    let fleet: SimFleet | undefined;
    const simDone = runSimulation(
      { url: first.url, devices: o.devices ?? DEVICES, qos: 1, ratePerDevice: o.ratePerDevice ?? RATE_PER_DEVICE, inflightWindow: INFLIGHT_WINDOW, reconnectBaseMs: 100, reconnectMaxMs: 1000, drainTimeoutMs: 60_000, seed: o.seed },
      { signal: stopDevices.signal, onStart: (f) => (fleet = f) },
    );
    const snapshots: FleetAcks[] = [];
    const cuts: Array<Omit<CutRecord, 'ackedInLife' | 'lostAcked'>> = [];
    for (let cut = 1; cut <= o.cuts; cut++) {
      const lifeMs = Math.round(minLife + rng() * (maxLife - minLife));
      await sleep(lifeMs);
      // The power cut: the process dies, then the unsynced data goes; nothing after can persist.
      await current.kill();
      const fsReport = await fs.cut();
      // PUBACKs already on their way may still arrive: the acks of a moment are read once every
      // device has seen its connection drop.
      await until(() => fleet!.connected() === 0, 5000, 'devices to see the connection drop');
      snapshots.push(fleet!.ackedSnapshot());
      await fs.mount();
      current = new GatewayProcess({ dir: first.dir, config: config(cut + 1, port) });
      await current.start();
      const bufferedAtRestart = Number(current.logs.find((l) => l.event === 'buffer_open')?.['bufferedRows'] ?? 0);
      cuts.push({ cut, kafka: cut % 2 === 1 ? 'down' : 'up', lifeMs, bufferedAtRestart, fs: fsReport });
      log(`cut ${cut}/${o.cuts} (${o.synchronous}, Kafka ${cut % 2 === 1 ? 'down' : 'up'}) after ${lifeMs} ms: ${fsReport.lostBytes} unsynced bytes lost, ${bufferedAtRestart} rows found at restart`);
    }
    // Last life: Kafka up, the devices catch up, then stop and everything drains.
    await sleep(2000);
    stopDevices.abort();
    const sim = await simDone;
    await until(async () => (await bufferedRows(current)) === 0, 120_000, 'the buffer to drain');
    const seen = new Map<string, Set<number>>();
    const onRecord = (env: { deviceId: string; payload: Buffer | Record<string, unknown> }): void => {
      const seq = deviceSeqOf(env.payload);
      if (seq === null) return;
      let s = seen.get(env.deviceId);
      if (!s) seen.set(env.deviceId, (s = new Set()));
      s.add(seq);
    };
    // The buffer is empty, so Kafka has everything it will ever get: with NORMAL (losses
    // expected) read to the end offsets; with FULL/EXTRA wait for every acknowledged seq.
    const report = await auditTopic({ brokers: o.brokers, topic: o.topic, dlqTopic: o.dlqTopic, timeoutMs: 60_000, onRecord, ...(o.synchronous === 'NORMAL' ? {} : { sim }) });
    const loss = attributeLosses(snapshots, fleet!.ackedSnapshot(), seen);
    return {
      synchronous: o.synchronous,
      seed: o.seed,
      sim,
      report,
      cuts: cuts.map((c, i) => ({ ...c, ackedInLife: loss.ackedPerLife[i]!, lostAcked: loss.lostPerCut[i]! })),
      loss,
      elapsedMs: Date.now() - started,
    };
  } finally {
    stopDevices.abort();
    await current.close();
    await first.close(); // owns the config directory
    await fs.close();
  }
}
