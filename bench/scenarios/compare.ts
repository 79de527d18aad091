/**
 * Before/after for optimisations: the same e2e (max) and drain loads against a baseline gateway
 * build and the current one, back to back in one run.
 *   npm run bench -- compare --baseline "node /path/to/old/build/gateway/src/main.js"
 */
import { fmt, writeResult, type Row } from '../lib/report.js';
import { runE2eOnce } from './e2e.js';
import { runGatewayDrain } from './drain.js';
import { withGatewayCmd } from '../lib/gateway-builds.js';

export async function run(args: { baseline: string; label: string; duration: string; rows: number }): Promise<void> {
  const rows: Row[] = [];
  const data: Record<string, unknown> = {};
  const builds: Array<[string, string | undefined]> = [[`baseline (${args.label})`, args.baseline], ['current', undefined]];
  for (const [name, cmd] of builds) {
    const { e2e, e2e5k, drain } = await withGatewayCmd(cmd, async () => ({
      e2e: await runE2eOnce({ name: 'cmp', devices: 100, ratePerDevice: 0, duration: args.duration }),
      e2e5k: await runE2eOnce({ name: 'cmp5k', devices: 100, ratePerDevice: 50, duration: args.duration }),
      drain: await runGatewayDrain(args.rows),
    }));
    data[name] = { e2e, e2e5k, drain };
    rows.push({
      gateway: name,
      'e2e max: in Kafka msgs/s': fmt(e2e.e2eRate),
      'e2e max: PUBACKed msgs/s': fmt(e2e.sim.msgsPerSec),
      '5k/s: p50 / p99 / p99.9 ms': `${fmt(e2e5k.latencyMs.p50)} / ${fmt(e2e5k.latencyMs.p99)} / ${fmt(e2e5k.latencyMs.p999)}`,
      '5k/s after 5 s warm-up: p50 / p99 / p99.9 ms': `${fmt(e2e5k.warmLatencyMs.p50)} / ${fmt(e2e5k.warmLatencyMs.p99)} / ${fmt(e2e5k.warmLatencyMs.p999)}`,
      [`drain ${args.rows.toLocaleString('en')} rows/s`]: fmt(drain.rowsPerSec),
    });
  }
  writeResult(`compare-${args.label.replace(/[^a-z0-9]+/gi, '-').toLowerCase().replace(/^-|-$/g, '').slice(0, 40)}`, `Before/after: ${args.label} vs current, same machine, one run`, rows, data, [
    `e2e: 100 devices, ${args.duration}, 200-byte payloads, fresh Kafka per load (warm-up: records published in its first 5 s left out); drain: pre-filled buffer, fresh Kafka`,
  ]);
}
