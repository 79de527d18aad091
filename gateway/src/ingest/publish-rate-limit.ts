/**
 * Optional per-client PUBLISH rate limit (token bucket: `perSec` tokens a second, burst of the
 * same size). A publish without a token is not refused: its authorization is held until the
 * bucket refills. aedes reads a client's next packets only after the current ones are handled,
 * so holding one callback is TCP backpressure on that client alone; nothing is dropped.
 */
import type { Client, PublishPacket } from 'aedes';
import type { LimitCounters } from './limit-counters.js';

export type AuthorizePublishFn = (client: Client | null, packet: PublishPacket, callback: (error?: Error | null) => void) => void;

interface Bucket {
  tokens: number;
  at: number;
}

export function rateLimitPublish(perSec: number, counters: LimitCounters, next: AuthorizePublishFn, now: () => number = Date.now): AuthorizePublishFn {
  if (perSec <= 0) return next;
  const buckets = new WeakMap<Client, Bucket>();
  return function rateLimitedPublish(client, packet, callback) {
    if (client === null) return next(client, packet, callback);
    const t = now();
    let b = buckets.get(client);
    if (b === undefined) buckets.set(client, (b = { tokens: perSec, at: t }));
    b.tokens = Math.min(perSec, b.tokens + ((t - b.at) * perSec) / 1000);
    b.at = t;
    b.tokens -= 1;
    if (b.tokens >= 0) return next(client, packet, callback);
    counters.publishesThrottledTotal++;
    // The debt (negative tokens) is repaid before this publish proceeds.
    setTimeout(next, Math.ceil((-b.tokens * 1000) / perSec), client, packet, callback);
  };
}
