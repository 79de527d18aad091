/**
 * FailureThrottle with an injected clock: the first failure is free, then delays double from
 * 250 ms to the 10 s cap; parallel attempts are spaced, not released together; records fade;
 * the table is bounded with the oldest source forgotten first; counters; the key of an address.
 */
import assert from 'node:assert/strict';
import { test } from 'node:test';
import { createFailureThrottle, throttleKey } from '../../../gateway/src/lib/failure-throttle.js';

function clock(start = 1_000_000) {
  let now = start;
  return { now: () => now, advance: (ms: number) => (now += ms) };
}

test('penalties: 0 after the first failure, then 250, 500, 1000 ... capped at 10 s', () => {
  const th = createFailureThrottle();
  assert.deepEqual(
    [0, 1, 2, 3, 4, 5, 6, 7, 8, 9, 50, 5000].map((f) => th.penaltyMs(f)),
    [0, 0, 250, 500, 1000, 2000, 4000, 8000, 10_000, 10_000, 10_000, 10_000],
  );
});

test('a source without failures is never delayed; a sequential guesser waits longer after each failure', () => {
  const c = clock();
  const th = createFailureThrottle({ now: c.now });
  assert.equal(th.admit('10.0.0.9'), 0);
  th.recordFailure('10.0.0.9');
  assert.equal(th.admit('10.0.0.9'), 0, 'the first failure is free');
  th.recordFailure('10.0.0.9');
  const delays: number[] = [];
  for (let i = 0; i < 8; i++) {
    const d = th.admit('10.0.0.9');
    delays.push(d);
    c.advance(d); // waits as told, then fails again at once
    th.recordFailure('10.0.0.9');
  }
  assert.deepEqual(delays, [250, 500, 1000, 2000, 4000, 8000, 10_000, 10_000]);
  assert.equal(th.admit('10.0.0.8'), 0, 'other sources are not affected');
  assert.equal(th.failures('10.0.0.9'), 10);
  assert.deepEqual(th.stats(), { trackedSources: 1, failuresTotal: 10, delayedTotal: 8, evictedTotal: 0 });
});

test('parallel attempts from one source are spaced one penalty apart, never beyond the cap', () => {
  const c = clock();
  const th = createFailureThrottle({ now: c.now });
  th.recordFailure('s');
  th.recordFailure('s'); // penalty now 250 ms
  const delays = Array.from({ length: 6 }, () => th.admit('s'));
  assert.deepEqual(delays, [250, 500, 750, 1000, 1250, 1500]);
  for (let i = 0; i < 10; i++) th.recordFailure('s'); // penalty at the cap
  const later = Array.from({ length: 4 }, () => th.admit('s'));
  assert.ok(later.every((d) => d <= 10_000), `capped: ${later.join(',')}`);
  assert.equal(later.at(-1), 10_000);
});

test('a source without failures for forgetAfterMs starts over', () => {
  const c = clock();
  const th = createFailureThrottle({ now: c.now, forgetAfterMs: 60_000 });
  for (let i = 0; i < 5; i++) th.recordFailure('s');
  assert.ok(th.admit('s') > 0);
  c.advance(59_999);
  assert.equal(th.failures('s'), 5);
  c.advance(1);
  assert.equal(th.failures('s'), 0);
  assert.equal(th.admit('s'), 0);
  th.recordFailure('s');
  assert.equal(th.failures('s'), 1, 'counting restarted from zero');
  assert.equal(th.admit('s'), 0);
});

test('memory is bounded: beyond maxSources the source with the oldest failure is forgotten (counted)', () => {
  const c = clock();
  const th = createFailureThrottle({ now: c.now, maxSources: 3 });
  for (const s of ['a', 'b', 'c']) {
    th.recordFailure(s);
    th.recordFailure(s);
    c.advance(1);
  }
  th.recordFailure('a'); // a is now the most recent
  th.recordFailure('d');
  assert.equal(th.stats().trackedSources, 3);
  assert.equal(th.stats().evictedTotal, 1);
  assert.equal(th.failures('b'), 0, 'b (oldest failure) was forgotten');
  assert.equal(th.failures('a'), 3);
  assert.equal(th.failures('c'), 2);
  assert.equal(th.failures('d'), 1);
  for (let i = 0; i < 1000; i++) th.recordFailure(`flood-${i}`);
  assert.equal(th.stats().trackedSources, 3);
  assert.equal(th.stats().failuresTotal, 1008);
});

test('throttleKey: IPv4 as is (also IPv4-mapped), IPv6 by its /64 whatever the spelling', () => {
  assert.equal(throttleKey('10.0.0.7'), '10.0.0.7');
  assert.equal(throttleKey('::ffff:10.0.0.7'), '10.0.0.7');
  assert.equal(throttleKey('2001:db8:0:1::1'), '2001:db8:0:1::/64');
  assert.equal(throttleKey('2001:0DB8:0000:0001:ffff:1:2:3'), '2001:db8:0:1::/64');
  assert.equal(throttleKey('2001:db8::1'), '2001:db8:0:0::/64');
  assert.equal(throttleKey('::1'), '0:0:0:0::/64');
  assert.equal(throttleKey('fe80::1%eth0'), 'fe80:0:0:0::/64');
  assert.equal(throttleKey('64:ff9b::192.0.2.1'), '64:ff9b:0:0::/64');
  assert.equal(throttleKey('2001:db8:1:2:3:4:192.0.2.1'), '2001:db8:1:2::/64');
  assert.equal(throttleKey(undefined), 'unknown');
});
