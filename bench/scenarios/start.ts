/** Start: process spawn -> `mqtt_listening` log line, for the Node build and any built binaries. */
import { existsSync } from 'node:fs';
import { fileURLToPath } from 'node:url';
import { GatewayProcess } from '../../test/support/gateway-process.js';
import { percentiles } from '../lib/percentiles.js';
import { fmt, writeResult, type Row } from '../lib/report.js';

const root = fileURLToPath(new URL('../../../', import.meta.url));

async function timeStarts(cmd: string | undefined, runs: number): Promise<number[]> {
  const times: number[] = [];
  for (let i = 0; i < runs; i++) {
    if (cmd) process.env['EG_TEST_GATEWAY_CMD'] = cmd;
    else delete process.env['EG_TEST_GATEWAY_CMD'];
    const gw = new GatewayProcess({ config: { kafka: { brokers: ['127.0.0.1:1'] } } });
    const t0 = performance.now();
    try {
      await gw.start();
      times.push(performance.now() - t0);
    } finally {
      await gw.close();
    }
  }
  delete process.env['EG_TEST_GATEWAY_CMD'];
  return times;
}

export async function run(): Promise<void> {
  const rows: Row[] = [];
  const data: Record<string, number[]> = {};
  const candidates: Array<[string, string | undefined]> = [[`node ${process.version} build/`, undefined]];
  const x64 = `${root}dist/edge-gateway-linux-x64`;
  const arm64 = `${root}dist/edge-gateway-linux-arm64`;
  if (existsSync(x64)) candidates.push(['single executable, x64 native', x64]);
  if (existsSync(arm64) && existsSync('/usr/bin/qemu-aarch64-static')) candidates.push(['single executable, arm64 under qemu-user', `/usr/bin/qemu-aarch64-static -L /usr/aarch64-linux-gnu ${arm64}`]);
  for (const [name, cmd] of candidates) {
    const times = await timeStarts(cmd, 5);
    data[name] = times;
    const [p50] = percentiles(times, [50]);
    rows.push({ gateway: name, 'median ms': fmt(p50!), 'min ms': fmt(Math.min(...times)), 'max ms': fmt(Math.max(...times)) });
  }
  writeResult('start', 'Start: spawn -> MQTT listening (5 runs each)', rows, data);
}
