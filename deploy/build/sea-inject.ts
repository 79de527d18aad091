/**
 * Turns the bundle and the addon into a single executable:
 * 1. the SEA preparation blob, written by the SAME Node version as the target runtime. With a V8
 *    code cache (arch- and flag-specific) it must be the target's own node: natively, or for a
 *    cross build under qemu-user (`blobWriter`). Without a way to run the target's node, the
 *    host-arch build of it writes a blob without a code cache (the format does not depend on the
 *    arch then). The cache spares the compile of the bundle's top level at every start: ~5 MiB
 *    of anonymous memory and 20-40 ms of start on x64 (180-214 -> 156-173 ms);
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
  /** Same Node version, host arch: writes the blob when `blobWriter` is absent (no code cache). */
  host: NodeRuntime;
  /** Command prefix that runs the target's node here (qemu-user for a cross build): writes a blob with a code cache. */
  blobWriter?: readonly string[] | undefined;
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
  // A code cache is only valid for the V8 (arch, flags) that made it: the target's node writes it.
  const native = o.target.arch === o.host.arch;
  const writer = native ? [o.host.bin] : o.blobWriter ? [...o.blobWriter, o.target.bin] : [o.host.bin];
  const codeCache = native || o.blobWriter !== undefined;
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
  runTool(writer[0]!, [...writer.slice(1), '--experimental-sea-config', configPath], { cwd: o.workDir });
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
