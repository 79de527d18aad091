/**
 * The hot path's cost of the admin side, before/after in one run: the same loads against the
 * gateway with `admin.enabled: false` (no server, histogram observer inert) and with
 * `admin.enabled: true` plus a scraper fetching /metrics every second. Runs alternate
 * off/on/off/on so drift of the machine hits both alike.
 *   ingest: 100 devices at full speed, Kafka unreachable (group commit + acks: the commit histograms)
 *   e2e:    100 devices at full speed, real Kafka, audited (adds the send and publish->ack histograms)
 */
import type { SimSummary } from '../../firmware-sim/src/load-generator.js';
import { GatewayProcess } from '../../test/support/gateway-process.js';
import { runSimProcess } from '../lib/sim-process.js';
import { fmt, writeResult, type Row } from '../lib/report.js';
import { runE2eOnce } from './e2e.js';

/** Fetches /metrics every second while the gateway runs; returns a stop function with the count. */
function startScraper(gw: GatewayProcess): () => { scrapes: number; failures: number; lastBytes: number } {
  let scrapes = 0;
  let failures = 0;
  let lastBytes = 0;
  const timer = setInterval(() => {
    const port = gw.adminPort;
    if (port === 0) return;
    fetch(`http://127.0.0.1:${port}/metrics`)
      .then(async (r) => {
        lastBytes = (await r.text()).length;
        if (r.ok) scrapes++;
        else failures++;
      })
      .catch(() => failures++);
  }, 1000);
  return () => {
    clearInterval(timer);
    return { scrapes, failures, lastBytes };
  };
}

async function ingestOnce(enabled: boolean, duration: string): Promise<{ sim: SimSummary; scrapes: number }> {
  const gw = new GatewayProcess({ config: { log: { level: 'warn' }, kafka: { brokers: ['127.0.0.1:1'] }, admin: { enabled, port: 0 } }, env: { GATEWAY_LOG_LEVEL: 'info' } });
  let stop: (() => { scrapes: number }) | null = null;
  try {
    await gw.start();
    if (enabled) {
      await gw.waitForEvent('admin_listening');
      stop = startScraper(gw);
    }
    const sim = await runSimProcess({ url: gw.url, devices: 100, rate: 0, duration, payloadBytes: 200, window: 64 });
    return { sim, scrapes: stop?.().scrapes ?? 0 };
  } finally {
    await gw.close();
  }
}

export async function run(args: { duration: string; rounds: number }): Promise<void> {
  const rows: Row[] = [];
  const data: Record<string, unknown[]> = { ingest_off: [], ingest_on: [], e2e_off: [], e2e_on: [] };
  for (let round = 1; round <= args.rounds; round++) {
    for (const enabled of [false, true]) {
      const label = enabled ? 'on + scrape 1/s' : 'off';
      const i = await ingestOnce(enabled, args.duration);
      data[enabled ? 'ingest_on' : 'ingest_off']!.push(i);
      rows.push({
        load: 'ingest (Kafka down)',
        round,
        admin: label,
        'PUBACKed msgs/s': fmt(i.sim.msgsPerSec),
        'PUBACK p50 / p99 ms': `${fmt(i.sim.latencyMs.p50, 1)} / ${fmt(i.sim.latencyMs.p99, 1)}`,
        'in Kafka msgs/s': '-',
        'publish->Kafka p50 / p99 ms': '-',
        scrapes: enabled ? i.scrapes : '-',
      });
      let scraper: (() => { scrapes: number }) | null = null;
      const e = await runE2eOnce({
        name: `metrics-${enabled ? 'on' : 'off'}-${round}`,
        devices: 100,
        ratePerDevice: 0,
        duration: args.duration,
        gatewayConfig: { admin: { enabled, port: 0 } },
        ...(enabled ? { onStarted: (gw: GatewayProcess) => void (scraper = startScraper(gw)) } : {}),
      });
      const scrapes = (scraper as (() => { scrapes: number }) | null)?.().scrapes ?? 0;
      data[enabled ? 'e2e_on' : 'e2e_off']!.push({ ...e, scrapes });
      rows.push({
        load: 'e2e (real Kafka)',
        round,
        admin: label,
        'PUBACKed msgs/s': fmt(e.sim.msgsPerSec),
        'PUBACK p50 / p99 ms': `${fmt(e.sim.latencyMs.p50, 1)} / ${fmt(e.sim.latencyMs.p99, 1)}`,
        'in Kafka msgs/s': fmt(e.e2eRate),
        'publish->Kafka p50 / p99 ms': `${fmt(e.latencyMs.p50, 1)} / ${fmt(e.latencyMs.p99, 1)}`,
        scrapes: enabled ? scrapes : '-',
      });
    }
  }
  writeResult('metrics', `Hot-path cost of metrics: admin off vs on (scraped every second), 100 devices at full speed, ${args.duration} per run`, rows, data, [
    'off: admin.enabled false: no HTTP server, the pipeline observer returns at once; on: admin.enabled true (histograms observed per commit and per Kafka send, publish->ack latency per record, event-loop monitor) and /metrics fetched every second by the bench',
    'QoS1, 200-byte payloads, window 64, firmware-sim in its own process; e2e: a fresh single-node Kafka per run on the same machine, audited (every acked record found)',
    'runs alternate off/on within each round; compare the pairs, and the spread between rounds of the same setting, before reading a difference as a cost',
  ]);
}
