/**
 * Connections: gateway RSS and V8 heap with N idle devices connected, and RSS under load
 * (the same devices publishing). Memory from the gateway's own periodic `stats` log line.
 */
import { GatewayProcess } from '../../test/support/gateway-process.js';
import { nodeAndNativeBuilds, withGatewayCmd } from '../lib/gateway-builds.js';
import { runSimProcess } from '../lib/sim-process.js';
import { fmt, writeResult, type Row } from '../lib/report.js';

const MiB = 1024 * 1024;

async function measure(devices: number, rate: number, duration: string): Promise<{ rss: number; heap: number; clients: number; msgsPerSec: number }> {
  const gw = new GatewayProcess({ config: { log: { level: 'info', statsIntervalSecs: 1 }, mqtt: { limits: { maxConnections: 0, maxConnectionsPerAddress: 0 } }, kafka: { brokers: ['127.0.0.1:1'] } } });
  try {
    await gw.start();
    const sim = await runSimProcess({ url: gw.url, devices, rate, duration, payloadBytes: 200, window: 16 });
    // The peak over the run, while all devices were connected.
    const stats = gw.logs.filter((l) => l.event === 'stats' && (l['clients'] as number) >= devices * 0.99);
    const rss = Math.max(0, ...stats.map((l) => l['rssBytes'] as number));
    const heap = Math.max(0, ...stats.map((l) => l['heapUsedBytes'] as number));
    const clients = Math.max(0, ...gw.logs.filter((l) => l.event === 'stats').map((l) => l['clients'] as number));
    return { rss, heap, clients, msgsPerSec: sim.msgsPerSec };
  } finally {
    await gw.close();
  }
}

export async function run(args: { devices: number[] }): Promise<void> {
  const rows: Row[] = [];
  const data: Record<string, unknown> = {};
  const builds = nodeAndNativeBuilds();
  for (const [build, cmd] of builds) for (const devices of args.devices) {
    const idle = await withGatewayCmd(cmd, () => measure(devices, 0.01, '25s'));
    const busy = await withGatewayCmd(cmd, () => measure(devices, Math.max(0.5, 10_000 / devices), '25s'));
    data[`${build} devices_${devices}`] = { idle, busy };
    rows.push({
      gateway: build,
      devices,
      'connected (peak)': idle.clients,
      'idle RSS MiB': fmt(idle.rss / MiB, 1),
      'idle heap MiB': fmt(idle.heap / MiB, 1),
      'under load RSS MiB': fmt(busy.rss / MiB, 1),
      'under load heap MiB': fmt(busy.heap / MiB, 1),
      'load msgs/s': fmt(busy.msgsPerSec),
    });
  }
  writeResult('connections', 'Connections: gateway memory with idle and busy devices (QoS1, Kafka down, buffering)', rows, data, [
    'peak of the gateway\'s own 1 s stats lines while >= 99% of devices were connected; load = 10,000 msgs/s in total spread over the devices',
  ]);
}
