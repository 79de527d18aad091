/**
 * A reader's link health: connected/lastError as state() shows them, the retry delay (capped,
 * jittered, reset by a healthy round), and one log line per outage or change of reason.
 */
import assert from 'node:assert/strict';
import { test } from 'node:test';
import { gatewayError } from '../../../gateway/src/errors.js';
import { LinkHealth } from '../../../gateway/src/control/link-health.js';

const refused = gatewayError('GW_ERR_CONTROL_KAFKA', 'read cfg: ECONNREFUSED');
const missing = gatewayError('GW_ERR_CONTROL_KAFKA', 'read cfg: topic does not exist');

test('starts disconnected without an error; Kafka answering makes it connected', () => {
  const h = new LinkHealth({ retryInitialMs: 100, retryMaxMs: 1000 });
  assert.equal(h.connected, false);
  assert.equal(h.lastError, null);
  h.reachable();
  assert.equal(h.connected, true);
});

test('a failure: disconnected, lastError with code, message and time; delays double up to the cap', () => {
  let now = 1000;
  const h = new LinkHealth({ retryInitialMs: 100, retryMaxMs: 500, now: () => now, random: () => 1 });
  h.reachable();
  const delays = [1, 2, 3, 4, 5].map(() => {
    now += 1;
    return h.failed(refused).delayMs;
  });
  assert.deepEqual(delays, [100, 200, 400, 500, 500]);
  assert.equal(h.connected, false);
  assert.deepEqual(h.lastError, { code: 'GW_ERR_CONTROL_KAFKA', message: refused.message, at: 1005 });
});

test('news: the first failure of an outage and a change of reason, not the retries in between', () => {
  const h = new LinkHealth({ retryInitialMs: 100, retryMaxMs: 500, random: () => 1 });
  assert.equal(h.failed(refused).news, true, 'first failure');
  assert.equal(h.failed(refused).news, false, 'same reason again');
  h.reachable(); // metadata answered, the fetch failed again: still the same outage
  assert.equal(h.failed(refused).news, false);
  assert.equal(h.failed(missing).news, true, 'reason changed');
  assert.equal(h.failed(missing).news, false);
});

test('a healthy round ends the outage (reported once), resets the delay, keeps the last error', () => {
  const h = new LinkHealth({ retryInitialMs: 100, retryMaxMs: 1000, random: () => 1 });
  assert.equal(h.roundSucceeded(), false, 'nothing to recover from');
  h.failed(refused);
  h.failed(refused);
  assert.equal(h.roundSucceeded(), true, 'recovered');
  assert.equal(h.roundSucceeded(), false);
  assert.equal(h.connected, true);
  assert.equal(h.lastError?.message, refused.message, 'the last error stays visible');
  const again = h.failed(refused);
  assert.equal(again.delayMs, 100, 'backoff starts over');
  assert.equal(again.news, true, 'a new outage is news');
});

test('closed: disconnected', () => {
  const h = new LinkHealth({ retryInitialMs: 100, retryMaxMs: 1000 });
  h.roundSucceeded();
  h.closed();
  assert.equal(h.connected, false);
});
