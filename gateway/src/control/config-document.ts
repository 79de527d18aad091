/**
 * The signed configuration document an operator pushes to a gateway: a compact JWS (a JWT,
 * RFC 7519) signed with Ed25519 (alg EdDSA, RFC 8037).
 *
 *   header  { alg: 'EdDSA', kid, typ: 'edge-gateway-config+jwt' }
 *   claims  { sub: gateway id, ver: integer >= 1, iat, exp?, config: { ...the YAML file's object } }
 *
 * Verification order: size (before anything is decoded), compact form, header (alg allow-list,
 * typ, kid), trusted key by kid, signature (jose checks it before it decodes the payload), then
 * the claims. `config` is returned as signed, unvalidated: the caller runs the gateway's schema.
 *
 * Time: only `exp` is compared with the clock, with CLOCK_TOLERANCE_SECS of leeway for ordinary
 * NTP skew. `iat` is informational and never compared (a box without an RTC can boot with a clock
 * far behind; it must still take a fresh document). Replays are stopped by `ver` only rising, not
 * by time, so a document without `exp` is valid until a higher version replaces it.
 */
import { createHash } from 'node:crypto';
import { decodeJwt, decodeProtectedHeader, importPKCS8, importSPKI, jwtVerify, SignJWT, type CryptoKey, type JWTPayload } from 'jose';
import type { TrustedKeyConfig } from '../config/control-schema.js';
import { gatewayError, type GatewayError } from '../errors.js';

export const CONFIG_DOCUMENT_TYP = 'edge-gateway-config+jwt';
export const CONFIG_DOCUMENT_ALG = 'EdDSA';
/** Documents longer than this (bytes of the compact JWS) are refused before any decoding. */
export const DEFAULT_MAX_DOCUMENT_BYTES = 1024 * 1024;
/** Leeway on `exp`: a gateway's clock a minute ahead still takes a document about to expire. */
export const CLOCK_TOLERANCE_SECS = 60;

const COMPACT_JWS = /^[A-Za-z0-9_-]+\.[A-Za-z0-9_-]+\.[A-Za-z0-9_-]+$/;

export interface SignConfigDocumentOptions {
  /** Ed25519 private key, PEM (PKCS8), as written by `edge-gateway keys generate`. */
  privateKeyPem: string;
  kid: string;
  gatewayId: string;
  version: number;
  /** The config object as in the file (not defaulted). */
  config: Record<string, unknown>;
  expiresInSecs?: number | undefined;
  /** ms since the epoch; default Date.now(). */
  now?: number | undefined;
}

export interface VerifyConfigDocumentOptions {
  trustedKeys: readonly TrustedKeyConfig[];
  gatewayId: string;
  /** ms since the epoch; default Date.now(). */
  now?: number | undefined;
  maxBytes?: number | undefined;
}

export interface VerifiedConfigDocument {
  kid: string;
  gatewayId: string;
  version: number;
  /** ms since the epoch */
  issuedAt: number;
  /** ms since the epoch; null = never expires */
  expiresAt: number | null;
  /** As signed; NOT schema-validated here. */
  config: unknown;
  /** sha256 (hex) of the compact JWS string. */
  hash: string;
}

/** Claims read WITHOUT checking the signature: for routing (key, partition), never for trust. */
export interface UnverifiedDocumentClaims {
  kid: string;
  gatewayId: string;
  version: number;
}

export async function signConfigDocument(opts: SignConfigDocumentOptions): Promise<string> {
  const fail = (reason: string, cause?: unknown): GatewayError => gatewayError('GW_ERR_CONTROL_SIGN', reason, cause === undefined ? undefined : { cause });
  if (!isVersion(opts.version)) throw fail(`version must be an integer from 1 to ${Number.MAX_SAFE_INTEGER}, got ${opts.version}`);
  if (typeof opts.gatewayId !== 'string' || opts.gatewayId.length === 0) throw fail('gateway id is empty');
  if (typeof opts.kid !== 'string' || opts.kid.length === 0) throw fail('kid is empty');
  if (!isPlainObject(opts.config)) throw fail('config must be an object');
  const exp = opts.expiresInSecs;
  if (exp !== undefined && !(Number.isSafeInteger(exp) && exp > 0)) throw fail(`expiry must be a positive whole number of seconds, got ${exp}`);
  let key: CryptoKey;
  try {
    key = await importPKCS8(opts.privateKeyPem, CONFIG_DOCUMENT_ALG);
  } catch (cause) {
    throw fail(`not an Ed25519 private key in PEM (PKCS8): ${(cause as Error).message}`, cause);
  }
  const iat = Math.floor((opts.now ?? Date.now()) / 1000);
  const jwt = new SignJWT({ ver: opts.version, config: opts.config })
    .setProtectedHeader({ alg: CONFIG_DOCUMENT_ALG, kid: opts.kid, typ: CONFIG_DOCUMENT_TYP })
    .setSubject(opts.gatewayId)
    .setIssuedAt(iat);
  if (exp !== undefined) jwt.setExpirationTime(iat + exp);
  const jws = await jwt.sign(key);
  // Every gateway would refuse it: say so here rather than after the push.
  if (Buffer.byteLength(jws) > DEFAULT_MAX_DOCUMENT_BYTES) throw fail(`document is ${Buffer.byteLength(jws)} bytes, gateways accept at most ${DEFAULT_MAX_DOCUMENT_BYTES}`);
  return jws;
}

export async function verifyConfigDocument(jws: string, opts: VerifyConfigDocumentOptions): Promise<VerifiedConfigDocument> {
  const maxBytes = opts.maxBytes ?? DEFAULT_MAX_DOCUMENT_BYTES;
  const kid = checkEnvelope(jws, maxBytes);
  const trusted = opts.trustedKeys.find((k) => k.kid === kid);
  if (!trusted) throw gatewayError('GW_ERR_CONTROL_UNKNOWN_KEY', `kid "${kid}" is not in control.trustedKeys`, { details: { kid } });
  let key: CryptoKey;
  try {
    key = await importSPKI(trusted.publicKey, CONFIG_DOCUMENT_ALG);
  } catch (cause) {
    throw gatewayError('GW_ERR_CONTROL_UNKNOWN_KEY', `trusted key "${kid}" is not a usable Ed25519 public key: ${(cause as Error).message}`, { cause, details: { kid } });
  }
  const now = opts.now ?? Date.now();
  let payload: JWTPayload;
  try {
    ({ payload } = await jwtVerify(jws, key, {
      algorithms: [CONFIG_DOCUMENT_ALG],
      typ: CONFIG_DOCUMENT_TYP,
      currentDate: new Date(now),
      clockTolerance: CLOCK_TOLERANCE_SECS,
    }));
  } catch (cause) {
    throw fromJose(cause, kid);
  }
  const claims = readClaims(payload);
  if (claims.gatewayId !== opts.gatewayId) {
    throw gatewayError('GW_ERR_CONTROL_WRONG_GATEWAY', `document is for "${claims.gatewayId}", this gateway is "${opts.gatewayId}"`, { details: { sub: claims.gatewayId } });
  }
  const exp = payload.exp;
  return {
    kid,
    gatewayId: claims.gatewayId,
    version: claims.version,
    issuedAt: claims.iat * 1000,
    expiresAt: exp === undefined ? null : exp * 1000,
    config: payload['config'],
    hash: createHash('sha256').update(jws).digest('hex'),
  };
}

/**
 * UNVERIFIED: decodes `sub`, `ver` and `kid` without checking the signature or the key. For the
 * push tool to choose the record key and partition; nothing read here may be trusted.
 */
export function peekDocumentClaims(jws: string, maxBytes = DEFAULT_MAX_DOCUMENT_BYTES): UnverifiedDocumentClaims {
  const kid = checkEnvelope(jws, maxBytes);
  let payload: JWTPayload;
  try {
    payload = decodeJwt(jws);
  } catch (cause) {
    throw malformed(`payload: ${(cause as Error).message}`, cause);
  }
  const claims = readClaims(payload);
  return { kid, gatewayId: claims.gatewayId, version: claims.version };
}

/** Size, compact form and protected header; returns the kid. Nothing of the payload is read. */
function checkEnvelope(jws: string, maxBytes: number): string {
  if (typeof jws !== 'string') throw malformed('not a string');
  // String length bounds the UTF-8 size from below: a huge string is refused without encoding it.
  if (jws.length > maxBytes || Buffer.byteLength(jws) > maxBytes) throw malformed(`larger than ${maxBytes} bytes`);
  if (!COMPACT_JWS.test(jws)) throw malformed('not a compact JWS (three base64url parts)');
  let header: ReturnType<typeof decodeProtectedHeader>;
  try {
    header = decodeProtectedHeader(jws);
  } catch (cause) {
    throw malformed(`header: ${(cause as Error).message}`, cause);
  }
  if (header.alg !== CONFIG_DOCUMENT_ALG) throw malformed(`alg must be ${CONFIG_DOCUMENT_ALG}, got ${JSON.stringify(header.alg)}`);
  if (typeof header.typ !== 'string' || normalizeTyp(header.typ) !== CONFIG_DOCUMENT_TYP) throw malformed(`typ must be ${CONFIG_DOCUMENT_TYP}, got ${JSON.stringify(header.typ)}`);
  if (typeof header.kid !== 'string' || header.kid.length === 0) throw malformed('header has no kid');
  return header.kid;
}

function readClaims(payload: JWTPayload): { gatewayId: string; version: number; iat: number } {
  const { sub, iat } = payload;
  const ver = payload['ver'];
  if (typeof sub !== 'string' || sub.length === 0) throw malformed('claim "sub" (gateway id) must be a non-empty string');
  if (!isVersion(ver)) throw malformed(`claim "ver" must be an integer from 1 to ${Number.MAX_SAFE_INTEGER}, got ${JSON.stringify(ver)}`);
  if (typeof iat !== 'number' || !Number.isFinite(iat)) throw malformed('claim "iat" must be a number');
  if (!isPlainObject(payload['config'])) throw malformed('claim "config" must be an object');
  return { gatewayId: sub, version: ver, iat };
}

/** RFC 7515 4.1.9: media type names are case-insensitive and "application/" may be left out. */
function normalizeTyp(typ: string): string {
  const t = typ.toLowerCase();
  return t.startsWith('application/') ? t.slice('application/'.length) : t;
}

function fromJose(cause: unknown, kid: string): GatewayError {
  const code = (cause as { code?: unknown } | null)?.code;
  const reason = (cause as Error)?.message ?? String(cause);
  if (code === 'ERR_JWS_SIGNATURE_VERIFICATION_FAILED') return gatewayError('GW_ERR_CONTROL_SIGNATURE', `kid "${kid}"`, { cause, details: { kid } });
  if (code === 'ERR_JWT_EXPIRED') {
    const exp = (cause as { payload?: JWTPayload }).payload?.exp;
    return gatewayError('GW_ERR_CONTROL_EXPIRED', exp === undefined ? reason : `expired at ${new Date(exp * 1000).toISOString()}`, { cause });
  }
  return malformed(reason, cause);
}

function malformed(reason: string, cause?: unknown): GatewayError {
  return gatewayError('GW_ERR_CONTROL_MALFORMED', reason, cause === undefined ? undefined : { cause });
}

function isVersion(v: unknown): v is number {
  return typeof v === 'number' && Number.isSafeInteger(v) && v >= 1;
}

function isPlainObject(v: unknown): v is Record<string, unknown> {
  return typeof v === 'object' && v !== null && !Array.isArray(v);
}
