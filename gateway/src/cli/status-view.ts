/**
 * `edge-gateway status` output: one admin /status snapshot (admin-status.ts) as aligned
 * key/value lines for a terminal. The same facts as the status page, without the rates (one
 * snapshot has no history; the page computes them from successive ones).
 */
import type { AdminStatus } from '../control/admin-status.js';

export function formatAdminStatus(s: AdminStatus): string {
  const c = s.config;
  const r = c.lastResult;
  const busiest = s.devices.busiest.map((d) => `${d.deviceId} ${num(d.messages)}`).join(', ');
  const rejected = Object.entries(s.ingest.rejectedByCode).filter(([, n]) => n > 0).map(([code, n]) => `${code} ${num(n)}`);
  const drops = Object.entries(s.drops.byReason).filter(([, n]) => n > 0).map(([why, n]) => `${why} ${num(n)}`);
  const b = s.buffer;
  const rows: Array<[string, string]> = [
    ['gateway', `${s.gatewayId} (${s.binaryVersion}, node ${s.node})${s.pipelineRunning ? '' : ' - pipeline rebuilding'}`],
    ['uptime', duration(s.uptimeSecs * 1000)],
    ['config', c.source === 'pushed' ? `v${c.version ?? '?'} pushed (${c.hash.slice(0, 12)})` : `local file (${c.hash.slice(0, 12)})`],
    ['last push', r === null ? 'none' : [r.state, r.version === null ? null : `v${r.version}`, r.code, `at ${r.at}`].filter((x) => x).join(' ') + (r.reason ? `: ${r.reason}` : '')],
    ['devices', `${num(s.devices.connected)} connected${busiest ? `; busiest over ${duration(s.devices.busiestWindowMs)}: ${busiest}` : ''}`],
    ['ingest', `${num(s.ingest.acceptedTotal)} accepted, ${num(s.ingest.rejectedTotal)} rejected${rejected.length ? ` (${rejected.join(', ')})` : ''}`],
    ['forward', `${num(s.forward.sentTotal)} sent to Kafka in ${num(s.forward.batchesTotal)} batches, ${num(s.forward.sendErrorsTotal)} send errors`],
    ['buffer', `${num(b.rows)} rows, ${bytes(b.bytes)} of ${bytes(b.maxSizeBytes)} (${percent(b.fill)}), oldest ${b.oldestAgeMs === null ? '-' : duration(b.oldestAgeMs)}, flow ${b.flow}`],
    ['kafka', s.kafka.up ? 'up' : `down${s.kafka.lastError ? '' : ' (no error yet)'}`],
    ['last error', s.kafka.lastError ?? 'none'],
    ['dead letters', `${num(s.deadLetters.total)} (${num(s.deadLetters.rows)} in dead_letters)`],
    ['drops', `${num(s.drops.total)}${drops.length ? ` (${drops.join(', ')})` : ''}`],
    ['at', s.at],
  ];
  const width = Math.max(...rows.map(([k]) => k.length));
  // Device ids, Kafka errors and push reasons come from outside: a control character (an ESC
  // sequence can retitle, clear or write the clipboard of the operator's terminal) is shown escaped.
  return rows.map(([k, v]) => `${k.padEnd(width)}  ${printable(v)}`).join('\n') + '\n';
}

const printable = (s: string): string => s.replace(/\p{Cc}/gu, (c) => `\\u${c.charCodeAt(0).toString(16).padStart(4, '0')}`);

const num = (n: number): string => n.toLocaleString('en-US');

export function bytes(n: number): string {
  const units = ['B', 'KiB', 'MiB', 'GiB', 'TiB'];
  let i = 0;
  while (n >= 1024 && i < units.length - 1) {
    n /= 1024;
    i++;
  }
  return i === 0 ? `${n} B` : `${n.toFixed(1)} ${units[i]}`;
}

function percent(f: number): string {
  return `${(f * 100).toFixed(f < 0.1 ? 2 : 1)} %`;
}

/** 42 s, 5 min, 3.5 h, 2.0 d. */
export function duration(ms: number): string {
  const s = Math.floor(Math.max(0, ms) / 1000);
  if (s < 120) return `${s} s`;
  if (s < 7200) return `${Math.floor(s / 60)} min`;
  if (s < 172_800) return `${(s / 3600).toFixed(1)} h`;
  return `${(s / 86_400).toFixed(1)} d`;
}
