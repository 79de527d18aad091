import type { SimSummary } from './sim-types.js';

const fmtInt = (n: number): string => n.toLocaleString('en-US');
const fmtMs = (n: number): string => n.toFixed(2);

/** Human-readable end-of-run table. */
export function formatSummaryTable(s: SimSummary): string {
  const rows: [string, string][] = [
    ['devices', fmtInt(s.devices)],
    ['qos', String(s.qos)],
    ['elapsed', `${(s.elapsedMs / 1000).toFixed(2)} s`],
    ['sent', fmtInt(s.sent)],
    ['acked', fmtInt(s.acked)],
    ['resent', fmtInt(s.resent)],
    ['errors', fmtInt(s.errors)],
    ['dropped', fmtInt(s.dropped)],
    ['unsent', fmtInt(s.unsent)],
    ['reconnects', fmtInt(s.reconnects)],
    ['msgs/s', fmtInt(s.msgsPerSec)],
    ['p50 ms', fmtMs(s.latencyMs.p50)],
    ['p99 ms', fmtMs(s.latencyMs.p99)],
    ['p99.9 ms', fmtMs(s.latencyMs.p999)],
    ['max ms', fmtMs(s.latencyMs.max)],
  ];
  const w1 = Math.max(...rows.map((r) => r[0].length));
  const w2 = Math.max(...rows.map((r) => r[1].length));
  const line = `+${'-'.repeat(w1 + 2)}+${'-'.repeat(w2 + 2)}+`;
  const body = rows.map(([k, v]) => `| ${k.padEnd(w1)} | ${v.padStart(w2)} |`);
  return [line, ...body, line].join('\n');
}
