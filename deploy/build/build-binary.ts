/**
 * `npm run build:binary -- --arch arm64|x64 [--out DIR] [--no-strip]`
 *
 * Builds dist/edge-gateway-linux-<arch>: a Node.js single executable application with Node 24 LTS
 * (npm package node-linux-<arch>), the esbuild bundle of the gateway and firmware-sim (`sim`
 * subcommand), and better-sqlite3's addon compiled for that Node and arch as an SEA asset.
 * Needs on an x64 build host, for arm64: g++-aarch64-linux-gnu (and qemu-user-static +
 * libc6-arm64-cross to smoke-test the result). Prints each step's time, the size and the glibc
 * the binary and its addon need.
 */
import { createHash } from 'node:crypto';
import { mkdirSync, readFileSync, statSync, writeFileSync } from 'node:fs';
import { basename, join, resolve } from 'node:path';
import { spawnSync } from 'node:child_process';
import { parseArgs } from 'node:util';
import { binaryPath, cacheDir, hostArch, isArch, NODE_VERSION, REPO_ROOT, runnerFor } from './binary-targets.js';
import { compareVersions, symbolVersionFloor } from './elf-info.js';
import { ensureNodeRuntime } from './node-runtime.js';
import { ensureSqliteAddon } from './sqlite-addon.js';
import { bundleGateway } from './sea-bundle.js';
import { makeExecutable } from './sea-inject.js';
import { runTool } from './run-tool.js';

function step<T>(name: string, fn: () => T): T {
  const t0 = Date.now();
  const out = fn();
  log(`${name} (${((Date.now() - t0) / 1000).toFixed(1)} s)`);
  return out;
}

async function stepAsync<T>(name: string, fn: () => Promise<T>): Promise<T> {
  const t0 = Date.now();
  const out = await fn();
  log(`${name} (${((Date.now() - t0) / 1000).toFixed(1)} s)`);
  return out;
}

function log(line: string): void {
  process.stderr.write(`build:binary: ${line}\n`);
}

async function main(argv: string[]): Promise<number> {
  const { values } = parseArgs({
    args: argv,
    options: {
      arch: { type: 'string', default: hostArch() },
      out: { type: 'string', default: join(REPO_ROOT, 'dist') },
      'no-strip': { type: 'boolean', default: false },
    },
    strict: true,
  });
  const arch = values.arch;
  if (!isArch(arch)) throw new Error(`--arch must be x64 or arm64, not ${arch}`);
  const outDir = resolve(values.out);
  const outFile = binaryPath(arch, outDir);
  const workDir = join(cacheDir(), `sea-${arch}`);
  mkdirSync(workDir, { recursive: true });
  mkdirSync(outDir, { recursive: true });
  const t0 = Date.now();
  const version = (JSON.parse(readFileSync(join(REPO_ROOT, 'package.json'), 'utf8')) as { version: string }).version;
  log(`edge-gateway ${version} for linux-${arch}, Node ${NODE_VERSION}, cache ${cacheDir()}`);

  const target = step(`node-linux-${arch}@${NODE_VERSION}`, () => ensureNodeRuntime(arch, NODE_VERSION));
  const host = arch === hostArch() ? target : step(`node-linux-${hostArch()}@${NODE_VERSION} (writes the blob)`, () => ensureNodeRuntime(hostArch(), NODE_VERSION));
  const addon = step(`better-sqlite3 addon for Node ${NODE_VERSION} linux-${arch}`, () => ensureSqliteAddon(arch, target));
  log(`  ${addon.built ? 'compiled' : 'cached'}: ${addon.path}`);
  const bundle = await stepAsync('esbuild bundle', () => bundleGateway(join(workDir, 'edge-gateway.cjs'), version));
  for (const w of bundle.warnings) log(`  esbuild warning: ${w}`);
  // A cross build gets a code cache when qemu-user can run the target's node to write the blob.
  const runner = runnerFor(arch);
  const blobWriter = runner.length > 0 && spawnSync('sh', ['-c', `command -v ${runner[0]}`]).status === 0 ? runner : undefined;
  const sea = await stepAsync('SEA blob + postject', () =>
    makeExecutable({ arch, target, host, blobWriter, bundlePath: bundle.path, addonPath: addon.path, workDir, outFile, strip: !values['no-strip'] }),
  );

  const bytes = statSync(outFile).size;
  const sha = createHash('sha256').update(readFileSync(outFile)).digest('hex');
  writeFileSync(`${outFile}.sha256`, `${sha}  ${basename(outFile)}\n`);
  const cmd = [...runnerFor(arch), outFile, '--version'];
  const runnable = spawnSync('sh', ['-c', `command -v ${cmd[0]}`]).status === 0;
  const versionLine = runnable ? runTool(cmd[0]!, cmd.slice(1)).trim() : `(not run: ${cmd[0]} missing)`;
  // The addon is loaded into the same process: the device needs what either of them needs.
  const floor = (lib: 'GLIBC' | 'GLIBCXX') =>
    [symbolVersionFloor(outFile, lib), symbolVersionFloor(addon.path, lib)].filter((v): v is string => v !== undefined).sort(compareVersions).at(-1) ?? '(objdump missing)';

  log(`${outFile}`);
  log(`  ${(bytes / 1024 / 1024).toFixed(1)} MiB, bundle ${(bundle.bytes / 1024).toFixed(0)} KiB, blob ${(sea.blobBytes / 1024).toFixed(0)} KiB, code cache ${sea.codeCache ? 'on' : 'off'}`);
  log(`  --version: ${versionLine}`);
  log(`  needs glibc >= ${floor('GLIBC')}, libstdc++ >= GLIBCXX_${floor('GLIBCXX')}`);
  log(`  done in ${((Date.now() - t0) / 1000).toFixed(1)} s`);
  return 0;
}

main(process.argv.slice(2)).then(
  (code) => {
    process.exitCode = code;
  },
  (err: unknown) => {
    process.stderr.write(`build:binary: ${err instanceof Error ? err.message : String(err)}\n`);
    process.exitCode = 1;
  },
);
