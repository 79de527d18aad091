/** Start: process spawn -> `mqtt_listening` log line, for the Node build and any built binaries. */
import { GatewayProcess } from '../../test/support/gateway-process.js';
import { builtExecutables, withGatewayCmd } from '../lib/gateway-builds.js';
import { percentiles } from '../lib/percentiles.js';
import { fmt, writeResult, type Row } from '../lib/report.js';

async function timeStarts(runs: number): Promise<number[]> {
  const times: number[] = [];
  for (let i = 0; i < runs; i++) {
    const gw = new GatewayProcess({ config: { kafka: { brokers: ['127.0.0.1:1'] } } });
    const t0 = performance.now();
    try {
      await gw.start();
      times.push(performance.now() - t0);
    } finally {
      await gw.close();
    }
  }
  return times;
}

export async function run(): Promise<void> {
  const rows: Row[] = [];
  const data: Record<string, number[]> = {};
  const candidates: Array<[string, string | undefined]> = [[`node ${process.version} build/`, undefined], ...builtExecutables()];
  for (const [name, cmd] of candidates) {
    const times = await withGatewayCmd(cmd, () => timeStarts(5));
    data[name] = times;
    const [p50] = percentiles(times, [50]);
    rows.push({ gateway: name, 'median ms': fmt(p50!), 'min ms': fmt(Math.min(...times)), 'max ms': fmt(Math.max(...times)) });
  }
  writeResult('start', 'Start: spawn -> MQTT listening (5 runs each)', rows, data);
}
