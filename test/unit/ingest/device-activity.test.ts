/**
 * Busiest devices: two generations of per-device counts, bounded by maxDevices.
 */
import assert from 'node:assert/strict';
import { test } from 'node:test';
import { createDeviceActivity } from '../../../gateway/src/ingest/device-activity.js';

function countN(a: { count(id: string): void }, id: string, n: number): void {
  for (let i = 0; i < n; i++) a.count(id);
}

test('busiest(k) lists the k devices with the most publishes, most first', (t) => {
  const a = createDeviceActivity({ maxDevices: 100, windowMs: 0 });
  t.after(() => a.close());
  countN(a, 'd1', 3);
  countN(a, 'd2', 7);
  countN(a, 'd3', 5);
  countN(a, 'd4', 1);
  assert.deepEqual(a.busiest(2).devices, [
    { deviceId: 'd2', messages: 7 },
    { deviceId: 'd3', messages: 5 },
  ]);
  assert.equal(a.busiest(10).devices.length, 4);
  assert.deepEqual(a.busiest(0).devices, []);
});

test('the window spans two generations: a quiet device falls out after the second rotation', (t) => {
  let now = 1000;
  const a = createDeviceActivity({ maxDevices: 100, windowMs: 0, now: () => now });
  t.after(() => a.close());
  countN(a, 'old', 10);
  countN(a, 'both', 2);
  now = 31_000;
  a.rotate();
  countN(a, 'both', 9);
  now = 40_000;
  const first = a.busiest(5);
  assert.deepEqual(first.devices, [
    { deviceId: 'both', messages: 11 },
    { deviceId: 'old', messages: 10 },
  ]);
  assert.equal(first.windowMs, 39_000, 'from the start of the previous generation');
  now = 61_000;
  a.rotate();
  const second = a.busiest(5);
  assert.deepEqual(second.devices, [{ deviceId: 'both', messages: 9 }]);
  assert.equal(second.windowMs, 30_000);
  a.rotate();
  assert.deepEqual(a.busiest(5).devices, []);
});

test('bounded: ids beyond maxDevices per generation are counted as untracked', (t) => {
  const a = createDeviceActivity({ maxDevices: 2, windowMs: 0 });
  t.after(() => a.close());
  countN(a, 'a', 1);
  countN(a, 'b', 1);
  countN(a, 'c', 4);
  countN(a, 'a', 1);
  const top = a.busiest(5);
  assert.deepEqual(top.devices, [
    { deviceId: 'a', messages: 2 },
    { deviceId: 'b', messages: 1 },
  ]);
  assert.equal(top.untracked, 4);
  a.rotate();
  countN(a, 'c', 1);
  assert.equal(a.busiest(5).untracked, 4, "the previous generation's untracked count stays in the window");
  assert.deepEqual(a.busiest(1).devices, [{ deviceId: 'a', messages: 2 }]);
});

test('an id no device may have (10 KB, control characters) is counted as untracked, not kept', (t) => {
  const a = createDeviceActivity({ maxDevices: 100, windowMs: 0 });
  t.after(() => a.close());
  a.count('x'.repeat(10_000));
  a.count('evil\u001b[2J');
  a.count('<b>html-is-text<b>');
  assert.deepEqual(a.busiest(5), { windowMs: a.busiest(5).windowMs, untracked: 2, devices: [{ deviceId: '<b>html-is-text<b>', messages: 1 }] });
});
