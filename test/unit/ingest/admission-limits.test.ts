/**
 * Pure admission bounds: connection caps (total, per address, released on close), the keepalive
 * rule (mosquitto max_keepalive: 0 refused while a maximum is set), the subscription cap (held
 * filters re-grantable, released on unsubscribe), and the publish rate limit (held, not dropped).
 */
import assert from 'node:assert/strict';
import { EventEmitter } from 'node:events';
import type { Socket } from 'node:net';
import { test } from 'node:test';
import type { Client, PublishPacket, Subscription } from 'aedes';
import { createConnectionLimits } from '../../../gateway/src/ingest/connection-limits.js';
import { effectiveMaxConnections } from '../../../gateway/src/ingest/ingest-limits.js';
import { openFileSoftLimit } from '../../../gateway/src/lib/open-file-limit.js';
import { keepaliveRefusal } from '../../../gateway/src/ingest/keepalive-policy.js';
import { createLimitCounters } from '../../../gateway/src/ingest/limit-counters.js';
import { rateLimitPublish } from '../../../gateway/src/ingest/publish-rate-limit.js';
import { createSubscriptionCap } from '../../../gateway/src/ingest/subscription-cap.js';
import type { RateLimitedLog } from '../../../gateway/src/lib/rate-limited-log.js';

const quietLog: RateLimitedLog = { warn: () => true, size: 0 };

function fakeSocket(address: string) {
  const s = new EventEmitter() as EventEmitter & { remoteAddress: string; destroyed: boolean; destroy(): void };
  s.remoteAddress = address;
  s.destroyed = false;
  s.destroy = () => {
    s.destroyed = true;
    s.emit('close');
  };
  return s;
}

test('connections: per-address and total caps, each counted; a closed socket frees its slot', () => {
  const counters = createLimitCounters();
  const limits = createConnectionLimits({ maxConnections: 3, maxConnectionsPerAddress: 2, counters, log: quietLog });
  const a1 = fakeSocket('10.0.0.1');
  assert.equal(limits.admit(a1 as unknown as Socket), true);
  assert.equal(limits.admit(fakeSocket('10.0.0.1') as unknown as Socket), true);
  const a3 = fakeSocket('10.0.0.1');
  assert.equal(limits.admit(a3 as unknown as Socket), false);
  assert.equal(a3.destroyed, true);
  assert.equal(counters.connectionsRefusedPerAddressTotal, 1);
  assert.equal(limits.admit(fakeSocket('10.0.0.2') as unknown as Socket), true);
  assert.equal(limits.admit(fakeSocket('10.0.0.3') as unknown as Socket), false);
  assert.equal(counters.connectionsRefusedTotal, 1);
  assert.equal(limits.open, 3, 'refused sockets never count as open');
  a1.destroy();
  assert.equal(limits.open, 2);
  assert.equal(limits.admit(fakeSocket('10.0.0.1') as unknown as Socket), true, 'the freed slot is reusable by that address');
});

test('keepalive: 0 refused while a maximum is set; above max and below min refused; 0 = no check', () => {
  assert.match(keepaliveRefusal(0, 65_535, 0)!, /keepalive 0/);
  assert.match(keepaliveRefusal(301, 300, 0)!, /> maxKeepaliveSecs/);
  assert.equal(keepaliveRefusal(300, 300, 0), null);
  assert.match(keepaliveRefusal(5, 300, 10)!, /< minKeepaliveSecs/);
  assert.equal(keepaliveRefusal(0, 0, 0), null, 'no maximum: keepalive 0 allowed, as mosquitto');
});

test('subscriptions: over the cap refused (null -> SUBACK 0x80); held filters re-grantable; unsubscribe frees', () => {
  const counters = createLimitCounters();
  const cap = createSubscriptionCap({ maxSubscriptions: 2, counters, log: quietLog, logFieldMaxChars: 64 });
  const client = { id: 'c' } as unknown as Client;
  const ask = (topic: string) => {
    let out: Subscription | null | undefined;
    cap.authorizeSubscribe(client, { topic, qos: 1 } as Subscription, (_e, s) => (out = s));
    return out?.topic ?? null;
  };
  assert.deepEqual([ask('a'), ask('b'), ask('c'), ask('a')], ['a', 'b', null, 'a']);
  assert.equal(counters.subscriptionsRefusedTotal, 1);
  cap.released(client, ['a']);
  assert.equal(ask('c'), 'c');
});

test('publish rate limit: a burst of perSec passes at once, the next is held until its token, none dropped', async () => {
  const counters = createLimitCounters();
  let now = 0;
  const passed: number[] = [];
  const limited = rateLimitPublish(5, counters, (_c, p, cb) => (passed.push(p.messageId!), cb()), () => now);
  const client = {} as Client;
  for (let i = 1; i <= 6; i++) limited(client, { messageId: i } as PublishPacket, () => {});
  assert.deepEqual(passed, [1, 2, 3, 4, 5]);
  assert.equal(counters.publishesThrottledTotal, 1);
  await new Promise((r) => setTimeout(r, 250));
  assert.deepEqual(passed, [1, 2, 3, 4, 5, 6], 'held ~200 ms (one token at 5/s), then let through');
  assert.equal(rateLimitPublish(0, counters, limited), limited, '0 = no limiter at all');
});

test('maxConnections fits under the open-file limit so the counted cap bites before the silent one', () => {
  assert.equal(effectiveMaxConnections(10_000, 65_536), 10_000);
  assert.equal(effectiveMaxConnections(10_000, 1024), 1024 - 128);
  assert.equal(effectiveMaxConnections(0, 1024), 1024 - 128, 'unlimited becomes the fd bound');
  assert.equal(effectiveMaxConnections(0, null), 0);
  const limits = 'Limit                     Soft Limit           Hard Limit           Units     \nMax open files            1024                 524288               files     \n';
  assert.equal(openFileSoftLimit(limits), 1024);
  assert.equal(openFileSoftLimit(limits.replace('1024 ', 'unlimited ')), null);
});
