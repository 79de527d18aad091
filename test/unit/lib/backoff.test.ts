/**
 * Capped exponential backoff with full jitter and a floor; abortable sleep.
 */
import assert from 'node:assert/strict';
import { getEventListeners } from 'node:events';
import { test } from 'node:test';
import { createBackoff, sleep } from '../../../gateway/src/lib/backoff.js';

test('ceiling doubles per attempt and is capped at maxMs (random = 1)', () => {
  const b = createBackoff({ initialMs: 100, maxMs: 1000, random: () => 1 });
  const delays = Array.from({ length: 6 }, () => b.next());
  assert.deepEqual(delays, [100, 200, 400, 800, 1000, 1000]);
  assert.equal(b.attempts, 6);
});

test('full jitter: delay = random * ceiling, rounded', () => {
  const b = createBackoff({ initialMs: 100, maxMs: 10_000, random: () => 0.5 });
  assert.deepEqual([b.next(), b.next(), b.next()], [50, 100, 200]);
});

test('never below the floor (default min(50, initialMs), at least 10 ms); explicit floorMs wins above 10', () => {
  const zero = () => 0;
  assert.equal(createBackoff({ initialMs: 200, maxMs: 1000, random: zero }).next(), 50);
  assert.equal(createBackoff({ initialMs: 20, maxMs: 1000, random: zero }).next(), 20);
  assert.equal(createBackoff({ initialMs: 200, maxMs: 1000, floorMs: 25, random: zero }).next(), 25);
  assert.equal(createBackoff({ initialMs: 200, maxMs: 1000, floorMs: 5, random: zero }).next(), 10, 'a floor below 10 ms is raised to 10');
});

test('reset() starts over from initialMs', () => {
  const b = createBackoff({ initialMs: 10, maxMs: 1000, random: () => 1 });
  b.next();
  b.next();
  b.next();
  assert.equal(b.attempts, 3);
  b.reset();
  assert.equal(b.attempts, 0);
  assert.equal(b.next(), 10);
});

test('huge attempt counts do not overflow to Infinity/NaN', () => {
  const b = createBackoff({ initialMs: 1000, maxMs: 30_000, random: () => 1 });
  let last = 0;
  for (let i = 0; i < 2000; i++) last = b.next();
  assert.equal(last, 30_000);
});

test('with Math.random, delays stay within [floor, ceiling]', () => {
  const b = createBackoff({ initialMs: 100, maxMs: 400 });
  for (let i = 0; i < 200; i++) {
    const d = b.next();
    assert.ok(Number.isInteger(d) && d >= 50 && d <= 400, String(d));
  }
});

test(
  'initialMs 0 (allowed by the config schema) still never yields a 0 ms delay',
  () => {
    const b = createBackoff({ initialMs: 0, maxMs: 30_000, random: () => 0.5 });
    assert.ok(b.next() > 0);
  },
);

test('sleep waits about ms', async () => {
  const t0 = performance.now();
  await sleep(30);
  assert.ok(performance.now() - t0 >= 25);
});

test('sleep is cut short by abort and removes its listener afterwards', async () => {
  const ac = new AbortController();
  const t0 = performance.now();
  const p = sleep(10_000, ac.signal);
  assert.equal(getEventListeners(ac.signal, 'abort').length, 1);
  setTimeout(() => ac.abort(), 10);
  await p;
  assert.ok(performance.now() - t0 < 1000);
  assert.equal(getEventListeners(ac.signal, 'abort').length, 0);

  const ac2 = new AbortController();
  await sleep(5, ac2.signal);
  assert.equal(getEventListeners(ac2.signal, 'abort').length, 0, 'listener removed when the timer fires');
});

test('sleep with an already-aborted signal resolves at once', async () => {
  const ac = new AbortController();
  ac.abort();
  const t0 = performance.now();
  await sleep(10_000, ac.signal);
  assert.ok(performance.now() - t0 < 100);
});
