/**
 * At most `maxSubscriptions` topic filters per client. aedes keeps every filter in its matcher
 * (and, for persistent sessions, in persistence after disconnect), so without a cap one client
 * can hold tens of thousands. A filter over the cap is refused with SUBACK 0x80 [MQTT-3.9.3];
 * re-subscribing a held filter is always allowed. Filters are tracked per client as granted
 * here and released on aedes' 'unsubscribe' event; a restored session re-authorizes its filters.
 */
import type { Client, Subscription } from 'aedes';
import type { LimitCounters } from './limit-counters.js';
import type { RateLimitedLog } from '../lib/rate-limited-log.js';
import { truncateField } from '../lib/log-fields.js';

export type AuthorizeSubscribe = (client: Client, sub: Subscription, callback: (error: Error | null, sub?: Subscription | null) => void) => void;

export interface SubscriptionCapOptions {
  maxSubscriptions: number;
  counters: LimitCounters;
  log: RateLimitedLog;
  logFieldMaxChars: number;
}

export interface SubscriptionCap {
  authorizeSubscribe: AuthorizeSubscribe;
  /** Call from aedes' 'unsubscribe' event. */
  released(client: Client | null | undefined, topics: readonly string[]): void;
}

export function createSubscriptionCap(o: SubscriptionCapOptions, next?: AuthorizeSubscribe): SubscriptionCap {
  const held = new WeakMap<Client, Set<string>>();
  return {
    authorizeSubscribe(client, sub, callback) {
      let topics = held.get(client);
      if (topics === undefined) held.set(client, (topics = new Set()));
      if (o.maxSubscriptions > 0 && !topics.has(sub.topic) && topics.size >= o.maxSubscriptions) {
        o.counters.subscriptionsRefusedTotal++;
        const clientId = truncateField(client.id ?? '', o.logFieldMaxChars);
        o.log.warn(`max_subscriptions:${clientId}`, { event: 'subscription_refused', clientId, topic: truncateField(sub.topic, o.logFieldMaxChars), held: topics.size, limit: o.maxSubscriptions }, 'SUBSCRIBE refused: maxSubscriptionsPerClient reached');
        return callback(null, null);
      }
      const grant = (err: Error | null, granted?: Subscription | null) => {
        if (!err && granted) topics.add(granted.topic);
        callback(err, granted);
      };
      if (next) next(client, sub, grant);
      else grant(null, sub);
    },
    released(client, topics) {
      const set = client ? held.get(client) : undefined;
      if (set) for (const t of topics) set.delete(t);
    },
  };
}
