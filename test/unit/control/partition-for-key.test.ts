/**
 * partitionForKey must pick the partition the Java producer picks, or a gateway would read
 * another gateway's partition and miss its own config.
 *
 * Vectors come from the Java client itself (kafka-clients-4.1.1.jar in test/kafka/.cache/libs),
 * printed once by a single-file program run as
 *   java -cp test/kafka/.cache/libs/kafka-clients-4.1.1.jar:test/kafka/.cache/libs/slf4j-api-2.0.16.jar Murmur.java
 * which, for each key, printed `Utils.murmur2(key.getBytes(UTF_8))` and
 * `BuiltInPartitioner.partitionForKey(keyBytes, n)` for n = 1, 3, 6, 7, 12, 100.
 * Keys cover every tail length (0..3 bytes after the 4-byte blocks), multi-byte UTF-8 (2, 3 and
 * 4 bytes per character) and negative hashes (where Java's `& 0x7fffffff` matters).
 */
import assert from 'node:assert/strict';
import { test } from 'node:test';
import { murmur2, partitionForKey } from '../../../gateway/src/control/partition-for-key.js';

const PARTITION_COUNTS = [1, 3, 6, 7, 12, 100] as const;

const JAVA_VECTORS: ReadonlyArray<readonly [key: string, murmur2: number, partitions: readonly number[]]> = [
  ['', 275646681, [0, 0, 3, 2, 9, 81]],
  ['a', -1563381124, [0, 1, 4, 5, 4, 24]],
  ['ab', 316155434, [0, 2, 2, 0, 2, 34]],
  ['abc', 479470107, [0, 0, 3, 4, 3, 7]],
  ['abcd', -1323649548, [0, 2, 2, 5, 8, 0]],
  ['abcde', 461995741, [0, 1, 1, 4, 1, 41]],
  ['abcdef', 1870650108, [0, 0, 0, 5, 0, 8]],
  ['abcdefg', -346467175, [0, 1, 1, 4, 1, 73]],
  ['abcdefgh', -955427363, [0, 0, 3, 0, 9, 85]],
  ['gw-0001', 1413294268, [0, 1, 4, 1, 4, 68]],
  ['gw-0002', -2100113176, [0, 1, 4, 2, 4, 72]],
  ['gw-0003', -1880465535, [0, 2, 5, 5, 5, 13]],
  ['gateway-berlin-17', -88874566, [0, 1, 4, 5, 10, 82]],
  ['dev-00042', -1953724705, [0, 1, 1, 0, 7, 43]],
  ['sensor/\u03b1', 1694512514, [0, 2, 2, 2, 2, 14]],
  ['\u00e9t\u00e9', -2101193575, [0, 1, 1, 4, 1, 73]],
  ['\u6e29\u5ea6\u8a08', 249190608, [0, 0, 0, 2, 0, 8]],
  ['\ud83d\ude80rocket', -573605137, [0, 1, 1, 2, 7, 11]],
  ['x'.repeat(200), -1289689315, [0, 1, 1, 4, 1, 33]],
  ['21', -973932308, [0, 0, 0, 3, 0, 40]],
];

test('murmur2 equals Kafka Utils.murmur2 on the UTF-8 bytes', () => {
  for (const [key, hash] of JAVA_VECTORS) assert.equal(murmur2(Buffer.from(key, 'utf8')), hash, JSON.stringify(key));
});

test('partitionForKey equals Java BuiltInPartitioner.partitionForKey', () => {
  for (const [key, , expected] of JAVA_VECTORS) {
    PARTITION_COUNTS.forEach((n, i) => assert.equal(partitionForKey(key, n), expected[i], `${JSON.stringify(key)} with ${n} partitions`));
  }
});

test('the mask is Java\'s & 0x7fffffff, not >>> 0 (they differ for negative hashes)', () => {
  const differs = JAVA_VECTORS.some(([key, hash]) => hash < 0 && PARTITION_COUNTS.some((n) => (hash >>> 0) % n !== partitionForKey(key, n)));
  assert.ok(differs, 'the vectors include a negative hash where the two masks disagree');
});

test('partitionForKey rejects a partition count that is not a positive integer', () => {
  for (const n of [0, -1, 1.5, Number.NaN]) assert.throws(() => partitionForKey('k', n), RangeError);
});
