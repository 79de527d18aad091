/**
 * Rate-limited warnings: at most one line per key per interval, the next one carrying how many
 * were suppressed meanwhile. The key table is bounded (oldest forgotten first), so a flood of
 * distinct sources cannot grow memory either.
 */
import type { Logger } from './logger.js';

export type WarnLimited = (key: string, fields: Record<string, unknown>, msg: string) => void;

export function createLogLimiter(logger: Logger, opts: { intervalMs?: number; maxKeys?: number; now?: () => number } = {}): WarnLimited {
  const intervalMs = opts.intervalMs ?? 10_000;
  const maxKeys = opts.maxKeys ?? 4096;
  const now = opts.now ?? Date.now;
  const seen = new Map<string, { at: number; suppressed: number }>();
  return (key, fields, msg) => {
    const t = now();
    const entry = seen.get(key);
    if (entry !== undefined && t - entry.at < intervalMs) {
      entry.suppressed++;
      return;
    }
    const suppressed = entry?.suppressed ?? 0;
    seen.delete(key);
    if (seen.size >= maxKeys) seen.delete(seen.keys().next().value as string);
    seen.set(key, { at: t, suppressed: 0 });
    logger.warn(suppressed > 0 ? { ...fields, suppressed } : fields, msg);
  };
}
