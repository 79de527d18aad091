/**
 * The health of one reader's link to Kafka: connected or not, the last error, the next retry
 * delay (capped, jittered backoff, reset by a healthy round), and which transitions deserve a
 * log line at info/warn. An outage is logged once, and again only when its reason changes; the
 * retries in between go to debug. Pure: the clock and the random source are injectable.
 */
import type { GatewayError } from '../errors.js';
import { createBackoff, type Backoff } from '../lib/backoff.js';
import type { TopicReaderState } from './kafka-link.js';

export interface LinkHealthOptions {
  retryInitialMs: number;
  retryMaxMs: number;
  now?: () => number;
  random?: () => number;
}

export interface FailureVerdict {
  /** Wait this long before trying again. */
  delayMs: number;
  /** First failure of an outage, or its reason changed. */
  news: boolean;
}

export class LinkHealth {
  private connectedNow = false;
  private last: TopicReaderState['lastError'] = null;
  /** No failure since the last healthy round (true at start: the first failure is news). */
  private healthy = true;
  private readonly backoff: Backoff;
  private readonly now: () => number;

  constructor(opts: LinkHealthOptions) {
    this.backoff = createBackoff({ initialMs: opts.retryInitialMs, maxMs: opts.retryMaxMs, ...(opts.random ? { random: opts.random } : {}) });
    this.now = opts.now ?? Date.now;
  }

  get connected(): boolean {
    return this.connectedNow;
  }

  get lastError(): TopicReaderState['lastError'] {
    return this.last;
  }

  /** Kafka answered (metadata, offsets): connected, though a whole round has not succeeded yet. */
  reachable(): void {
    this.connectedNow = true;
  }

  /** A whole round succeeded. True when it ends an outage (worth an info line). */
  roundSucceeded(): boolean {
    this.connectedNow = true;
    this.backoff.reset();
    const recovered = !this.healthy;
    this.healthy = true;
    return recovered;
  }

  failed(e: GatewayError): FailureVerdict {
    const news = this.healthy || this.last?.message !== e.message;
    this.healthy = false;
    this.connectedNow = false;
    this.last = { code: e.code, message: e.message, at: this.now() };
    return { delayMs: this.backoff.next(), news };
  }

  closed(): void {
    this.connectedNow = false;
  }
}
