/** Runs firmware-sim as its own process (so it does not share a core's event loop with us). */
import { spawn } from 'node:child_process';
import { mkdtempSync, readFileSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import type { SimSummary } from '../../firmware-sim/src/load-generator.js';

const root = fileURLToPath(new URL('../../../', import.meta.url));

export interface SimArgs {
  url: string;
  devices: number;
  /** msgs/s per device, 0 = as fast as the window allows */
  rate: number;
  duration?: string;
  count?: number;
  payloadBytes?: number;
  window?: number;
  qos?: 0 | 1 | 2;
  prefix?: string;
}

export async function runSimProcess(a: SimArgs): Promise<SimSummary> {
  const dir = mkdtempSync(join(tmpdir(), 'eg-bench-sim-'));
  const out = join(dir, 'sim.json');
  const args = [join(root, 'build/firmware-sim/src/main.js'), '--url', a.url, '--devices', String(a.devices), '--rate', String(a.rate), '--qos', String(a.qos ?? 1), '--summary-json', out];
  if (a.duration) args.push('--duration', a.duration);
  if (a.count) args.push('--count', String(a.count));
  if (a.payloadBytes) args.push('--payload-bytes', String(a.payloadBytes));
  if (a.window) args.push('--window', String(a.window));
  if (a.prefix) args.push('--prefix', a.prefix);
  try {
    await new Promise<void>((resolve, reject) => {
      const child = spawn(process.execPath, args, { stdio: ['ignore', 'ignore', 'inherit'] });
      child.on('exit', (code) => (code === 0 || code === 1 ? resolve() : reject(new Error(`firmware-sim exited ${code}`))));
    });
    return JSON.parse(readFileSync(out, 'utf8')) as SimSummary;
  } finally {
    rmSync(dir, { recursive: true, force: true });
  }
}
