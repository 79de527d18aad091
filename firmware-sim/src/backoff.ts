import type { Rng } from './rng.js';

/**
 * "Full jitter" exponential backoff: a uniform delay in [0, min(cap, base * 2^attempt)).
 * attempt 0 is the first retry after a failure. Spreads a reconnecting fleet over time instead
 * of letting every device hammer the broker in lock-step.
 */
export function fullJitterBackoff(attempt: number, baseMs: number, capMs: number, rng: Rng): number {
  const ceiling = Math.min(capMs, baseMs * 2 ** Math.min(attempt, 30));
  return Math.floor(rng() * ceiling);
}
