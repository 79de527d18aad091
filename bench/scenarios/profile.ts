/**
 * Where the time goes: the gateway under `--cpu-prof` for an end-to-end load (100 devices, full
 * speed, real Kafka) or a drain; self time by package and by function. The .cpuprofile is kept
 * in bench/results/tmp/ (open it in Chrome DevTools or speedscope for a flame graph).
 */
import { copyFileSync, mkdirSync, mkdtempSync, readdirSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { summarizeProfile } from '../lib/cpu-profile.js';
import { fmt, writeResult } from '../lib/report.js';
import { runE2eOnce } from './e2e.js';
import { withGatewayCmd } from '../lib/gateway-builds.js';

const root = fileURLToPath(new URL('../../../', import.meta.url));

export async function run(args: { duration: string }): Promise<void> {
  const profDir = mkdtempSync(join(tmpdir(), 'eg-prof-'));
  const profiled = `${process.execPath} --cpu-prof --cpu-prof-dir=${profDir} ${join(root, 'build/gateway/src/main.js')}`;
  const e2e = await withGatewayCmd(profiled, () => runE2eOnce({ name: 'profile', devices: 100, ratePerDevice: 0, duration: args.duration }));
  const file = readdirSync(profDir).find((f) => f.endsWith('.cpuprofile'));
  if (!file) throw new Error('no .cpuprofile written (the gateway must exit gracefully)');
  const keep = join(root, 'bench/results/tmp');
  mkdirSync(keep, { recursive: true });
  copyFileSync(join(profDir, file), join(keep, 'gateway-e2e.cpuprofile'));
  const { functions, packages } = summarizeProfile(join(profDir, file));
  writeResult(
    'profile',
    `Profile: gateway self time, e2e at full speed (100 devices, ${args.duration}, ${fmt(e2e.e2eRate)} msgs/s into Kafka under the profiler)`,
    [...packages.map((p) => ({ where: `package: ${p.name}`, 'self time %': fmt(p.percent, 1) })), ...functions.map((f) => ({ where: f.name, 'self time %': fmt(f.percent, 1) }))],
    { packages, functions },
    ['flame graph: bench/results/tmp/gateway-e2e.cpuprofile (not committed); "(idle)" is the event loop waiting (on Kafka, mostly)'],
  );
}
