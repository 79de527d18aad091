/**
 * Turns the bundle and the addon into a single executable:
 * 1. the SEA preparation blob, written by the SAME Node version as the target runtime (the host-
 *    arch build of it: the blob format does not depend on the arch as long as it carries no V8
 *    code cache or snapshot, which are arch- and flag-specific; so both are off for a cross build);
 * 2. a copy of the target's node, stripped of its symbol table (about 20 MB; addons link against
 *    the dynamic symbol table, which stays);
 * 3. postject injects the blob as the NODE_SEA_BLOB note and flips the sentinel fuse.
 */
import { chmodSync, copyFileSync, readFileSync, renameSync, rmSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import postject from 'postject';
import { SEA_RESOURCE_NAME, SEA_SENTINEL_FUSE, toolFor, type Arch } from './binary-targets.js';
import type { NodeRuntime } from './node-runtime.js';
import { SQLITE_ADDON_ASSET } from '../../gateway/src/lib/native-sqlite.js';
import { runTool } from './run-tool.js';

export interface InjectOptions {
  arch: Arch;
  /** Node of the target arch: the executable that is copied. */
  target: NodeRuntime;
  /** Same Node version, host arch: writes the blob. */
  host: NodeRuntime;
  bundlePath: string;
  addonPath: string;
  workDir: string;
  outFile: string;
  strip: boolean;
}

/**
 * Node flags the binary always starts with; NODE_OPTIONS still extends or overrides them.
 * --max-semi-space-size=8: Node 24 sizes V8's young generation from the machine's memory, which
 * cost ~100 MiB of RSS with 10,000 connected devices here (405 -> 300 MiB) for ~8% more ingest;
 * an appliance's memory matters more than that throughput (bench/results/connections.md).
 */
export const SEA_EXEC_ARGV = ['--max-semi-space-size=8'] as const;

export async function makeExecutable(o: InjectOptions): Promise<{ blobBytes: number; codeCache: boolean }> {
  if (o.target.version !== o.host.version) throw new Error(`SEA blob must come from the target's Node version (${o.target.version}), not ${o.host.version}`);
  // A code cache is only valid for the V8 (arch, flags) that made it: use it on native builds only.
  const codeCache = o.target.arch === o.host.arch;
  const blobPath = join(o.workDir, 'sea-prep.blob');
  const configPath = join(o.workDir, 'sea-config.json');
  writeFileSync(
    configPath,
    `${JSON.stringify(
      {
        main: o.bundlePath,
        output: blobPath,
        disableExperimentalSEAWarning: true,
        useSnapshot: false,
        useCodeCache: codeCache,
        execArgv: [...SEA_EXEC_ARGV],
        assets: { [SQLITE_ADDON_ASSET]: o.addonPath },
      },
      null,
      2,
    )}\n`,
  );
  runTool(o.host.bin, ['--experimental-sea-config', configPath], { cwd: o.workDir });
  const blob = readFileSync(blobPath);

  const tmp = `${o.outFile}.tmp`;
  rmSync(tmp, { force: true });
  copyFileSync(o.target.bin, tmp);
  chmodSync(tmp, 0o755);
  if (o.strip) runTool(toolFor(o.arch, 'strip'), [tmp]);
  await postject.inject(tmp, SEA_RESOURCE_NAME, blob, { sentinelFuse: SEA_SENTINEL_FUSE });
  renameSync(tmp, o.outFile);
  return { blobBytes: blob.length, codeCache };
}
