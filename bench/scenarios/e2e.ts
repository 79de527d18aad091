/**
 * End to end: firmware-sim (own process) -> gateway (own process) -> real Kafka (acks=all),
 * audited. (1) sustained msgs/s at full speed; (2) device-publish -> Kafka-append latency at
 * fixed rates, from the payload's `ts` (stamped by the device just before PUBLISH) to the
 * record's LogAppendTime (stamped by the broker when it appended, i.e. when it could ack).
 */
import { GatewayProcess } from '../../test/support/gateway-process.js';
import { auditTopic } from '../../test/support/audit.js';
import { startBenchKafka } from '../lib/kafka-bench.js';
import { runSimProcess } from '../lib/sim-process.js';
import { percentiles } from '../lib/percentiles.js';
import { fmt, writeResult, type Row } from '../lib/report.js';
import type { SimSummary } from '../../firmware-sim/src/load-generator.js';
import type { AuditReport } from '../../gateway/src/audit/audit-report.js';

export async function run(args: { duration: string; rates: number[] }): Promise<void> {
  const rows: Row[] = [];
  const data: Record<string, unknown> = {};
  const scenarios: Array<{ name: string; devices: number; rate: number }> = [
    { name: 'max', devices: 100, rate: 0 },
    ...args.rates.map((r) => ({ name: `${r}/s`, devices: 100, rate: r / 100 })),
  ];
  for (const sc of scenarios) {
    const r = await runE2eOnce({ name: sc.name, devices: sc.devices, ratePerDevice: sc.rate, duration: args.duration });
    data[sc.name] = r;
    rows.push({
      load: sc.rate === 0 ? `max (${sc.devices} devices)` : `${sc.name} (${sc.devices} devices)`,
      'PUBACKed msgs/s': fmt(r.sim.msgsPerSec),
      'in Kafka msgs/s (first publish -> last append)': fmt(r.e2eRate),
      'publish->Kafka p50 ms': fmt(r.latencyMs.p50, 1),
      'p99 ms': fmt(r.latencyMs.p99, 1),
      'p99.9 ms': fmt(r.latencyMs.p999, 1),
      'after 5 s warm-up: p50 / p99 / p99.9 ms': `${fmt(r.warmLatencyMs.p50, 1)} / ${fmt(r.warmLatencyMs.p99, 1)} / ${fmt(r.warmLatencyMs.p999, 1)}`,
      'audit gaps/dups/ooo': `${r.report.gaps}/${r.report.duplicates}/${r.report.outOfOrder}`,
    });
  }
  writeResult('e2e', `End to end: sim -> gateway -> Kafka (acks=all), 200-byte payloads, ${args.duration} per load`, rows, data, [
    'Kafka single node on the same 2-core machine, 6 partitions, LogAppendTime; latency = broker append time - device timestamp (same clock)',
    'gateway defaults: synchronous=FULL, gzip, batchMaxRecords 5000, one batch in flight',
    'warm-up: a fresh broker and gateway per load; the second latency column leaves out records published in the first 5 s (JIT warm-up of the broker JVM); per-second p99s are in e2e.json',
    'max: devices are acknowledged faster than the forwarder drains, so the buffer grows during the run and its latency is queueing, not service time',
  ]);
}

export interface E2eResult {
  sim: SimSummary;
  report: AuditReport;
  e2eRate: number;
  latencyMs: { p50: number; p99: number; p999: number };
  /** Records published after the first WARMUP_MS of the run only. */
  warmLatencyMs: { p50: number; p99: number; p999: number };
  /** p99 latency of the records published in each second of the run (where a stall was). */
  perSecondP99: number[];
}

const WARMUP_MS = 5000;

function perSecond(sent: readonly number[], lat: readonly number[], start: number): number[] {
  const buckets: number[][] = [];
  for (let i = 0; i < sent.length; i++) (buckets[Math.floor((sent[i]! - start) / 1000)] ??= []).push(lat[i]!);
  return Array.from(buckets, (b) => (b && b.length > 0 ? percentiles(b, [99])[0]! : Number.NaN));
}

/** One load against a fresh Kafka and gateway (EG_TEST_GATEWAY_CMD picks the gateway build). */
export async function runE2eOnce(o: {
  name: string;
  devices: number;
  ratePerDevice: number;
  duration: string;
  gatewayConfig?: Record<string, Record<string, unknown>>;
  /** Runs once the gateway listens, before the load starts (e.g. a scraper). */
  onStarted?: (gw: GatewayProcess) => void;
}): Promise<E2eResult> {
  const topic = `bench.e2e.${o.name.replace(/[^a-z0-9]/gi, '')}`;
  const kafka = await startBenchKafka([topic, 'bench.dlq']);
  const extra = o.gatewayConfig ?? {};
  const gw = new GatewayProcess({ config: { ...extra, log: { level: 'info' }, kafka: { ...(extra['kafka'] ?? {}), brokers: kafka.brokers, topic, dlqTopic: 'bench.dlq' } }, env: { GATEWAY_LOG_LEVEL: 'info' } });
  try {
    await gw.start();
    if (o.onStarted) {
      await gw.waitForEvent('admin_listening', 10_000).catch(() => undefined);
      o.onStarted(gw);
    }
    const sim = await runSimProcess({ url: gw.url, devices: o.devices, rate: o.ratePerDevice, duration: o.duration, payloadBytes: 200, window: 64 });
    const lat: number[] = [];
    const sent: number[] = [];
    let firstTs = Number.POSITIVE_INFINITY;
    let lastAppend = 0;
    const report = await auditTopic({
      brokers: kafka.brokers,
      topic,
      dlqTopic: 'bench.dlq',
      sim,
      timeoutMs: 300_000,
      onRecord: (env, meta) => {
        const ts = (JSON.parse((env.payload as Buffer).toString()) as { ts: number }).ts;
        lat.push(meta.timestamp - ts);
        sent.push(ts);
        if (ts < firstTs) firstTs = ts;
        if (meta.timestamp > lastAppend) lastAppend = meta.timestamp;
      },
    });
    const [p50, p99, p999] = percentiles(lat, [50, 99, 99.9]);
    // The same after a warm-up: a freshly started broker JVM (and gateway) compiles its hot
    // paths during the first seconds, which on a small machine shows as seconds-long appends.
    const warm = lat.filter((_, i) => sent[i]! >= firstTs + WARMUP_MS);
    const [w50, w99, w999] = warm.length > 0 ? percentiles(warm, [50, 99, 99.9]) : [Number.NaN, Number.NaN, Number.NaN];
    const perSecondP99 = perSecond(sent, lat, firstTs);
    await gw.stop(); // graceful, so a --cpu-prof run writes its profile
    return { sim, report: { ...report, problems: report.problems.slice(0, 3) }, e2eRate: report.records / ((lastAppend - firstTs) / 1000), latencyMs: { p50: p50!, p99: p99!, p999: p999! }, warmLatencyMs: { p50: w50!, p99: w99!, p999: w999! }, perSecondP99 };
  } finally {
    await gw.close();
    await kafka.close();
  }
}
