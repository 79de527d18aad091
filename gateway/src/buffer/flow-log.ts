/** One log line per backpressure state change (never per message). */
import type { Logger } from '../lib/logger.js';
import type { FlowState } from './flow-control.js';

// `as const`: the events stay literal types, which test/unit/lib/log-events.test.ts checks.
const EVENTS = {
  open: { event: 'backpressure_off', level: 'info', msg: 'buffer below low watermark: devices resume at full speed' },
  slowing: { event: 'backpressure_on', level: 'warn', msg: 'buffer above high watermark: slowing devices (delayed acks)' },
  full: { event: 'buffer_full', level: 'warn', msg: 'buffer at its cap: holding publishes (overflow policy)' },
  diskError: { event: 'disk_error', level: 'error', msg: 'buffer disk refuses writes: holding publishes, retrying' },
} as const satisfies Record<FlowState, { event: string; level: 'info' | 'warn' | 'error'; msg: string }>;

export function logFlowChange(log: Logger, from: FlowState, to: FlowState, bytes: number, maxSizeBytes: number, dropped: Readonly<Record<string, number>>): void {
  const e = EVENTS[to];
  const extra = from === 'diskError' ? { recoveredFrom: 'disk_error' } : {};
  if (from === 'diskError') log.info({ event: 'disk_recovered', bytes }, 'buffer disk accepts writes again');
  log[e.level]({ event: e.event, from, to, bytes, maxSizeBytes, fill: Number((bytes / maxSizeBytes).toFixed(3)), dropped, ...extra }, e.msg);
}
