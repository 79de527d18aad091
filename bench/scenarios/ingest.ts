/**
 * Ingest ceiling: the same load generator (firmware-sim, its own process) against mosquitto and
 * against the gateway buffering to SQLite (synchronous=FULL group commit) with Kafka down.
 * QoS1, 200-byte payloads, 100 and 1,000 devices, measured back to back in one run.
 */
import { startMosquitto } from '../lib/mosquitto.js';
import type { SimSummary } from '../../firmware-sim/src/load-generator.js';
import { runSimProcess } from '../lib/sim-process.js';
import { fmt, writeResult, type Row } from '../lib/report.js';
import { GatewayProcess } from '../../test/support/gateway-process.js';

/** Devices that got at least one acknowledgement in the run. */
function served(s: SimSummary): number {
  return Object.values(s.perDevice).filter((d) => d.acked > 0).length;
}

export async function run(args: { duration: string; devices: number[] }): Promise<void> {
  const rows: Row[] = [];
  const data: Record<string, unknown> = {};
  for (const devices of args.devices) {
    const mosq = await startMosquitto();
    let m;
    try {
      m = await runSimProcess({ url: mosq.url, devices, rate: 0, duration: args.duration, payloadBytes: 200, window: 64 });
    } finally {
      await mosq.close();
    }
    const gw = new GatewayProcess({ config: { log: { level: 'warn' }, kafka: { brokers: ['127.0.0.1:1'] } }, env: { GATEWAY_LOG_LEVEL: 'info' } });
    let g;
    try {
      await gw.start();
      g = await runSimProcess({ url: gw.url, devices, rate: 0, duration: args.duration, payloadBytes: 200, window: 64 });
    } finally {
      await gw.close();
    }
    data[`devices_${devices}`] = { mosquitto: m, gateway: g };
    rows.push({
      devices,
      'mosquitto msgs/s': fmt(m.msgsPerSec),
      'gateway msgs/s (durable)': fmt(g.msgsPerSec),
      'ratio gw/mosq': fmt(g.msgsPerSec / m.msgsPerSec, 2),
      'devices served (mosq / gw)': `${served(m)} / ${served(g)}`,
      'mosq p50/p99 ms': `${fmt(m.latencyMs.p50, 1)} / ${fmt(m.latencyMs.p99, 1)}`,
      'gw p50/p99 ms': `${fmt(g.latencyMs.p50, 1)} / ${fmt(g.latencyMs.p99, 1)}`,
    });
  }
  writeResult('ingest', 'Ingest ceiling: QoS1, 200-byte payloads, window 64 per device', rows, data, [
    `firmware-sim in its own process, full speed for ${args.duration} per run; gateway with Kafka unreachable, buffer.synchronous=FULL`,
    'mosquitto 2 from Debian, in memory (persistence false): it acknowledges before anything is durable; the gateway acknowledges after an fsynced SQLite commit',
    'devices served: devices that got at least one PUBACK (one that gets no CONNACK within 10 s retries); see "Fairness under saturation" in the README',
    'firmware-sim costs ~6-7 us per message, so one sim process saturates near 150k msgs/s: at that point the mosquitto figure is the sim\'s ceiling and the ratio an upper bound',
  ]);
}
