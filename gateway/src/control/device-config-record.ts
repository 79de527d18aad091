/**
 * Wire formats of device configuration, parsed strictly (no partially valid record is taken):
 * - desired config (Kafka, compacted, key = device id): `{"version": n, "config": {...}}`, at most
 *   64 KiB; a tombstone (null value) means "no desired configuration";
 * - what the device receives, retained on devices/{id}/config: the same JSON;
 * - the device's answer on devices/{id}/config/ack: `{"version": n, "state": "applied"|"rejected",
 *   "reason"?: "..."}`;
 * - the status record (Kafka, compacted, key = device id) the gateway writes on every change.
 */
import { gatewayError } from '../errors.js';
import { jsonDepthExceeds } from '../lib/json-depth.js';

export const DESIRED_MAX_BYTES = 64 * 1024;
export const ACK_MAX_BYTES = 4 * 1024;
export const ACK_REASON_MAX_CHARS = 1024;
/** Deep enough for any real config; bounds every recursive walk (JSON.stringify) of it. */
const MAX_DEPTH = 32;

export interface DesiredConfig {
  version: number;
  /** Canonical JSON text of the config object (JSON.stringify of what was parsed). */
  configJson: string;
}

export type AckState = 'applied' | 'rejected';

export interface ConfigAck {
  version: number;
  state: AckState;
  reason: string | null;
}

export type DeviceConfigState = 'pending' | 'delivered' | 'applied' | 'rejected' | 'cleared';

export interface DeviceStatusRecord {
  deviceId: string;
  gatewayId: string;
  /** null once a tombstone cleared the desired configuration. */
  desiredVersion: number | null;
  deliveredVersion: number | null;
  ackedVersion: number | null;
  state: DeviceConfigState;
  reason?: string;
  /** ISO-8601 time of the change. */
  at: string;
}

function isPlainObject(v: unknown): v is Record<string, unknown> {
  return typeof v === 'object' && v !== null && !Array.isArray(v);
}

function isVersion(v: unknown): v is number {
  return typeof v === 'number' && Number.isSafeInteger(v) && v > 0;
}

function parseJsonObject(bytes: Buffer, maxBytes: number, what: string, code: 'GW_ERR_DEVICE_CONFIG_INVALID' | 'GW_ERR_DEVICE_CONFIG_ACK_INVALID'): Record<string, unknown> {
  if (bytes.length > maxBytes) throw gatewayError(code, `${what} is ${bytes.length} bytes, more than ${maxBytes}`);
  if (jsonDepthExceeds(bytes, MAX_DEPTH)) throw gatewayError(code, `${what} nests deeper than ${MAX_DEPTH} levels`);
  let parsed: unknown;
  try {
    parsed = JSON.parse(bytes.toString('utf8'));
  } catch (err) {
    throw gatewayError(code, `${what} is not JSON: ${(err as Error).message}`);
  }
  if (!isPlainObject(parsed)) throw gatewayError(code, `${what} must be a JSON object`);
  return parsed;
}

function onlyKeys(o: Record<string, unknown>, allowed: readonly string[], what: string, code: 'GW_ERR_DEVICE_CONFIG_INVALID' | 'GW_ERR_DEVICE_CONFIG_ACK_INVALID'): void {
  for (const k of Object.keys(o)) {
    if (!allowed.includes(k)) throw gatewayError(code, `${what} has an unknown key ${JSON.stringify(k.slice(0, 64))}`);
  }
}

/** A desired-config record's value; throws GW_ERR_DEVICE_CONFIG_INVALID. */
export function parseDesiredConfig(value: Buffer): DesiredConfig {
  const code = 'GW_ERR_DEVICE_CONFIG_INVALID';
  const o = parseJsonObject(value, DESIRED_MAX_BYTES, 'value', code);
  onlyKeys(o, ['version', 'config'], 'value', code);
  if (!isVersion(o['version'])) throw gatewayError(code, 'version must be a positive safe integer');
  if (!isPlainObject(o['config'])) throw gatewayError(code, 'config must be a JSON object');
  const configJson = JSON.stringify(o['config']);
  // Re-serialised JSON can be longer than what was read (1e9 -> 1000000000): the bound is for
  // the retained payload the broker keeps and the device receives.
  const retainedBytes = retainedPayload(o['version'], configJson).length;
  if (retainedBytes > DESIRED_MAX_BYTES) throw gatewayError(code, `value re-serialised for the device is ${retainedBytes} bytes, more than ${DESIRED_MAX_BYTES}`);
  return { version: o['version'], configJson };
}

/** What the device receives on devices/{id}/config. */
export function retainedPayload(version: number, configJson: string): Buffer {
  return Buffer.from(`{"version":${version},"config":${configJson}}`);
}

/** A device's answer; throws GW_ERR_DEVICE_CONFIG_ACK_INVALID. */
export function parseConfigAck(payload: Buffer): ConfigAck {
  const code = 'GW_ERR_DEVICE_CONFIG_ACK_INVALID';
  const o = parseJsonObject(payload, ACK_MAX_BYTES, 'ack', code);
  onlyKeys(o, ['version', 'state', 'reason'], 'ack', code);
  if (!isVersion(o['version'])) throw gatewayError(code, 'version must be a positive safe integer');
  const state = o['state'];
  if (state !== 'applied' && state !== 'rejected') throw gatewayError(code, 'state must be "applied" or "rejected"');
  const reason = o['reason'];
  if (reason !== undefined && reason !== null && typeof reason !== 'string') throw gatewayError(code, 'reason must be a string');
  if (typeof reason === 'string' && reason.length > ACK_REASON_MAX_CHARS) throw gatewayError(code, `reason is longer than ${ACK_REASON_MAX_CHARS} characters`);
  return { version: o['version'], state, reason: typeof reason === 'string' ? reason : null };
}

/** The state a status record reports, derived from the stored versions. */
export function configState(r: { desiredConfig: string | null; desiredVersion: number; deliveredVersion: number | null; ackedVersion: number | null; ackState: AckState | null }): DeviceConfigState {
  if (r.desiredConfig === null) return 'cleared';
  // An answer for another version is kept, but does not answer for the current one.
  if (r.ackedVersion === r.desiredVersion && r.ackState !== null) return r.ackState;
  if (r.deliveredVersion === r.desiredVersion) return 'delivered';
  return 'pending';
}
