/**
 * TTL for buffered rows (`buffer.maxAgeSecs`, off by default): once a second, unleased rows older
 * than the limit are dropped, written to the drop log with reason `expired`, and counted.
 */
import type { Logger } from '../lib/logger.js';
import type { TelemetryBuffer } from './buffer.js';

export interface ExpiryTimer {
  start(): void;
  /** Live config: a new limit (0 stops the sweep). */
  setMaxAgeSecs(secs: number): void;
  close(): void;
}

export function createExpiryTimer(buffer: TelemetryBuffer, maxAgeSecs: number, logger: Logger, onExpired: (n: number) => void): ExpiryTimer {
  let timer: NodeJS.Timeout | null = null;
  const tick = () => {
    try {
      const n = buffer.expire(Date.now() - maxAgeSecs * 1000);
      if (n > 0) {
        logger.warn({ event: 'rows_expired', count: n, maxAgeSecs, expiredTotal: buffer.stats().droppedTotal.expired }, 'buffered rows expired (maxAgeSecs)');
        onExpired(n);
      }
    } catch (err) {
      logger.error({ event: 'expiry_sweep_failed', err }, 'expiry sweep failed; will retry');
    }
  };
  let started = false;
  const arm = () => {
    if (started && maxAgeSecs > 0 && timer === null) timer = setInterval(tick, 1000).unref();
    if (maxAgeSecs === 0 && timer !== null) {
      clearInterval(timer);
      timer = null;
    }
  };
  return {
    start() {
      started = true;
      arm();
    },
    setMaxAgeSecs(secs) {
      maxAgeSecs = secs;
      arm();
    },
    close() {
      started = false;
      if (timer !== null) clearInterval(timer);
      timer = null;
    },
  };
}
