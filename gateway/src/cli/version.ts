/**
 * `edge-gateway --version`: gateway version, Node version, platform-arch and the SQLite library
 * actually loaded (opening an in-memory database proves the native addon loads on this machine),
 * and whether this is the single executable.
 */
import { createRequire } from 'node:module';
import { isSea } from 'node:sea';
import Database from 'better-sqlite3';
import { sqliteNativeBinding } from '../lib/native-sqlite.js';

const require = createRequire(import.meta.url);

/** Gateway version (from package.json, or the value a single-executable build injected). */
export function gatewayVersion(): string {
  const injected = (globalThis as { __EDGE_GATEWAY_VERSION__?: string }).__EDGE_GATEWAY_VERSION__;
  if (injected) return injected;
  try {
    return (require('../../../../package.json') as { version: string }).version;
  } catch {
    return '0.0.0-unknown';
  }
}

/** Version of the SQLite library the gateway's buffer runs on. */
export function sqliteVersion(): string {
  const nativeBinding = sqliteNativeBinding();
  const db = new Database(':memory:', nativeBinding ? { nativeBinding } : {});
  try {
    return (db.prepare('SELECT sqlite_version() AS v').get() as { v: string }).v;
  } finally {
    db.close();
  }
}

/** e.g. `edge-gateway 0.1.0 node v24.21.0 linux-arm64 sqlite 3.53.2 single-executable` */
export function versionLine(sqlite: string = sqliteVersion()): string {
  return `edge-gateway ${gatewayVersion()} node ${process.version} ${process.platform}-${process.arch} sqlite ${sqlite}${isSea() ? ' single-executable' : ''}`;
}
