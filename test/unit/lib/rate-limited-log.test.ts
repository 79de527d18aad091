/**
 * Repeated warnings are logged once per key per interval with the suppressed count; the key
 * table stays bounded; log fields are truncated.
 */
import assert from 'node:assert/strict';
import { test } from 'node:test';
import type { Logger } from '../../../gateway/src/lib/logger.js';
import { createRateLimitedLog } from '../../../gateway/src/lib/rate-limited-log.js';
import { truncateField } from '../../../gateway/src/lib/log-fields.js';

function fakeLogger(): { logger: Logger; lines: Array<{ level: string; fields: Record<string, unknown>; msg: string }> } {
  const lines: Array<{ level: string; fields: Record<string, unknown>; msg: string }> = [];
  const at = (level: string) => (fields: Record<string, unknown>, msg: string) => lines.push({ level, fields, msg });
  return { logger: { warn: at('warn'), info: at('info'), error: at('error') } as unknown as Logger, lines };
}

test('once per key per interval; the next line carries the suppressed count', () => {
  let now = 1000;
  const { logger, lines } = fakeLogger();
  const log = createRateLimitedLog(logger, 10_000, { now: () => now });
  assert.equal(log.warn('a', { n: 1 }, 'm'), true);
  for (let i = 0; i < 5; i++) assert.equal(log.warn('a', { n: 2 }, 'm'), false);
  assert.equal(log.warn('b', { n: 3 }, 'm'), true, 'another key is independent');
  now += 9_999;
  assert.equal(log.warn('a', {}, 'm'), false);
  now += 1;
  assert.equal(log.warn('a', { n: 4 }, 'm'), true);
  assert.deepEqual(lines.map((l) => l.fields), [{ n: 1 }, { n: 3 }, { n: 4, suppressed: 6 }]);
});

test('the key table is bounded: expired keys are pruned, otherwise one overflow key is shared', () => {
  let now = 0;
  const { logger, lines } = fakeLogger();
  const log = createRateLimitedLog(logger, 100, { maxKeys: 3, now: () => now });
  for (const k of ['a', 'b', 'c']) log.warn(k, {}, 'm');
  assert.equal(log.warn('d', {}, 'm'), true, 'first overflow line is logged');
  assert.equal(log.warn('e', {}, 'm'), false, 'further new keys share the overflow key');
  assert.ok(log.size <= 4);
  now = 200;
  assert.equal(log.warn('f', {}, 'm'), true);
  assert.ok(log.size <= 3, `expired keys pruned (size ${log.size})`);
  assert.equal(lines.length, 5);
});

test('truncateField keeps short strings and cuts long ones, saying how much was cut', () => {
  assert.equal(truncateField('abc', 5), 'abc');
  const long = 'x'.repeat(65_000);
  const t = truncateField(long, 256);
  assert.ok(t.length < 300);
  assert.ok(t.endsWith('...(+64744 chars)'));
});
