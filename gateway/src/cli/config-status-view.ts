/**
 * `config status` output: status-topic values parsed into GatewayStatusRecords (anything else is
 * counted and named, never shown as a gateway) and laid out one line per gateway.
 */
import { STATUS_KIND, type GatewayStatusRecord } from '../control/status-record.js';

export type ParsedStatus = { ok: true; record: GatewayStatusRecord } | { ok: false; reason: string };

const isObject = (v: unknown): v is Record<string, unknown> => typeof v === 'object' && v !== null && !Array.isArray(v);

/** Checks the fields this view reads; `key` is the record key, which must name the same gateway. */
export function parseStatusRecord(key: string, value: Buffer): ParsedStatus {
  let v: unknown;
  try {
    v = JSON.parse(value.toString('utf8'));
  } catch {
    return { ok: false, reason: 'not JSON' };
  }
  if (!isObject(v) || v['kind'] !== STATUS_KIND) return { ok: false, reason: `kind is not ${STATUS_KIND}` };
  if (v['schemaVersion'] !== 1) return { ok: false, reason: `schemaVersion ${JSON.stringify(v['schemaVersion'])} is not 1` };
  if (v['gatewayId'] !== key) return { ok: false, reason: `gatewayId ${JSON.stringify(v['gatewayId'])} is not the record key` };
  const { config, heartbeat } = v;
  if (typeof v['at'] !== 'string' || !isObject(config) || !isObject(heartbeat) || !isObject(heartbeat['buffer']) || !isObject(heartbeat['kafka'])) {
    return { ok: false, reason: 'missing at, config or heartbeat' };
  }
  return { ok: true, record: v as unknown as GatewayStatusRecord };
}

export function formatStatusTable(records: readonly GatewayStatusRecord[], now: number): string {
  const rows = [
    ['GATEWAY', 'CONFIG', 'LAST RESULT', 'HEARTBEAT', 'DEVICES', 'BUFFER ROWS', 'KAFKA'],
    ...records.map((r) => [
      r.gatewayId,
      r.config.source === 'pushed' ? `v${r.config.version ?? '?'} pushed` : 'file',
      lastResult(r.config.lastResult),
      age(now - Date.parse(r.at)),
      String(r.heartbeat.devicesConnected ?? '-'),
      String(r.heartbeat.buffer.rows ?? '-'),
      r.heartbeat.kafka.up ? 'up' : 'down',
    ]),
  ];
  const widths = rows[0]!.map((_, c) => Math.max(...rows.map((row) => row[c]!.length)));
  return rows.map((row) => row.map((cell, c) => (c === row.length - 1 ? cell : cell.padEnd(widths[c]!))).join('  ')).join('\n') + '\n';
}

function lastResult(r: GatewayStatusRecord['config']['lastResult']): string {
  if (!r) return '-';
  return [r.state, r.version === null ? null : `v${r.version}`, r.code].filter((s) => s).join(' ');
}

/** Coarse age: 42s ago, 5m ago, 3h ago, 2d ago. A record from the future (clock skew) reads 0s ago. */
export function age(ms: number): string {
  if (!Number.isFinite(ms)) return '?';
  const s = Math.max(0, Math.floor(ms / 1000));
  if (s < 120) return `${s}s ago`;
  if (s < 7200) return `${Math.floor(s / 60)}m ago`;
  if (s < 172_800) return `${Math.floor(s / 3600)}h ago`;
  return `${Math.floor(s / 86_400)}d ago`;
}
