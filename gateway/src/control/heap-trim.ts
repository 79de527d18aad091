/**
 * The heap trim (`memory.trim`): a control-room timer that samples how much resident memory the
 * heap does not account for and, when that slack has grown `slackBytes` above its floor and
 * stopped growing, asks V8 for one memory-reducing GC (lib/memory-reducing-gc.ts), at most once
 * per `minIntervalMs`. Each trim is logged (`heap_trimmed`: RSS before/after, pause) and counted
 * (gateway_memory_trims_total). Never on the pipeline's path: it only reads process memory.
 */
import type { HeapTrimConfig } from '../config/memory-schema.js';
import type { Logger } from '../lib/logger.js';
import { memoryReducingGc } from '../lib/memory-reducing-gc.js';

export interface MemorySample {
  rss: number;
  heapUsed: number;
  external: number;
}

export interface HeapTrimStats {
  /** False when V8's collector could not be had (the trim is off, logged once). */
  available: boolean;
  trimsTotal: number;
  lastPauseMs: number;
  /** RSS before minus RSS after the last trim (negative if it grew). */
  lastFreedBytes: number;
}

export interface HeapTrim {
  /** (Re)arms the check timer for this config; `enabled: false` stops it. */
  configure(c: Readonly<HeapTrimConfig>): void;
  stats(): HeapTrimStats;
  close(): void;
}

/** RSS that rose more than this since the last sample is still growing: the storm is not over. */
const GROWING_BYTES = 1024 * 1024;

export interface TrimState {
  /** Lowest slack seen since start or the last trim. */
  floor: number;
  lastRss: number | null;
  lastTrimAt: number;
}

export const initialTrimState = (): TrimState => ({ floor: Infinity, lastRss: null, lastTrimAt: -Infinity });

/** Resident memory the heap does not hold: V8's pooled and free pages, malloc, stacks, mapped code. */
export const slackOf = (s: MemorySample): number => s.rss - s.heapUsed - s.external;

/** One check: updates `state` and says whether to trim now. */
export function shouldTrim(state: TrimState, s: MemorySample, c: Pick<HeapTrimConfig, 'slackBytes' | 'minIntervalMs'>, now: number): boolean {
  const slack = slackOf(s);
  state.floor = Math.min(state.floor, slack);
  const growing = state.lastRss !== null && s.rss > state.lastRss + GROWING_BYTES;
  state.lastRss = s.rss;
  return slack - state.floor >= c.slackBytes && !growing && now - state.lastTrimAt >= c.minIntervalMs;
}

export interface HeapTrimOptions {
  logger: Logger;
  /** Defaults: process.memoryUsage(), V8's memory-reducing GC, Date.now (tests pass fakes). */
  sample?: () => MemorySample;
  collect?: (() => void) | null;
  now?: () => number;
}

export function createHeapTrim(o: HeapTrimOptions): HeapTrim {
  const log = o.logger;
  const sample = o.sample ?? (() => process.memoryUsage());
  const now = o.now ?? Date.now;
  let collect: (() => void) | null;
  let unavailable: string | null = null;
  if (o.collect !== undefined) collect = o.collect;
  else {
    const gc = memoryReducingGc();
    collect = gc.ok ? gc.collect : null;
    if (!gc.ok) unavailable = gc.reason;
  }
  const stats: HeapTrimStats = { available: collect !== null, trimsTotal: 0, lastPauseMs: 0, lastFreedBytes: 0 };
  // The floor starts at what the process holds before any device connects (the control room is
  // created before the pipeline), so the first connection storm's leftovers count as slack.
  const state = initialTrimState();
  state.floor = slackOf(sample());
  let timer: NodeJS.Timeout | null = null;
  let armed: string | null = null;
  let warned = false;

  function trim(before: MemorySample): void {
    const t0 = performance.now();
    collect!();
    const pauseMs = performance.now() - t0;
    const after = sample();
    stats.trimsTotal++;
    stats.lastPauseMs = pauseMs;
    stats.lastFreedBytes = before.rss - after.rss;
    state.lastTrimAt = now();
    // The floor starts again from what is left: what a trim cannot free is not slack to chase.
    state.floor = slackOf(after);
    state.lastRss = after.rss;
    log.info(
      { event: 'heap_trimmed', rssBefore: before.rss, rssAfter: after.rss, freedBytes: stats.lastFreedBytes, heapUsedAfter: after.heapUsed, pauseMs: Math.round(pauseMs) },
      'memory-reducing GC returned unused heap pages to the OS',
    );
  }

  const stop = (): void => {
    if (timer !== null) clearInterval(timer);
    timer = null;
    armed = null;
  };

  return {
    configure(c) {
      if (!c.enabled || collect === null) {
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
      timer = setInterval(() => {
        const s = sample();
        if (shouldTrim(state, s, c, now())) trim(s);
      }, c.checkIntervalMs).unref();
    },
    stats: () => ({ ...stats }),
    close: stop,
  };
}
