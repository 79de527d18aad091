/**
 * Capped exponential backoff with full jitter (AWS architecture blog, "Exponential Backoff And
 * Jitter"): delay = random(0, min(cap, base * 2^attempt)). Never below `floorMs` so a broken
 * peer cannot turn the retry loop into a busy loop.
 */
export interface Backoff {
  next(): number;
  reset(): void;
  readonly attempts: number;
}

export function createBackoff(opts: { initialMs: number; maxMs: number; floorMs?: number; random?: () => number }): Backoff {
  const random = opts.random ?? Math.random;
  // A floor of at least 10 ms even if configured to 0: a retry loop must never spin.
  const floor = Math.max(10, opts.floorMs ?? Math.min(50, opts.initialMs));
  let attempts = 0;
  return {
    next(): number {
      const ceiling = Math.min(opts.maxMs, opts.initialMs * 2 ** Math.min(attempts, 30));
      attempts++;
      return Math.max(floor, Math.round(random() * ceiling));
    },
    reset(): void {
      attempts = 0;
    },
    get attempts(): number {
      return attempts;
    },
  };
}

/** setTimeout as a promise that an AbortSignal can cut short (resolves, never rejects). */
export function sleep(ms: number, signal?: AbortSignal): Promise<void> {
  return new Promise((resolve) => {
    if (signal?.aborted) return resolve();
    const timer = setTimeout(done, ms);
    function done(): void {
      clearTimeout(timer);
      signal?.removeEventListener('abort', done);
      resolve();
    }
    signal?.addEventListener('abort', done, { once: true });
  });
}
