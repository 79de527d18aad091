/**
 * The partition a keyed record goes to, exactly as the Java producer picks it
 * (BuiltInPartitioner.partitionForKey: `Utils.toPositive(Utils.murmur2(keyBytes)) % partitions`),
 * so records written by Java tools, kcat (with -p set by this function) and the gateway agree,
 * and a reader can fetch one key's partition without reading the others.
 *
 * Note the mask: Java's toPositive is `h & 0x7fffffff`, not `h >>> 0`; for a negative hash the
 * two give different partitions.
 */

// Mixing constants of Kafka's murmur2 (org.apache.kafka.common.utils.Utils#murmur2).
const SEED = 0x9747b28c;
const M = 0x5bd1e995;
const R = 24;

/** Kafka's 32-bit murmur2 of `data`, as a signed int (Java's `int`). */
export function murmur2(data: Uint8Array): number {
  const length = data.length;
  let h = (SEED ^ length) | 0;
  const whole = length - (length % 4);
  for (let i = 0; i < whole; i += 4) {
    let k = data[i]! | (data[i + 1]! << 8) | (data[i + 2]! << 16) | (data[i + 3]! << 24);
    k = Math.imul(k, M);
    k ^= k >>> R;
    k = Math.imul(k, M);
    h = Math.imul(h, M);
    h ^= k;
  }
  // The tail, as Java's switch that falls through from case 3 to case 1.
  const tail = length - whole;
  if (tail > 0) {
    if (tail === 3) h ^= data[whole + 2]! << 16;
    if (tail >= 2) h ^= data[whole + 1]! << 8;
    h ^= data[whole]!;
    h = Math.imul(h, M);
  }
  h ^= h >>> 13;
  h = Math.imul(h, M);
  h ^= h >>> 15;
  return h | 0;
}

/** Partition of `key` (UTF-8) among `partitions`, as Java's default partitioner computes it. */
export function partitionForKey(key: string, partitions: number): number {
  if (!Number.isInteger(partitions) || partitions < 1) throw new RangeError(`partitions must be a positive integer, got ${partitions}`);
  return (murmur2(Buffer.from(key, 'utf8')) & 0x7fffffff) % partitions;
}
