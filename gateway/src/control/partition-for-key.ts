/**
 * The partition a keyed record goes to, as the Kafka Java client's default partitioner puts it:
 * `toPositive(murmur2(utf8(key))) % partitions` (kafka-clients BuiltInPartitioner.partitionForKey).
 * The push tool writes a gateway's config to this partition explicitly and the gateway reads only
 * this partition, so both sides must agree, and so must any Java tool that writes the topic.
 * (@platformatic/kafka's default partitioner is not this; its murmur2 is Java's.)
 */
import { murmur2 } from '@platformatic/kafka';

export function partitionForKey(key: string, partitions: number): number {
  if (!Number.isSafeInteger(partitions) || partitions < 1) throw new RangeError(`partitions must be a positive integer, got ${partitions}`);
  // Java's Utils.toPositive: clear the sign bit (not Math.abs, which differs for negatives).
  return (murmur2(Buffer.from(key, 'utf8')) & 0x7fffffff) % partitions;
}
