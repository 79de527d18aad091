/**
 * Per-device MQTT credentials in the buffer's SQLite file (`device_credentials`, migration v2):
 * username = device id, password checked against a scrypt hash (secret-hash.ts). The gateway
 * reads the row at every CONNECT (a primary-key read), so `edge-gateway devices ...` run against
 * the live database takes effect at the next CONNECT without a restart.
 *
 * verify() is bounded: at most `maxConcurrentVerifies` scrypt runs at once; beyond that it
 * answers 'busy' at once (no queue that grows with a login flood). An unknown device costs the
 * same dummy scrypt as a known one, so timing does not tell which ids exist. A success cache
 * spares a fleet reconnecting after a restart one scrypt per reconnect: after a successful
 * verify it keeps HMAC(processKey, secret_hash, password) under the device id; a later verify
 * whose row still has that secret_hash and whose HMAC matches is 'ok' without scrypt. A rotated
 * or removed device changes or loses its secret_hash, so it misses by construction.
 */
import crypto from 'node:crypto';
import type { Database, Statement } from 'better-sqlite3';
import { gatewayError, isGatewayError, type GatewayError } from '../errors.js';
import { LruMap } from '../lib/lru-map.js';
import { assertDeviceId, deviceIdProblem, isValidDeviceId } from './device-id.js';
import {
  assertScryptParams,
  assertSecret,
  DEFAULT_SCRYPT_PARAMS,
  generateSecret,
  hashScheme,
  hashSecret,
  parseSecretHash,
  SECRET_MAX_BYTES,
  secretMatches,
  type ScryptParams,
  type SecretHash,
} from './secret-hash.js';

export type VerifyResult = 'ok' | 'unknown' | 'bad_secret' | 'busy';

const MAC_BYTES = 16;
const EMPTY = Buffer.alloc(0);

export interface DeviceCredentialsOptions {
  /** scrypt runs in flight at once; more verifies answer 'busy' (default 8). */
  maxConcurrentVerifies?: number;
  /** Devices remembered by the success cache (default 100,000; least recently used dropped). */
  cacheMaxEntries?: number;
  /** Parameters of hashes written from now on (default logN 14, r 8, p 1). */
  scrypt?: ScryptParams;
  /** Hashes computed at once by import (default 4, libuv's default threadpool size). */
  importConcurrency?: number;
  now?: () => number;
}

/** What list() shows of a device: never the hash. */
export interface DeviceCredentialInfo {
  deviceId: string;
  createdAt: number;
  rotatedAt: number | null;
  /** e.g. "scrypt$14$8$1": the hash's scheme and parameters (to see which rows predate a change). */
  scheme: string;
}

export interface ImportEntry {
  deviceId: string;
  /** Omitted: a secret is generated and returned once. */
  secret?: string | undefined;
}

export interface ImportResult {
  added: number;
  replaced: number;
  /** Secrets generated for entries without one, in input order: shown once, never stored. */
  generated: Array<{ deviceId: string; secret: string }>;
}

export interface DeviceCredentialsStats {
  verifiesTotal: Record<VerifyResult, number>;
  /** 'ok' answers that needed no scrypt. */
  cacheHitsTotal: number;
  cacheEntries: number;
  verifiesInFlight: number;
  /** Rows whose secret_hash cannot be parsed (answered 'bad_secret'). */
  corruptHashesTotal: number;
}

interface HashRow {
  secret_hash: string;
}

interface ListRow {
  device_id: string;
  secret_hash: string;
  created_at: number;
  rotated_at: number | null;
}

export class DeviceCredentials {
  private readonly selectHash: Statement<[string], HashRow>;
  private readonly selectAll: Statement<[], ListRow>;
  private readonly insertRow: Statement<[string, string, number]>;
  private readonly updateRow: Statement<[string, number, string]>;
  private readonly deleteRow: Statement<[string]>;
  private readonly maxInFlight: number;
  private readonly params: ScryptParams;
  private readonly importConcurrency: number;
  private readonly now: () => number;
  /** Device id -> successMac(), as a 16-character latin1 string (far less heap than a Buffer). */
  private readonly cache: LruMap<string, string>;
  /** Per-process: cache entries mean nothing outside this process and die with it. */
  private readonly macKey = crypto.randomBytes(32);
  /** Target of the dummy scrypt for unknown devices: same cost as a real row. */
  private dummy: SecretHash | null = null;
  private inFlight = 0;
  private readonly counts: Record<VerifyResult, number> = { ok: 0, unknown: 0, bad_secret: 0, busy: 0 };
  private cacheHits = 0;
  private corruptHashes = 0;

  constructor(
    private readonly db: Database,
    opts: DeviceCredentialsOptions = {},
  ) {
    this.maxInFlight = opts.maxConcurrentVerifies ?? 8;
    if (!Number.isInteger(this.maxInFlight) || this.maxInFlight < 1) throw new RangeError(`maxConcurrentVerifies must be a positive integer, got ${this.maxInFlight}`);
    this.params = { ...(opts.scrypt ?? DEFAULT_SCRYPT_PARAMS) };
    assertScryptParams(this.params);
    this.importConcurrency = Math.max(1, opts.importConcurrency ?? 4);
    this.now = opts.now ?? Date.now;
    this.cache = new LruMap(opts.cacheMaxEntries ?? 100_000);
    try {
      this.selectHash = db.prepare('SELECT secret_hash FROM device_credentials WHERE device_id = ?');
      this.selectAll = db.prepare('SELECT device_id, secret_hash, created_at, rotated_at FROM device_credentials ORDER BY device_id');
      this.insertRow = db.prepare('INSERT INTO device_credentials (device_id, secret_hash, created_at, rotated_at) VALUES (?, ?, ?, NULL)');
      this.updateRow = db.prepare('UPDATE device_credentials SET secret_hash = ?, rotated_at = ? WHERE device_id = ?');
      this.deleteRow = db.prepare('DELETE FROM device_credentials WHERE device_id = ?');
    } catch (cause) {
      throw storeError(cause, 'the database has no device_credentials table (schema v2 migration not applied?)');
    }
  }

  /** Creates credentials for a new device; resolves with its generated secret (shown once). */
  async add(deviceId: string): Promise<string> {
    assertDeviceId(deviceId);
    if (this.has(deviceId)) throw gatewayError('GW_ERR_AUTH_DEVICE_EXISTS', deviceId);
    const secret = generateSecret();
    const hash = await hashSecret(secret, this.params);
    this.write(() => this.insertRow.run(deviceId, hash, this.now()), deviceId);
    return secret;
  }

  /** Replaces an existing device's secret; resolves with the new one (shown once). */
  async rotate(deviceId: string): Promise<string> {
    assertDeviceId(deviceId);
    if (!this.has(deviceId)) throw gatewayError('GW_ERR_AUTH_DEVICE_UNKNOWN', deviceId);
    const secret = generateSecret();
    const hash = await hashSecret(secret, this.params);
    const changed = this.write(() => this.updateRow.run(hash, this.now(), deviceId).changes, deviceId);
    if (changed === 0) throw gatewayError('GW_ERR_AUTH_DEVICE_UNKNOWN', `${deviceId} (removed while rotating)`);
    return secret;
  }

  /** Deletes a device's credentials; false when it had none. Its live session is not touched. */
  remove(deviceId: string): boolean {
    assertDeviceId(deviceId);
    this.cache.delete(deviceId);
    return this.write(() => this.deleteRow.run(deviceId).changes, deviceId) > 0;
  }

  has(deviceId: string): boolean {
    return this.read(() => this.selectHash.get(deviceId)) !== undefined;
  }

  list(): DeviceCredentialInfo[] {
    return this.read(() => this.selectAll.all()).map((r) => ({
      deviceId: r.device_id,
      createdAt: r.created_at,
      rotatedAt: r.rotated_at,
      scheme: hashScheme(r.secret_hash),
    }));
  }

  /**
   * Adds many devices in one transaction: all or none. Entries without a secret get a generated
   * one (returned). An id that already has credentials is an error unless `replace` (then its
   * secret is replaced, like rotate). Validation and the existence check run before any hashing.
   */
  async import(entries: readonly ImportEntry[], opts: { replace?: boolean } = {}): Promise<ImportResult> {
    const seen = new Set<string>();
    entries.forEach((e, i) => {
      const problem = deviceIdProblem(e.deviceId);
      if (problem) throw gatewayError('GW_ERR_AUTH_DEVICE_ID_INVALID', `entry ${i + 1}: ${JSON.stringify(String(e.deviceId).slice(0, 140))}: ${problem}`, { details: { index: i } });
      if (e.secret !== undefined) assertSecret(e.secret, `entry ${i + 1} (${e.deviceId})`);
      if (seen.has(e.deviceId)) throw gatewayError('GW_ERR_AUTH_IMPORT_INVALID', `entry ${i + 1}: ${e.deviceId} appears twice`, { details: { index: i } });
      seen.add(e.deviceId);
    });
    if (!opts.replace) this.assertNoneExist(entries);

    const secrets = entries.map((e) => e.secret ?? generateSecret());
    const hashes = await mapBounded(secrets, this.importConcurrency, (s) => hashSecret(s, this.params));

    const result = this.write(
      () =>
        this.db
          .transaction(() => {
            if (!opts.replace) this.assertNoneExist(entries); // again: the table may have changed while hashing
            const now = this.now();
            let added = 0;
            let replaced = 0;
            entries.forEach((e, i) => {
              if (this.updateRow.run(hashes[i]!, now, e.deviceId).changes > 0) replaced++;
              else {
                this.insertRow.run(e.deviceId, hashes[i]!, now);
                added++;
              }
            });
            return { added, replaced };
          })
          .immediate(),
      'import',
    );
    const generated: ImportResult['generated'] = [];
    entries.forEach((e, i) => {
      if (e.secret === undefined) generated.push({ deviceId: e.deviceId, secret: secrets[i]! });
    });
    return { ...result, generated };
  }

  private assertNoneExist(entries: readonly ImportEntry[]): void {
    const existing = entries.filter((e) => this.has(e.deviceId)).map((e) => e.deviceId);
    if (existing.length > 0) {
      const shown = existing.slice(0, 10).join(', ') + (existing.length > 10 ? `, ... (${existing.length} in all)` : '');
      throw gatewayError('GW_ERR_AUTH_DEVICE_EXISTS', `${shown} (use --replace to replace their secrets)`, { details: { deviceIds: existing } });
    }
  }

  /**
   * Checks a CONNECT's username (device id) and password. 'unknown' and 'bad_secret' differ only
   * for logs and counters: answer both with the same CONNACK so ids cannot be enumerated.
   * Rejects (GW_ERR_AUTH_STORE) only when the database cannot be read. A CONNECT without a
   * password (aedes passes undefined) is checked as an empty one: same cost, never 'ok'.
   */
  async verify(deviceId: string, password: Buffer | null | undefined): Promise<VerifyResult> {
    password ??= EMPTY;
    // Cheap refusals first: the rules for ids and lengths are public, so skipping scrypt here
    // tells nothing about which devices exist.
    if (!isValidDeviceId(deviceId)) return this.count('unknown');
    const row = this.read(() => this.selectHash.get(deviceId));
    if (password.length > SECRET_MAX_BYTES) return this.count(row ? 'bad_secret' : 'unknown');

    let mac: Buffer | null = null;
    if (row) {
      mac = this.successMac(row.secret_hash, password);
      const cached = this.cache.get(deviceId);
      if (cached !== undefined && crypto.timingSafeEqual(Buffer.from(cached, 'latin1'), mac)) {
        this.cacheHits++;
        return this.count('ok');
      }
    }
    // Counted before the first await, so K calls in one tick hold all K slots.
    if (this.inFlight >= this.maxInFlight) return this.count('busy');
    this.inFlight++;
    try {
      const target = row ? parseSecretHash(row.secret_hash) : null;
      if (!target) {
        if (row) this.corruptHashes++;
        await secretMatches(password, this.dummyHash());
        return this.count(row ? 'bad_secret' : 'unknown');
      }
      if (!(await secretMatches(password, target))) return this.count('bad_secret');
      this.cache.set(deviceId, mac!.toString('latin1'));
      return this.count('ok');
    } catch (cause) {
      throw storeError(cause, `verify ${deviceId}`);
    } finally {
      this.inFlight--;
    }
  }

  stats(): DeviceCredentialsStats {
    return {
      verifiesTotal: { ...this.counts },
      cacheHitsTotal: this.cacheHits,
      cacheEntries: this.cache.size,
      verifiesInFlight: this.inFlight,
      corruptHashesTotal: this.corruptHashes,
    };
  }

  private count(result: VerifyResult): VerifyResult {
    this.counts[result]++;
    return result;
  }

  /**
   * HMAC over the stored hash and the password: a hit proves both are what scrypt accepted.
   * Truncated to 128 bits: the key never leaves this process, so nobody can search for a
   * collision offline, and 100,000 entries stay ~15 MiB smaller.
   */
  private successMac(secretHash: string, password: Buffer): Buffer {
    return crypto.createHmac('sha256', this.macKey).update(secretHash).update('\0').update(password).digest().subarray(0, MAC_BYTES);
  }

  private dummyHash(): SecretHash {
    this.dummy ??= { ...this.params, salt: crypto.randomBytes(16), key: crypto.randomBytes(32) };
    return this.dummy;
  }

  private read<T>(fn: () => T): T {
    try {
      return fn();
    } catch (cause) {
      throw storeError(cause, 'read');
    }
  }

  private write<T>(fn: () => T, what: string): T {
    try {
      return fn();
    } catch (cause) {
      if (isGatewayError(cause)) throw cause;
      if ((cause as { code?: string }).code === 'SQLITE_CONSTRAINT_PRIMARYKEY') throw gatewayError('GW_ERR_AUTH_DEVICE_EXISTS', what, { cause });
      throw storeError(cause, what);
    }
  }
}

function storeError(cause: unknown, what: string): GatewayError {
  if (isGatewayError(cause)) return cause;
  const code = (cause as { code?: string }).code;
  return gatewayError('GW_ERR_AUTH_STORE', `${what}: ${code ? `${code} ` : ''}${(cause as Error).message}`, { cause, details: code ? { sqliteCode: code } : undefined });
}

/** fn over items with at most `limit` promises pending; results in input order. */
async function mapBounded<T, R>(items: readonly T[], limit: number, fn: (item: T) => Promise<R>): Promise<R[]> {
  const out = new Array<R>(items.length);
  let next = 0;
  const worker = async (): Promise<void> => {
    while (next < items.length) {
      const i = next++;
      out[i] = await fn(items[i]!);
    }
  };
  await Promise.all(Array.from({ length: Math.min(limit, items.length) }, worker));
  return out;
}

export function createDeviceCredentials(db: Database, opts?: DeviceCredentialsOptions): DeviceCredentials {
  return new DeviceCredentials(db, opts);
}
