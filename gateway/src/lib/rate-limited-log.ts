/**
 * Repeated warnings of one kind from one source are logged once per interval: the first at
 * once, later ones counted and reported (`suppressed`) with the next line logged for that key.
 * A peer that triggers a warning in a loop costs one line per interval, not one per attempt.
 * The key table is bounded: past `maxKeys`, expired keys are pruned, and if none expired the
 * warning is logged under one shared overflow key instead.
 */
import type { Logger } from './logger.js';

export interface RateLimitedLog {
  /** Logs at `level` unless `key` was logged less than the interval ago; returns whether it logged. */
  warn(key: string, fields: Record<string, unknown>, msg: string, level?: 'warn' | 'info' | 'error'): boolean;
  /** Keys currently tracked (for tests and status). */
  readonly size: number;
}

interface KeyState {
  /** When the interval that began with the last logged line ends. */
  until: number;
  suppressed: number;
}

const OVERFLOW_KEY = '\u0000overflow';

export function createRateLimitedLog(logger: Logger, intervalMs: number, opts: { maxKeys?: number; now?: () => number } = {}): RateLimitedLog {
  const maxKeys = opts.maxKeys ?? 10_000;
  const now = opts.now ?? Date.now;
  const keys = new Map<string, KeyState>();

  function prune(t: number): void {
    for (const [k, st] of keys) if (st.until <= t && st.suppressed === 0) keys.delete(k);
  }

  return {
    warn(key, fields, msg, level = 'warn') {
      const t = now();
      let st = keys.get(key);
      if (st === undefined && keys.size >= maxKeys) {
        prune(t);
        if (keys.size >= maxKeys) {
          key = OVERFLOW_KEY;
          st = keys.get(key);
        }
      }
      if (st !== undefined && t < st.until) {
        st.suppressed++;
        return false;
      }
      const suppressed = st?.suppressed ?? 0;
      keys.set(key, { until: t + intervalMs, suppressed: 0 });
      logger[level](suppressed > 0 ? { ...fields, suppressed } : fields, msg);
      return true;
    },
    get size() {
      return keys.size;
    },
  };
}
