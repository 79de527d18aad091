/** LruMap: bounded, evicts the least recently used key, get() refreshes and peek() does not. */
import assert from 'node:assert/strict';
import { test } from 'node:test';
import { LruMap } from '../../../gateway/src/lib/lru-map.js';

test('evicts the least recently used key beyond its bound', () => {
  const m = new LruMap<string, number>(2);
  m.set('a', 1);
  m.set('b', 2);
  assert.equal(m.get('a'), 1); // a is now the most recent
  m.set('c', 3);
  assert.deepEqual([...m.keys()], ['a', 'c']);
  assert.equal(m.evictedTotal, 1);
  assert.equal(m.peek('a'), 1);
  m.set('d', 4); // peek did not refresh a
  assert.deepEqual([...m.keys()], ['c', 'd']);
  m.set('c', 30); // overwrite refreshes, evicts nothing
  assert.deepEqual([...m.keys()], ['d', 'c']);
  assert.equal(m.evictedTotal, 2);
  assert.equal(m.delete('d'), true);
  assert.equal(m.size, 1);
  assert.throws(() => new LruMap(0), RangeError);
});
