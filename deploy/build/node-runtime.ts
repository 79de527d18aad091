/**
 * The Node.js release a binary embeds, from the npm package `node-linux-<arch>` (bin/node and the
 * headers in include/node that node-gyp needs). npm refuses to *install* a foreign-arch package,
 * so it is fetched with `npm pack` and untarred into the cache, once per version and arch.
 */
import { existsSync, mkdirSync, readdirSync, readFileSync, renameSync, rmSync } from 'node:fs';
import { join } from 'node:path';
import { cacheDir, type Arch } from './binary-targets.js';
import { runTool } from './run-tool.js';

export interface NodeRuntime {
  arch: Arch;
  version: string;
  /** Package root: pass as node-gyp `--nodedir` (it holds include/node/common.gypi). */
  dir: string;
  /** The node executable of that arch. */
  bin: string;
}

export function ensureNodeRuntime(arch: Arch, version: string): NodeRuntime {
  const dir = join(cacheDir(), `node-v${version}-linux-${arch}`);
  const runtime = { arch, version, dir, bin: join(dir, 'bin', 'node') };
  if (packageVersion(dir) === version) return runtime;

  const tmp = join(cacheDir(), `tmp-node-${arch}-${process.pid}`);
  rmSync(tmp, { recursive: true, force: true });
  mkdirSync(tmp, { recursive: true });
  try {
    runTool('npm', ['pack', `node-linux-${arch}@${version}`, '--pack-destination', tmp, '--silent'], { cwd: tmp });
    const tarball = readdirSync(tmp).find((f) => f.endsWith('.tgz'));
    if (!tarball) throw new Error(`npm pack node-linux-${arch}@${version} wrote no tarball`);
    runTool('tar', ['-xzf', join(tmp, tarball), '-C', tmp]);
    const got = packageVersion(join(tmp, 'package'));
    if (got !== version) throw new Error(`node-linux-${arch} package is ${got}, expected ${version}`);
    rmSync(dir, { recursive: true, force: true });
    // Rename into place: a concurrent or interrupted build never sees a half-extracted runtime.
    renameSync(join(tmp, 'package'), dir);
  } finally {
    rmSync(tmp, { recursive: true, force: true });
  }
  return runtime;
}

function packageVersion(dir: string): string | undefined {
  if (!existsSync(join(dir, 'bin', 'node')) || !existsSync(join(dir, 'include', 'node', 'node_version.h'))) return undefined;
  return (JSON.parse(readFileSync(join(dir, 'package.json'), 'utf8')) as { version?: string }).version;
}
