/**
 * better-sqlite3's native addon compiled from source for the embedded Node's ABI and the target
 * arch, in a scratch copy of node_modules/better-sqlite3 (the host's own build, for the Node that
 * runs the tests, is never touched). Cross builds use Debian's GNU cross toolchain
 * (`g++-aarch64-linux-gnu`); node-gyp gets the target's headers from the node-linux-<arch> package
 * (`--nodedir`) and the arch (`--arch`, as npm_config_arch would). Cached per better-sqlite3
 * version, Node version and arch.
 *
 * node::ObjectWrap (header-only, so compiled into the addon) registers an environment cleanup
 * hook per object since Node 24.19, and its destructor removes it with a CHECK that a JS context
 * is entered. better-sqlite3 <= 12 derives Statement from ObjectWrap, so a Statement finalized by
 * an idle-time GC aborts the process ("Assertion failed: (env) != nullptr" in
 * RemoveEnvironmentCleanupHook; nodejs/node#65446, open). The addon is therefore compiled
 * against a copy of the target's headers whose ObjectWrap does not register the hook, which is
 * the ObjectWrap of Node <= 24.18 (the runtime's ABI is unchanged: NODE_MODULE_VERSION 137).
 * test/binary/addon-gc.test.ts reproduces the abort scenario against the embedded addon.
 */
import { spawnSync } from 'node:child_process';
import { copyFileSync, cpSync, existsSync, mkdirSync, readFileSync, realpathSync, renameSync, rmSync, writeFileSync } from 'node:fs';
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
  const dir = join(cacheDir(), `better-sqlite3-${betterSqliteVersion}-node-v${runtime.version}-linux-${arch}-objectwrap-compat`);
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

  const nodeDir = compatHeaders(runtime, join(dir, 'nodedir'));
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
  runTool(process.execPath, [nodeGypPath(), 'rebuild', '--release', `--nodedir=${nodeDir}`, `--arch=${arch}`, '--jobs=max'], {
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
  rmSync(nodeDir, { recursive: true, force: true });
  return { path: out, betterSqliteVersion, built: true };
}

const OBJECT_WRAP_HOOK_CALLS = /^[ \t]*(?:Add|Remove)CleanupHook\(\);[ \t]*\n/gm;

/**
 * `<into>/include/node`: the runtime's headers with the two calls that register and remove
 * node::ObjectWrap's per-object cleanup hook taken out (see the module comment). Headers that
 * do not make those calls (Node <= 24.18, or a fixed release) are copied unchanged.
 */
export function compatHeaders(runtime: NodeRuntime, into: string): string {
  rmSync(into, { recursive: true, force: true });
  cpSync(join(runtime.dir, 'include'), join(into, 'include'), { recursive: true });
  const header = join(into, 'include', 'node', 'node_object_wrap.h');
  const patched = readFileSync(header, 'utf8').replace(OBJECT_WRAP_HOOK_CALLS, '');
  if (/^\s*(?:Add|Remove)CleanupHook\(\);/m.test(patched)) throw new Error(`${header}: ObjectWrap cleanup hook calls left after patching`);
  writeFileSync(header, patched);
  return into;
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
