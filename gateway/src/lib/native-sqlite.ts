/**
 * better-sqlite3's native addon when the gateway runs as a single executable (Node SEA).
 *
 * The build embeds the addon, compiled for the embedded Node's ABI and the target arch, as the
 * SEA asset `better_sqlite3.node`. A shared object can only be dlopen()ed from a file, so it is
 * written once per build (the file name carries its SHA-256) into a private directory, and that
 * path is handed to better-sqlite3 as `nativeBinding`. Run from node_modules (not a SEA) this
 * returns undefined and better-sqlite3 loads its own build.
 *
 * Directory, first that is set: EDGE_GATEWAY_NATIVE_DIR; `<STATE_DIRECTORY>/native` (systemd sets
 * STATE_DIRECTORY for StateDirectory=, which stays writable under ProtectSystem=strict and, unlike
 * /run or some /tmp mounts, is not noexec); `<os.tmpdir()>/edge-gateway-native-<uid>`. The
 * directory must be this user's own and is made mode 0700: a file another user could replace
 * would be code we execute. An existing file is used only if its bytes equal the asset.
 */
import { createHash } from 'node:crypto';
import { chmodSync, lstatSync, mkdirSync, readdirSync, readFileSync, renameSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import * as sea from 'node:sea';
import { gatewayError, isGatewayError } from '../errors.js';

/** Name of the SEA asset holding the addon (the build script embeds it under this name). */
export const SQLITE_ADDON_ASSET = 'better_sqlite3.node';

const ADDON_FILE = /^better_sqlite3-[0-9a-f]{16}\.node$/;

let extracted: string | undefined;

/**
 * Path of the native addon to pass as better-sqlite3 `nativeBinding`, or undefined when
 * better-sqlite3 should find its own (not a single executable). EDGE_GATEWAY_SQLITE_BINDING
 * overrides both.
 */
export function sqliteNativeBinding(env: NodeJS.ProcessEnv = process.env): string | undefined {
  const override = env['EDGE_GATEWAY_SQLITE_BINDING'];
  if (override) return override;
  if (!sea.isSea()) return undefined;
  extracted ??= writeAddon(Buffer.from(sea.getAsset(SQLITE_ADDON_ASSET)), addonDir(env));
  return extracted;
}

/** The private directory the embedded addon is written to (see the module comment). */
export function addonDir(env: NodeJS.ProcessEnv = process.env): string {
  const explicit = env['EDGE_GATEWAY_NATIVE_DIR'];
  if (explicit) return explicit;
  // systemd passes a colon-separated list when StateDirectory= names several.
  const state = env['STATE_DIRECTORY']?.split(':')[0];
  if (state) return join(state, 'native');
  return join(tmpdir(), `edge-gateway-native-${process.getuid?.() ?? 'user'}`);
}

/**
 * Writes `bytes` to `<dir>/better_sqlite3-<sha256 prefix>.node` unless an identical file is
 * already there; returns its path. Atomic (temp file + rename), so a crash mid-write leaves no
 * half-written addon under the final name. Addons of other builds in `dir` are removed.
 */
export function writeAddon(bytes: Buffer, dir: string): string {
  const digest = createHash('sha256').update(bytes).digest('hex').slice(0, 16);
  const file = join(dir, `better_sqlite3-${digest}.node`);
  try {
    ensurePrivateDir(dir);
    if (!sameRegularFile(file, bytes)) {
      const tmp = `${file}.${process.pid}.tmp`;
      writeFileSync(tmp, bytes, { mode: 0o700 });
      renameSync(tmp, file);
    }
    for (const name of readdirSync(dir)) {
      // A running process keeps its mapping of an unlinked file, so this cannot break one.
      if (ADDON_FILE.test(name) && join(dir, name) !== file) rmSync(join(dir, name), { force: true });
    }
  } catch (cause) {
    if (isGatewayError(cause)) throw cause;
    throw gatewayError('GW_ERR_BUFFER_OPEN', `cannot write the embedded SQLite addon to ${dir}: ${(cause as Error).message}`, { cause });
  }
  return file;
}

function ensurePrivateDir(dir: string): void {
  mkdirSync(dir, { recursive: true, mode: 0o700 });
  const st = lstatSync(dir);
  if (!st.isDirectory()) throw gatewayError('GW_ERR_BUFFER_OPEN', `${dir} is not a directory (set EDGE_GATEWAY_NATIVE_DIR)`);
  const uid = process.getuid?.();
  if (uid !== undefined && st.uid !== uid) {
    throw gatewayError('GW_ERR_BUFFER_OPEN', `${dir} belongs to uid ${st.uid}, not to this user (${uid}); set EDGE_GATEWAY_NATIVE_DIR to a private directory`);
  }
  if ((st.mode & 0o077) !== 0) chmodSync(dir, 0o700);
}

function sameRegularFile(file: string, bytes: Buffer): boolean {
  try {
    if (!lstatSync(file).isFile()) return false;
    return readFileSync(file).equals(bytes);
  } catch {
    return false; // absent or unreadable: (re)write it
  }
}
