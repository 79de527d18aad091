/**
 * The heap trim (`memory.trim`): a control-room timer that samples how much anonymous resident
 * memory the live heap does not account for and, when that slack has grown `slackBytes` above
 * its floor and stopped growing, asks V8 for one memory-reducing GC (lib/memory-reducing-gc.ts),
 * at most once per `minIntervalMs`. A trim that returns less than half of `slackBytes` doubles
 * the wait before the next one (up to 16x), so a slack that is not V8's to give back (malloc,
 * a GC sawtooth under steady load) costs a pause every hour or so at most, not every interval.
 * Each trim is logged (`heap_trimmed`: anonymous RSS before/after, pause) and counted
 * (gateway_memory_trims_total). Never on the pipeline's path: it only reads process memory.
 */
import { readFileSync } from 'node:fs';
import type { HeapTrimConfig } from '../config/memory-schema.js';
import type { Logger } from '../lib/logger.js';
import { memoryReducingGc } from '../lib/memory-reducing-gc.js';

export interface MemorySample {
  /** Anonymous resident memory (RssAnon): heap, malloc, stacks; not the executable's file pages. */
  anon: number;
  heapUsed: number;
  external: number;
}

export interface HeapTrimStats {
  /** False when V8's collector could not be had (the trim is off, logged once). */
  available: boolean;
  trimsTotal: number;
  lastPauseMs: number;
  /** Anonymous RSS before minus after the last trim (negative if it grew). */
  lastFreedBytes: number;
}

export interface HeapTrim {
  /** (Re)arms the check timer for this config; `enabled: false` stops it. */
  configure(c: Readonly<HeapTrimConfig>): void;
  stats(): HeapTrimStats;
  close(): void;
}

/** Anonymous RSS that rose more than this since the last sample is still growing: a storm is on. */
const GROWING_BYTES = 1024 * 1024;
/** Most the wait between trims grows after trims that freed little. */
export const MAX_BACKOFF = 16;

export interface TrimState {
  /** Lowest slack seen since start or the last trim. */
  floor: number;
  lastAnon: number | null;
  lastTrimAt: number;
  /** minIntervalMs multiplier: 1, doubled after each trim that freed < slackBytes / 2. */
  backoff: number;
}

export const initialTrimState = (): TrimState => ({ floor: Infinity, lastAnon: null, lastTrimAt: -Infinity, backoff: 1 });

/** Anonymous resident memory the live heap does not hold: V8's pooled and free pages, malloc, stacks. */
export const slackOf = (s: MemorySample): number => s.anon - s.heapUsed - s.external;

/** One check: updates `state` and says whether to trim now (`now`: a monotonic clock, ms). */
export function shouldTrim(state: TrimState, s: MemorySample, c: Pick<HeapTrimConfig, 'slackBytes' | 'minIntervalMs'>, now: number): boolean {
  const slack = slackOf(s);
  state.floor = Math.min(state.floor, slack);
  const growing = state.lastAnon !== null && s.anon > state.lastAnon + GROWING_BYTES;
  state.lastAnon = s.anon;
  return slack - state.floor >= c.slackBytes && !growing && now - state.lastTrimAt >= c.minIntervalMs * state.backoff;
}

/** After a trim: the floor restarts from what is left, and the wait grows if it freed little. */
export function afterTrim(state: TrimState, before: MemorySample, after: MemorySample, c: Pick<HeapTrimConfig, 'slackBytes'>, now: number): void {
  state.lastTrimAt = now;
  state.floor = slackOf(after);
  state.lastAnon = after.anon;
  state.backoff = before.anon - after.anon >= c.slackBytes / 2 ? 1 : Math.min(MAX_BACKOFF, state.backoff * 2);
}

/** RssAnon from /proc (Linux); elsewhere the whole RSS. */
export function processMemory(): MemorySample {
  const m = process.memoryUsage();
  let anon = m.rss;
  try {
    const kb = /^RssAnon:\s+(\d+) kB/m.exec(readFileSync('/proc/self/status', 'latin1'))?.[1];
    if (kb !== undefined) anon = Number(kb) * 1024;
  } catch {
    // Not Linux, or no descriptor left this instant: RSS is the next best measure.
  }
  return { anon, heapUsed: m.heapUsed, external: m.external };
}

export interface HeapTrimOptions {
  logger: Logger;
  /** Defaults: processMemory(), V8's memory-reducing GC (got at the first enable), performance.now. */
  sample?: () => MemorySample;
  collect?: (() => void) | null;
  now?: () => number;
}

export function createHeapTrim(o: HeapTrimOptions): HeapTrim {
  const log = o.logger;
  const sample = o.sample ?? processMemory;
  const now = o.now ?? (() => performance.now());
  // V8's collector is got on the first enable, not before: a disabled trim touches no V8 flag.
  let collect: (() => void) | null | undefined = o.collect;
  let unavailable: string | null = null;
  // Not available until got (at the first enable) or given.
  const stats: HeapTrimStats = { available: typeof collect === 'function', trimsTotal: 0, lastPauseMs: 0, lastFreedBytes: 0 };
  // The floor starts at what the process holds before any device connects (the control room is
  // created before the pipeline), so the first connection storm's leftovers count as slack.
  const state = initialTrimState();
  state.floor = slackOf(sample());
  let timer: NodeJS.Timeout | null = null;
  let armed: string | null = null;
  let warned = false;
  let failed = false;
  let closed = false;

  function check(c: Readonly<HeapTrimConfig>): void {
    try {
      const before = sample();
      if (!shouldTrim(state, before, c, now())) return;
      const t0 = performance.now();
      collect!();
      const pauseMs = performance.now() - t0;
      const after = sample();
      afterTrim(state, before, after, c, now());
      stats.trimsTotal++;
      stats.lastPauseMs = pauseMs;
      stats.lastFreedBytes = before.anon - after.anon;
      log.info(
        { event: 'heap_trimmed', anonBefore: before.anon, anonAfter: after.anon, freedBytes: stats.lastFreedBytes, heapUsedAfter: after.heapUsed, pauseMs: Math.round(pauseMs), nextWaitFactor: state.backoff },
        'memory-reducing GC returned unused heap pages to the OS',
      );
    } catch (err) {
      // A sample that cannot be read (no descriptor left) skips this tick; said once.
      if (!failed) log.warn({ event: 'heap_trim_check_failed', err }, 'heap trim check failed; retrying at the next interval');
      failed = true;
    }
  }

  const stop = (): void => {
    if (timer !== null) clearInterval(timer);
    timer = null;
    armed = null;
  };

  return {
    configure(c) {
      if (closed) return;
      if (c.enabled && collect === undefined) {
        const gc = memoryReducingGc();
        collect = gc.ok ? gc.collect : null;
        unavailable = gc.ok ? null : gc.reason;
        stats.available = gc.ok;
      }
      if (!c.enabled || !collect) {
        stop();
        if (c.enabled && !warned) {
          warned = true;
          log.warn({ event: 'heap_trim_unavailable', reason: unavailable }, 'memory.trim is on but V8\'s collector is not available; no trims');
        }
        return;
      }
      const key = `${c.checkIntervalMs}/${c.slackBytes}/${c.minIntervalMs}`;
      if (key === armed) return;
      stop();
      armed = key;
      timer = setInterval(() => check(c), c.checkIntervalMs).unref();
    },
    stats: () => ({ ...stats }),
    close() {
      closed = true;
      stop();
    },
  };
}
