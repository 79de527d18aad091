/**
 * Device secrets and their stored form. Only a scrypt hash is kept:
 *   "scrypt$<logN>$<r>$<p>$<salt base64>$<key base64>"
 * The parameters travel with each hash, so the defaults can rise later and old rows still verify.
 * Hashing runs on libuv's threadpool (async crypto.scrypt), never on the event loop.
 */
import crypto from 'node:crypto';
import { gatewayError } from '../errors.js';

export interface ScryptParams {
  /** N = 2^logN: the cost (memory and time both grow with it). */
  logN: number;
  r: number;
  p: number;
}

/** logN 14, r 8, p 1: 16 MiB and one scrypt per verify (RFC 7914's interactive-login setting). */
export const DEFAULT_SCRYPT_PARAMS: Readonly<ScryptParams> = Object.freeze({ logN: 14, r: 8, p: 1 });

export interface SecretHash extends ScryptParams {
  salt: Buffer;
  key: Buffer;
}

const SALT_BYTES = 16;
const KEY_BYTES = 32;
const GENERATED_SECRET_BYTES = 24;
/** Secrets an operator supplies (import): long enough not to be guessed through the throttle. */
export const SECRET_MIN_CHARS = 12;
/** Longer passwords are refused without hashing (scrypt cost does not depend on it, memory does). */
export const SECRET_MAX_BYTES = 1024;
/** Stored hashes demanding more memory than this are refused (a corrupt or hostile row). */
const MAX_SCRYPT_MEMORY_BYTES = 256 * 1024 * 1024;

/** A new device secret: 24 random bytes, base64url (32 characters, no padding). */
export function generateSecret(): string {
  return crypto.randomBytes(GENERATED_SECRET_BYTES).toString('base64url');
}

/** Why an operator-supplied secret is refused, or null. */
export function secretProblem(secret: unknown): string | null {
  if (typeof secret !== 'string') return 'must be a string';
  if ([...secret].length < SECRET_MIN_CHARS) return `must be at least ${SECRET_MIN_CHARS} characters`;
  if (Buffer.byteLength(secret) > SECRET_MAX_BYTES) return `must be at most ${SECRET_MAX_BYTES} bytes`;
  if (/\p{Cc}/u.test(secret)) return 'must not contain control characters';
  if (secret.trim() !== secret) return 'must not start or end with whitespace';
  return null;
}

export function assertSecret(secret: unknown, what: string): asserts secret is string {
  const problem = secretProblem(secret);
  if (problem) throw gatewayError('GW_ERR_AUTH_SECRET_INVALID', `${what}: ${problem}`);
}

function scryptMemoryBytes(p: ScryptParams): number {
  return 128 * 2 ** p.logN * p.r + 128 * p.r * p.p;
}

function checkParams(p: ScryptParams): string | null {
  if (!Number.isInteger(p.logN) || p.logN < 1 || p.logN > 24) return `logN ${p.logN} outside 1..24`;
  if (!Number.isInteger(p.r) || p.r < 1 || p.r > 64) return `r ${p.r} outside 1..64`;
  if (!Number.isInteger(p.p) || p.p < 1 || p.p > 64) return `p ${p.p} outside 1..64`;
  if (scryptMemoryBytes(p) > MAX_SCRYPT_MEMORY_BYTES) return `needs more than ${MAX_SCRYPT_MEMORY_BYTES} bytes`;
  return null;
}

export function assertScryptParams(p: ScryptParams): void {
  const problem = checkParams(p);
  if (problem) throw new RangeError(`scrypt parameters: ${problem}`);
}

/** Parses a stored hash; null when it is not one this gateway can verify. */
export function parseSecretHash(text: string): SecretHash | null {
  const parts = text.split('$');
  if (parts.length !== 6 || parts[0] !== 'scrypt') return null;
  const [logN, r, p] = parts.slice(1, 4).map((s) => (/^[0-9]{1,3}$/.test(s!) ? Number(s) : NaN)) as [number, number, number];
  if (checkParams({ logN, r, p }) !== null) return null;
  const salt = Buffer.from(parts[4]!, 'base64');
  const key = Buffer.from(parts[5]!, 'base64');
  if (salt.length < 8 || salt.length > 64 || key.length < 16 || key.length > 64) return null;
  return { logN, r, p, salt, key };
}

export function formatSecretHash(h: SecretHash): string {
  return `scrypt$${h.logN}$${h.r}$${h.p}$${h.salt.toString('base64')}$${h.key.toString('base64')}`;
}

/** "scrypt$14$8$1": the scheme and parameters of a stored hash, without salt or key. */
export function hashScheme(text: string): string {
  return text.split('$').slice(0, 4).join('$');
}

/** scrypt(password, salt) with the hash's parameters and key length, on the threadpool. */
export function deriveKey(password: Buffer | string, h: SecretHash): Promise<Buffer> {
  return new Promise((resolve, reject) => {
    crypto.scrypt(password, h.salt, h.key.length, { N: 2 ** h.logN, r: h.r, p: h.p, maxmem: scryptMemoryBytes(h) + 1024 * 1024 }, (err, key) => {
      if (err) reject(err);
      else resolve(key);
    });
  });
}

/** A new stored hash of `secret` (fresh random salt). */
export async function hashSecret(secret: Buffer | string, params: ScryptParams = DEFAULT_SCRYPT_PARAMS): Promise<string> {
  assertScryptParams(params);
  const h: SecretHash = { ...params, salt: crypto.randomBytes(SALT_BYTES), key: Buffer.alloc(KEY_BYTES) };
  h.key = await deriveKey(secret, h);
  return formatSecretHash(h);
}

/** Constant-time check of `password` against a parsed hash. */
export async function secretMatches(password: Buffer | string, h: SecretHash): Promise<boolean> {
  const key = await deriveKey(password, h);
  // Same length by construction (derived with h.key.length); timingSafeEqual throws otherwise.
  return crypto.timingSafeEqual(key, h.key);
}
