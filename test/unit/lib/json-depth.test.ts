/**
 * jsonDepthExceeds counts nesting on the bytes (brackets in strings and escaped quotes do not
 * count); loneSurrogatePath finds unpaired surrogates in values and keys, and accepts pairs.
 */
import assert from 'node:assert/strict';
import { test } from 'node:test';
import { jsonDepthExceeds, loneSurrogatePath } from '../../../gateway/src/lib/json-depth.js';

const b = (s: string) => Buffer.from(s, 'utf8');

test('jsonDepthExceeds: exact depth boundary, strings and escapes skipped', () => {
  assert.equal(jsonDepthExceeds(b('[[[1]]]'), 3), false);
  assert.equal(jsonDepthExceeds(b('[[[[1]]]]'), 3), true);
  assert.equal(jsonDepthExceeds(b('{"a":{"b":{"c":1}}}'), 3), false);
  assert.equal(jsonDepthExceeds(b('{"a":{"b":{"c":{}}}}'), 3), true);
  assert.equal(jsonDepthExceeds(b('[1],[2],[3],[4],[5]'), 1), false, 'siblings do not add up');
  assert.equal(jsonDepthExceeds(b('["[[[[[[", "\\"[[[[[[", {"k[[[[":"]]]]"}]'), 2), false, 'brackets inside strings, after an escaped quote');
  assert.equal(jsonDepthExceeds(b('["\\\\", [[[1]]]]'), 3), true, 'an escaped backslash ends before the quote');
  assert.equal(jsonDepthExceeds(b('["é€😀[[[[", 1]'), 1), false, 'multi-byte UTF-8 inside strings');
  assert.equal(jsonDepthExceeds(b('['.repeat(10_000) + ']'.repeat(10_000)), 64), true);
});

test('loneSurrogatePath: values, nested paths and keys; pairs are fine', () => {
  assert.equal(loneSurrogatePath({ a: 'ok', b: ['\ud83d\ude00'] }), null);
  assert.equal(loneSurrogatePath({ a: { b: ['x', 'y\ud800'] } }), 'a.b[1]');
  assert.equal(loneSurrogatePath(['\udc00']), '(root)[0]');
  assert.equal(loneSurrogatePath({ ['\udfff']: 1 }), '(root).(key)');
  assert.equal(loneSurrogatePath('\ude00\ud83d'), '(root)', 'reversed pair is two lone halves');
  assert.equal(loneSurrogatePath(42), null);
});
