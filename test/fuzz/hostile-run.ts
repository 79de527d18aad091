/**
 * One fuzz run against a running gateway process, the way the system test and the bench both
 * need it: the gateway's RSS sampled from /proc every 200 ms, a legitimate MQTT.js device
 * publishing QoS1 with a per-message seq from before the first fuzz frame until after the
 * last, then everything that device got PUBACK for read back from Kafka and decoded.
 *
 * The legit device publishes on its own route (`legit/{deviceId}/telemetry`) whose records go to
 * their own Kafka topic. The fuzz devices' accepted records carry seqs like 10^20, and the
 * auditor's gap scan is linear in the highest seq (finding F1 in the fuzz test): auditing them
 * would abort the auditor, not the gateway. Any fuzz record that reached the legit topic shows
 * up as a foreign device id there.
 */
import mqtt from 'mqtt';
import { runSimulation } from '../../firmware-sim/src/load-generator.js';
import type { PerDeviceSummary, SimProgress } from '../../firmware-sim/src/load-generator.js';
import type { EncoderRoute } from '../../gateway/src/encode/avro-encoder.js';
import { auditTopic } from '../support/audit.js';
import type { GatewayProcess } from '../support/gateway-process.js';
import { runFuzz, type FuzzOptions, type FuzzStats } from './fuzz-driver.js';
import { RssSampler, type RssSummary } from './rss-sampler.js';

export const LEGIT_DEVICE = 'legit-00001';
/** The route the legit device publishes on; its kafkaTopic is the one audited. */
export const LEGIT_ROUTE = 'legit/{deviceId}/telemetry';

export interface HostileRunOptions {
  gw: GatewayProcess;
  brokers: string[];
  /** Kafka topic of LEGIT_ROUTE (only the legit device may publish there). */
  legitTopic: string;
  dlqTopic: string;
  /** The gateway's routes (for decoding). */
  routes: EncoderRoute[];
  fuzz: Omit<FuzzOptions, 'host' | 'port' | 'shouldStop' | 'onProgress'>;
  /** Legitimate device publish rate (msgs/s). */
  legitRate?: number;
  /** Legit acks are recorded this many times, evenly over the fuzz frames. */
  checkpoints?: number;
  onProgress?: (s: Readonly<FuzzStats>, rssBytes: number) => void;
}

export interface LegitOutcome {
  report: PerDeviceSummary;
  /** The device's acked count when the fuzzer passed each checkpoint (and at the end). */
  ackedAtCheckpoints: number[];
  /** Device seqs read back from Kafka for the device, first sightings, in partition order. */
  seqsInKafka: number[];
  /** Every seq 1..acked was in Kafka, and first sightings never went backwards. */
  complete: boolean;
  inOrder: boolean;
  kafkaRecords: number;
  /** Device ids seen on the legit topic (only the legit device's should be there). */
  devicesInTopic: string[];
  keyMismatches: number;
  undecodable: number;
}

export interface HostileRunResult {
  stats: FuzzStats;
  rss: RssSummary;
  /** RSS sampled before the legit device and the fuzzer started. */
  idleRssBytes: number;
  crashed: boolean;
  /** After the run, a new client connected and got PUBACK for a QoS1 publish. */
  freshClientServed: boolean;
  legit: LegitOutcome;
}

export async function runHostile(o: HostileRunOptions): Promise<HostileRunResult> {
  const { gw } = o;
  if (gw.pid === undefined) throw new Error('gateway not started');
  const sampler = new RssSampler(gw.pid, 200).start();
  await new Promise((r) => setTimeout(r, 1000));
  const idleRssBytes = sampler.summary.endBytes;

  let lastLegit: SimProgress | null = null;
  const abort = new AbortController();
  const legitRun = runSimulation(
    { url: gw.url, devices: 1, deviceIdPrefix: 'legit-', topicTemplate: LEGIT_ROUTE, qos: 1, ratePerDevice: o.legitRate ?? 50, inflightWindow: 8, progressIntervalMs: 100, drainTimeoutMs: 20_000, connectSpreadMs: 0 },
    { signal: abort.signal, onProgress: (p) => (lastLegit = p) },
  );
  // The device is connected and acknowledged before the first fuzz frame.
  for (let i = 0; i < 100 && ((lastLegit as SimProgress | null)?.acked ?? 0) === 0; i++) await new Promise((r) => setTimeout(r, 100));

  const checkpoints = o.checkpoints ?? 4;
  const ackedAtCheckpoints: number[] = [];
  let nextMark = 1;
  let stats: FuzzStats;
  try {
    stats = await runFuzz({
      ...o.fuzz,
      host: '127.0.0.1',
      port: gw.port,
      shouldStop: () => !gw.running,
      onProgress: (s) => {
        while (nextMark < checkpoints && s.framesPlanned >= (o.fuzz.frames * nextMark) / checkpoints) {
          ackedAtCheckpoints.push((lastLegit as SimProgress | null)?.acked ?? 0);
          nextMark++;
        }
        o.onProgress?.(s, sampler.summary.endBytes);
      },
    });
    ackedAtCheckpoints.push((lastLegit as SimProgress | null)?.acked ?? 0);
  } finally {
    abort.abort();
  }
  const sim = await legitRun;
  const rss = sampler.stop();
  const crashed = !gw.running;
  const freshClientServed = crashed ? false : await freshClientPublishes(gw.url);

  const report = sim.perDevice[LEGIT_DEVICE]!;
  const seqs: number[] = [];
  const seen = new Set<number>();
  const devicesInTopic = new Set<string>();
  const audit = await auditTopic({
    brokers: o.brokers,
    topic: o.legitTopic,
    dlqTopic: o.dlqTopic,
    routes: o.routes,
    sim, // its only device is the legit one: the audit waits until every acked seq is read
    timeoutMs: 60_000,
    onRecord: (env, meta) => {
      devicesInTopic.add(env.deviceId);
      if (env.deviceId !== LEGIT_DEVICE || meta.key !== LEGIT_DEVICE) return;
      const seq = (JSON.parse((env.payload as Buffer).toString('utf8')) as { seq: number }).seq;
      if (!seen.has(seq)) seqs.push(seq);
      seen.add(seq);
    },
  });
  let complete = report.ackedContiguousTo === report.acked;
  for (let s = 1; s <= report.acked; s++) if (!seen.has(s)) complete = false;
  const inOrder = seqs.every((s, i) => i === 0 || s > seqs[i - 1]!);
  return {
    stats,
    rss,
    idleRssBytes,
    crashed,
    freshClientServed,
    legit: { report, ackedAtCheckpoints, seqsInKafka: seqs, complete, inOrder, kafkaRecords: audit.records, devicesInTopic: [...devicesInTopic].sort(), keyMismatches: audit.keyMismatches, undecodable: audit.undecodable },
  };
}

/** A client that was not part of the run: CONNECT, QoS1 PUBLISH on its own route, PUBACK. */
async function freshClientPublishes(url: string): Promise<boolean> {
  const client = await mqtt.connectAsync(url, { clientId: 'fresh-00001', clean: true, reconnectPeriod: 0, connectTimeout: 10_000 }).catch(() => null);
  if (!client) return false;
  try {
    await client.publishAsync('devices/fresh-00001/telemetry', JSON.stringify({ seq: 1 }), { qos: 1 });
    return true;
  } catch {
    return false;
  } finally {
    await client.endAsync();
  }
}
