/**
 * `edge-gateway devices add|list|remove|rotate|import`: provisions per-device MQTT credentials in
 * the gateway's database, also while the gateway runs (WAL: the CLI is a second connection, its
 * writes wait for the gateway's group commit through the busy timeout, and the gateway reads the
 * row at each CONNECT, so a change applies at once without a restart). A new database is
 * created owner-only and migrated, so devices can be provisioned before the first start.
 *
 * Generated secrets are written to stdout only, once; everything else goes to stderr. Nothing
 * here logs.
 */
import { readFileSync } from 'node:fs';
import { resolve } from 'node:path';
import { parseArgs } from 'node:util';
import type { Database } from 'better-sqlite3';
import { openBufferDatabase } from '../buffer/sqlite-buffer.js';
import { loadConfig } from '../config/load-config.js';
import { gatewayError } from '../errors.js';
import { createDeviceCredentials, type DeviceCredentialInfo, type DeviceCredentials } from '../ingest/device-credentials.js';
import { sqliteNativeBinding } from '../lib/native-sqlite.js';
import { createPrivateFile } from '../lib/private-file.js';
import { importFormat, parseDeviceImport } from './device-import-file.js';

const VERBS = ['add', 'rotate', 'remove', 'list', 'import'] as const;
type Verb = (typeof VERBS)[number];

export async function runDevicesCommand(argv: string[]): Promise<number> {
  let parsed;
  try {
    parsed = parseArgs({
      args: argv,
      options: {
        config: { type: 'string', short: 'c' },
        db: { type: 'string' },
        json: { type: 'boolean', default: false },
        replace: { type: 'boolean', default: false },
      },
      allowPositionals: true,
      strict: true,
    });
  } catch (err) {
    throw gatewayError('GW_ERR_CLI_USAGE', (err as Error).message);
  }
  const { values, positionals } = parsed;
  const [verbArg, target, ...extra] = positionals;
  if (!VERBS.includes(verbArg as Verb)) throw gatewayError('GW_ERR_CLI_USAGE', `devices: expected one of ${VERBS.join('|')}, got ${verbArg ?? 'nothing'}`);
  const verb = verbArg as Verb;
  const wantsTarget = verb !== 'list';
  if (wantsTarget ? !target || extra.length > 0 : target !== undefined) {
    throw gatewayError('GW_ERR_CLI_USAGE', `devices ${verb}: expected ${verb === 'import' ? 'FILE' : wantsTarget ? 'ID' : 'no argument'}`);
  }
  if (values.json && verb !== 'list') throw gatewayError('GW_ERR_CLI_USAGE', '--json applies to devices list');
  if (values.replace && verb !== 'import') throw gatewayError('GW_ERR_CLI_USAGE', '--replace applies to devices import');
  if (values.db && values.config) throw gatewayError('GW_ERR_CLI_USAGE', 'give --config or --db, not both');

  const db = openDevicesDatabase(values.db, values.config);
  try {
    const store = createDeviceCredentials(db);
    switch (verb) {
      case 'add':
      case 'rotate': {
        const secret = verb === 'add' ? await store.add(target!) : await store.rotate(target!);
        process.stdout.write(`${secret}\n`);
        process.stderr.write(`${verb === 'add' ? 'added' : 'rotated'} ${target}: its secret is on stdout and is shown only this once (only a hash is kept)\n`);
        return 0;
      }
      case 'remove':
        if (!store.remove(target!)) throw gatewayError('GW_ERR_AUTH_DEVICE_UNKNOWN', target);
        process.stderr.write(`removed ${target}: new CONNECTs with its credentials are refused (a connected session stays until it disconnects)\n`);
        return 0;
      case 'list':
        process.stdout.write(values.json ? `${JSON.stringify(store.list(), null, 2)}\n` : formatList(store.list()));
        return 0;
      case 'import':
        return await importDevices(store, target!, values.replace);
    }
  } finally {
    db.close();
  }
}

/** The gateway's database: --db, else buffer.path of the config (file, GATEWAY_BUFFER_PATH). */
function openDevicesDatabase(dbPath: string | undefined, configPath: string | undefined): Database {
  let path: string;
  let synchronous: 'FULL' | 'NORMAL' | 'EXTRA' = 'FULL';
  if (dbPath) path = dbPath;
  else {
    const config = loadConfig({ path: configPath ?? process.env['GATEWAY_CONFIG'] });
    path = config.buffer.path;
    synchronous = config.buffer.synchronous;
  }
  try {
    if (createPrivateFile(path)) process.stderr.write(`created ${resolve(path)} (owner-only)\n`);
  } catch (cause) {
    throw gatewayError('GW_ERR_BUFFER_OPEN', `${path}: ${(cause as Error).message}`, { cause });
  }
  return openBufferDatabase({ path, synchronous, nativeBinding: sqliteNativeBinding() });
}

async function importDevices(store: DeviceCredentials, file: string, replace: boolean): Promise<number> {
  let text: string;
  try {
    text = readFileSync(file === '-' ? 0 : file, 'utf8');
  } catch (cause) {
    throw gatewayError('GW_ERR_AUTH_IMPORT_INVALID', `${file}: ${(cause as Error).message}`, { cause });
  }
  const rows = parseDeviceImport(text, importFormat(file, text), file);
  if (!replace) {
    // Named by line before any hashing; the store checks again inside its transaction.
    const existing = rows.filter((r) => store.has(r.deviceId));
    if (existing.length > 0) {
      const shown = existing.slice(0, 20).map((r) => `${r.where}: ${r.deviceId}`);
      if (existing.length > 20) shown.push(`... and ${existing.length - 20} more`);
      throw gatewayError('GW_ERR_AUTH_DEVICE_EXISTS', `${file} (nothing imported; --replace replaces their secrets):\n  ${shown.join('\n  ')}`);
    }
  }
  const result = await store.import(rows, { replace });
  if (result.generated.length > 0) {
    process.stdout.write(`deviceId,secret\n${result.generated.map((g) => `${g.deviceId},${g.secret}\n`).join('')}`);
  }
  process.stderr.write(
    `imported ${rows.length} device(s): ${result.added} added, ${result.replaced} replaced; ` +
      `${result.generated.length} generated secret(s) on stdout, shown only this once\n`,
  );
  return 0;
}

function formatList(devices: readonly DeviceCredentialInfo[]): string {
  const iso = (ms: number | null) => (ms === null ? '-' : new Date(ms).toISOString());
  const rows = [['DEVICE', 'CREATED', 'ROTATED', 'HASH'], ...devices.map((d) => [d.deviceId, iso(d.createdAt), iso(d.rotatedAt), d.scheme])];
  const widths = rows[0]!.map((_, c) => Math.max(...rows.map((r) => r[c]!.length)));
  return rows.map((r) => r.map((v, c) => (c === r.length - 1 ? v : v.padEnd(widths[c]!))).join('  ')).join('\n') + '\n';
}
