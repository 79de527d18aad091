/**
 * better-sqlite3's native addon compiled from source for the embedded Node and the target arch,
 * in a scratch copy of node_modules/better-sqlite3 (the package's own prebuilds, which the tests
 * load, are never touched). It is a Node-API addon (node-addon-api), so its ABI does not depend
 * on the Node release; building it here keeps the binary's glibc floor and toolchain ours. Cross
 * builds use Debian's GNU cross toolchain (`g++-aarch64-linux-gnu`); node-gyp gets the target's
 * headers from the node-linux-<arch> package (`--nodedir`) and the arch (`--arch`, as
 * npm_config_arch would). Cached per better-sqlite3 version, Node version and arch.
 */
import { spawnSync } from 'node:child_process';
import { copyFileSync, cpSync, existsSync, mkdirSync, readFileSync, realpathSync, renameSync, rmSync } from 'node:fs';
import { createRequire } from 'node:module';
import { dirname, join, relative } from 'node:path';
import { ARCH_INFO, cacheDir, hostArch, toolFor, type Arch } from './binary-targets.js';
import type { NodeRuntime } from './node-runtime.js';
import { elfMachine } from './elf-info.js';
import { runTool } from './run-tool.js';

const require = createRequire(import.meta.url);

export interface SqliteAddon {
  path: string;
  betterSqliteVersion: string;
  /** False when the cache already held it. */
  built: boolean;
}

export function ensureSqliteAddon(arch: Arch, runtime: NodeRuntime): SqliteAddon {
  const srcDir = dirname(require.resolve('better-sqlite3/package.json'));
  const betterSqliteVersion = (JSON.parse(readFileSync(join(srcDir, 'package.json'), 'utf8')) as { version: string }).version;
  const dir = join(cacheDir(), `better-sqlite3-${betterSqliteVersion}-node-v${runtime.version}-linux-${arch}`);
  const out = join(dir, 'better_sqlite3.node');
  if (existsSync(out)) return { path: out, betterSqliteVersion, built: false };

  const scratch = join(dir, 'src');
  rmSync(scratch, { recursive: true, force: true });
  mkdirSync(dir, { recursive: true });
  cpSync(srcDir, scratch, {
    recursive: true,
    filter: (p) => {
      const rel = relative(srcDir, p).split('/')[0];
      return rel !== 'build' && rel !== 'node_modules';
    },
  });

  // binding.gyp reads node-addon-api's include path with require(), from the scratch copy.
  const addonApiDir = dirname(createRequire(join(srcDir, 'package.json')).resolve('node-addon-api/package.json'));
  cpSync(addonApiDir, join(scratch, 'node_modules', 'node-addon-api'), { recursive: true });

  const nodeDir = runtime.dir;
  const env: NodeJS.ProcessEnv = { ...process.env, npm_config_nodedir: nodeDir, npm_config_arch: arch, npm_config_target_arch: arch };
  // Versions/runtimes set by the surrounding `npm run` would point node-gyp at the host's Node.
  for (const key of ['npm_config_target', 'npm_config_runtime', 'npm_config_disturl', 'npm_config_build_from_source']) delete env[key];
  if (arch !== hostArch()) {
    requireTool(toolFor(arch, 'g++'), ARCH_INFO[arch].crossPackage);
    env['CC'] = toolFor(arch, 'gcc');
    env['CXX'] = toolFor(arch, 'g++');
    env['LINK'] = toolFor(arch, 'g++');
    env['AR'] = toolFor(arch, 'ar');
  }
  // force_build: binding.gyp builds nothing when the package ships a prebuild for the *host*.
  runTool(process.execPath, [nodeGypPath(), 'rebuild', '--release', '--force_build=1', `--nodedir=${nodeDir}`, `--arch=${arch}`, '--jobs=max'], {
    cwd: scratch,
    env,
    logFile: join(dir, 'node-gyp.log'),
  });

  const built = join(scratch, 'build', 'Release', 'better_sqlite3.node');
  const machine = elfMachine(built);
  if (machine !== ARCH_INFO[arch].elfMachine) throw new Error(`${built}: ELF machine ${machine}, expected ${ARCH_INFO[arch].elfMachine} (${arch})`);
  copyFileSync(built, `${out}.tmp`);
  renameSync(`${out}.tmp`, out);
  rmSync(scratch, { recursive: true, force: true });
  return { path: out, betterSqliteVersion, built: true };
}

/** node-gyp as bundled with the npm that runs this build (no extra dependency). */
function nodeGypPath(): string {
  const candidates: string[] = [];
  const npmCli = process.env['npm_execpath'];
  if (npmCli) candidates.push(join(dirname(dirname(npmCli)), 'node_modules', 'node-gyp', 'bin', 'node-gyp.js'));
  const which = spawnSync('sh', ['-c', 'command -v npm'], { encoding: 'utf8' });
  if (which.status === 0 && which.stdout.trim()) {
    candidates.push(join(dirname(dirname(realpathSync(which.stdout.trim()))), 'node_modules', 'node-gyp', 'bin', 'node-gyp.js'));
  }
  const found = candidates.find((p) => existsSync(p));
  if (!found) throw new Error(`node-gyp not found next to npm (looked in ${candidates.join(', ') || 'nothing: npm is not on PATH'})`);
  return found;
}

function requireTool(tool: string, debPackage: string): void {
  if (spawnSync('sh', ['-c', `command -v ${tool}`]).status !== 0) {
    throw new Error(`${tool} not found: install the cross compiler (apt-get install ${debPackage})`);
  }
}
