/**
 * The device side of configuration delivery, pure: what a simulated device does with a message
 * on devices/{id}/config (retained, QoS 1, `{"version": n, "config": {...}}`) and what it answers
 * on devices/{id}/config/ack (`{"version": n, "state": "applied"|"rejected", "reason"?}`).
 *
 * Like real firmware: a config is the whole desired state (a key it omits is back to its
 * default); keys it does not know are ignored (newer cloud, older firmware); a version it already
 * handled is answered again (the gateway re-publishes after restarts) but never re-applied; an
 * older version than the applied one is refused. What it understands:
 * - `publishIntervalMs`: its publish period (a positive number of ms, at most a day);
 * - `fields`: extra scalar fields added to every telemetry payload, e.g. {"fw": "2"}.
 */

export interface SimDeviceConfig {
  /** undefined: the rate given at start. */
  publishIntervalMs?: number;
  /** undefined: no extra fields. */
  fields?: Record<string, string | number | boolean>;
}

export interface ConfigAckPayload {
  version: number;
  state: 'applied' | 'rejected';
  reason?: string;
}

export type ConfigDecision =
  /** Empty payload (config cleared) or no usable version: nothing to answer. */
  | { kind: 'ignore'; reason: string }
  | { kind: 'apply'; config: SimDeviceConfig; ack: ConfigAckPayload }
  /** Already handled: answer as before, change nothing. */
  | { kind: 'reack'; ack: ConfigAckPayload }
  | { kind: 'reject'; ack: ConfigAckPayload };

export const MAX_INTERVAL_MS = 86_400_000;
const MAX_FIELDS = 16;
const MAX_FIELD_STRING = 64;
const FIELD_NAME = /^[A-Za-z_][A-Za-z0-9_]{0,31}$/;
/** The telemetry's own fields: a config cannot overwrite what the auditor relies on. */
const RESERVED_FIELDS = new Set(['deviceId', 'seq', 'ts', 'temperature', 'humidity', 'battery', 'firmwareVersion', 'uptimeSecs', 'pad']);

type Parsed = { ok: true; version: number; config: SimDeviceConfig } | { ok: false; version: number | null; reason: string };

function isObject(v: unknown): v is Record<string, unknown> {
  return typeof v === 'object' && v !== null && !Array.isArray(v);
}

/** Parses and validates one config message. */
export function parseDeviceConfig(payload: Buffer | string): Parsed {
  const text = payload.toString();
  if (text.length === 0) return { ok: false, version: null, reason: 'empty (configuration cleared)' };
  let msg: unknown;
  try {
    msg = JSON.parse(text);
  } catch {
    return { ok: false, version: null, reason: 'not JSON' };
  }
  if (!isObject(msg)) return { ok: false, version: null, reason: 'not a JSON object' };
  const version = msg['version'];
  if (typeof version !== 'number' || !Number.isSafeInteger(version) || version < 1) return { ok: false, version: null, reason: 'no positive integer version' };
  const cfg = msg['config'];
  if (!isObject(cfg)) return { ok: false, version, reason: 'config must be an object' };
  const out: SimDeviceConfig = {};
  const interval = cfg['publishIntervalMs'];
  if (interval !== undefined) {
    if (typeof interval !== 'number' || !Number.isFinite(interval) || interval <= 0 || interval > MAX_INTERVAL_MS) {
      return { ok: false, version, reason: `publishIntervalMs must be a positive number of ms up to ${MAX_INTERVAL_MS}` };
    }
    out.publishIntervalMs = interval;
  }
  const fields = cfg['fields'];
  if (fields !== undefined) {
    if (!isObject(fields)) return { ok: false, version, reason: 'fields must be an object' };
    const entries = Object.entries(fields);
    if (entries.length > MAX_FIELDS) return { ok: false, version, reason: `at most ${MAX_FIELDS} fields` };
    const kept: Record<string, string | number | boolean> = {};
    for (const [name, value] of entries) {
      if (!FIELD_NAME.test(name)) return { ok: false, version, reason: `field name ${JSON.stringify(name.slice(0, 40))} is not an identifier` };
      if (RESERVED_FIELDS.has(name)) return { ok: false, version, reason: `field ${name} is part of the telemetry` };
      const scalar = (typeof value === 'string' && value.length <= MAX_FIELD_STRING) || typeof value === 'boolean' || (typeof value === 'number' && Number.isFinite(value));
      if (!scalar) return { ok: false, version, reason: `field ${name} must be a number, a boolean or a string of at most ${MAX_FIELD_STRING} characters` };
      kept[name] = value as string | number | boolean;
    }
    out.fields = kept;
  }
  return { ok: true, version, config: out };
}

/** The JSON text appended to each telemetry object for `fields` (`,"fw":"2"`), '' for none. */
export function extraFieldsJson(fields: SimDeviceConfig['fields']): string {
  if (fields === undefined) return '';
  let s = '';
  for (const [k, v] of Object.entries(fields)) s += `,${JSON.stringify(k)}:${JSON.stringify(v)}`;
  return s;
}

/** One device's configuration memory: the last version it answered and how. */
export class DeviceConfigState {
  private last: ConfigAckPayload | null = null;
  private applied: number | null = null;

  /** Version currently applied (null: the start-up settings). */
  get appliedVersion(): number | null {
    return this.applied;
  }

  decide(payload: Buffer | string): ConfigDecision {
    const p = parseDeviceConfig(payload);
    if (p.version === null) return { kind: 'ignore', reason: p.ok ? 'no version' : p.reason };
    const last = this.last;
    if (last !== null && p.version === last.version) return { kind: 'reack', ack: last };
    if (this.applied !== null && p.version < this.applied) {
      return { kind: 'reject', ack: { version: p.version, state: 'rejected', reason: `older than the applied version ${this.applied}` } };
    }
    if (!p.ok) {
      const ack: ConfigAckPayload = { version: p.version, state: 'rejected', reason: p.reason };
      this.last = ack;
      return { kind: 'reject', ack };
    }
    const ack: ConfigAckPayload = { version: p.version, state: 'applied' };
    this.last = ack;
    this.applied = p.version;
    return { kind: 'apply', config: p.config, ack };
  }
}
