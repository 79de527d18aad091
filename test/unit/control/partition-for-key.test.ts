/**
 * partitionForKey agrees with the Kafka Java client. The vectors below were printed once by the
 * kafka-clients 4.1.1 jar of the test harness (test/kafka/.cache/libs) with a one-file Java
 * program run as `java -cp 'test/kafka/.cache/libs/*' Vectors.java`, printing for each key
 *   Utils.murmur2(key.getBytes(UTF_8)) and Utils.toPositive(thatHash) % 1, % 6, % 7, % 100.
 * Keys cover every tail length (0..3 bytes past a 4-byte block), multi-byte UTF-8 (2, 3 and
 * 4 bytes), negative hashes (where toPositive matters) and a long key.
 */
import assert from 'node:assert/strict';
import { test } from 'node:test';
import { murmur2 } from '@platformatic/kafka';
import { partitionForKey } from '../../../gateway/src/control/partition-for-key.js';

// [key, Java murmur2, partition of 1, 6, 7, 100]
const JAVA: ReadonlyArray<readonly [string, number, number, number, number, number]> = [
  ['', 275646681, 0, 3, 2, 81],
  ['a', -1563381124, 0, 4, 5, 24],
  ['ab', 316155434, 0, 2, 0, 34],
  ['abc', 479470107, 0, 3, 4, 7],
  ['abcd', -1323649548, 0, 2, 5, 0],
  ['abcde', 461995741, 0, 1, 4, 41],
  ['gw-1', -1556871023, 0, 3, 1, 25],
  ['gw-0001', 1413294268, 0, 4, 1, 68],
  ['gateway-berlin-07', -365675128, 0, 4, 2, 20],
  ['sensor/\u03b1', 1694512514, 0, 2, 2, 14],
  ['\u00e9t\u00e9-\ud83d\ude80', -665856293, 0, 3, 5, 55],
  ['pi-7919', 734098492, 0, 4, 1, 92],
  ['edge.gateway.42', 134509022, 0, 2, 4, 22],
  ['x'.repeat(100), 1249054468, 0, 4, 4, 68],
];

test('partitionForKey equals the Java client for 1, 6, 7 and 100 partitions', () => {
  for (const [key, hash, p1, p6, p7, p100] of JAVA) {
    assert.equal(murmur2(Buffer.from(key, 'utf8')), hash, `murmur2 of ${JSON.stringify(key)}`);
    assert.deepEqual([1, 6, 7, 100].map((n) => partitionForKey(key, n)), [p1, p6, p7, p100], JSON.stringify(key));
  }
});

test('toPositive, not abs: a negative hash maps by its low 31 bits', () => {
  // 'abcd' hashes to -1323649548: Java puts it on 2 of 6 and 0 of 100; abs() would say 0 and 48.
  assert.equal(Math.abs(-1323649548) % 6, 0);
  assert.equal(partitionForKey('abcd', 6), 2);
  assert.equal(partitionForKey('abcd', 100), 0);
});

test('partition count must be a positive integer', () => {
  for (const n of [0, -1, 1.5, Number.NaN]) assert.throws(() => partitionForKey('k', n), RangeError, String(n));
});
