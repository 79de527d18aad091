/**
 * Reads a compacted topic from the beginning to the end offsets taken when it starts, and keeps
 * the last value of each key (a tombstone deletes it): what compaction will eventually leave.
 * A cloud-side tool, not the gateway's reader: it reads every partition, with no consumer group
 * (the group id the client requires is never joined, nothing is committed), and it always ends,
 * at the end offsets or with an error at the deadline.
 */
import { randomUUID } from 'node:crypto';
import { Consumer, FetchIsolationLevels, ListOffsetTimestamps } from '@platformatic/kafka';
import { gatewayError } from '../errors.js';
import { baseClientOptions, cliKafkaError, type CliKafkaClientOptions } from './cli-kafka-client.js';

export interface SnapshotRecord {
  key: string;
  value: Buffer;
  partition: number;
  offset: bigint;
  /** ms since the epoch */
  timestamp: number;
}

export interface TopicSnapshot {
  latest: Map<string, SnapshotRecord>;
  /** Records read, tombstones and key-less records included. */
  records: number;
  /** Records without a key (they cannot be compacted; a producer bug). */
  keyless: number;
}

/** Record batch attribute bit 5: a transaction marker, not data. */
const IS_CONTROL_BATCH = 1 << 5;
const PARTITION_MAX_BYTES = 1024 * 1024;

export async function snapshotCompactedTopic(opts: { client: CliKafkaClientOptions; topic: string; timeoutMs: number }): Promise<TopicSnapshot> {
  const { topic } = opts;
  const deadline = Date.now() + opts.timeoutMs;
  const consumer = new Consumer({
    ...baseClientOptions(opts.client),
    groupId: `edge-gateway-cli-${randomUUID()}`,
    isolationLevel: FetchIsolationLevels.READ_COMMITTED,
    minBytes: 1,
    maxWaitTime: 200,
  });
  const snapshot: TopicSnapshot = { latest: new Map(), records: 0, keyless: 0 };
  try {
    let topicId: string;
    let leaders: number[];
    let next: bigint[];
    let end: bigint[];
    try {
      const metadata = await consumer.metadata({ topics: [topic] });
      const meta = metadata.topics.get(topic);
      if (!meta) throw new Error(`Unknown topic ${topic}.`);
      topicId = meta.id;
      leaders = meta.partitions.map((p) => p.leader);
      next = (await consumer.listOffsets({ topics: [topic], timestamp: ListOffsetTimestamps.EARLIEST })).get(topic) ?? [];
      end = (await consumer.listOffsets({ topics: [topic], timestamp: ListOffsetTimestamps.LATEST })).get(topic) ?? [];
    } catch (err) {
      throw cliKafkaError(err, `offsets of ${topic}`);
    }
    // One partition per request: a broker answers an over-full multi-partition fetch with empty
    // record sets for the partitions that did not fit, which would read as "nothing left".
    for (let p = 0; p < end.length; p++) {
      while (next[p]! < end[p]!) {
        if (Date.now() > deadline) throw gatewayError('GW_ERR_CONTROL_KAFKA', `${topic}/${p}: not read to its end within ${opts.timeoutMs} ms`);
        let response;
        try {
          response = await consumer.fetch({
            node: leaders[p]!,
            topics: [{ topicId, partitions: [{ partition: p, fetchOffset: next[p]!, partitionMaxBytes: PARTITION_MAX_BYTES, currentLeaderEpoch: -1, lastFetchedEpoch: -1 }] }],
          });
        } catch (err) {
          throw cliKafkaError(err, `fetch from ${topic}/${p}`);
        }
        const part = response.responses.flatMap((r) => r.partitions).find((x) => x.partitionIndex === p);
        if (part && part.errorCode !== 0) throw gatewayError('GW_ERR_CONTROL_KAFKA', `fetch from ${topic}/${p}: Kafka error code ${part.errorCode}`);
        const batches = part?.records ?? [];
        if (batches.length === 0) {
          if (response.throttleTimeMs > 0) {
            await new Promise((r) => setTimeout(r, response.throttleTimeMs));
            continue;
          }
          // A lone partition always gets its next batch (KIP-74), so nothing is readable between
          // our position and the last stable offset, which is at least the end taken at start:
          // the rest was compacted away (e.g. expired tombstones at the tail).
          next[p] = end[p]!;
          break;
        }
        for (const batch of batches) {
          if ((batch.attributes & IS_CONTROL_BATCH) === 0) {
            for (const record of batch.records) {
              const offset = batch.firstOffset + BigInt(record.offsetDelta);
              // A batch may start before the requested offset; records past the end are not ours.
              if (offset < next[p]! || offset >= end[p]!) continue;
              snapshot.records++;
              apply(snapshot, record.key, record.value, p, offset, Number(batch.firstTimestamp + record.timestampDelta));
            }
          }
          next[p] = batch.firstOffset + BigInt(batch.lastOffsetDelta) + 1n;
        }
      }
    }
    return snapshot;
  } finally {
    await new Promise<void>((done) => consumer.close(true, () => done()));
  }
}

/**
 * Later offset wins within a partition. A key found in two partitions (written by producers with
 * different partitioners) keeps its later record by timestamp.
 */
function apply(s: TopicSnapshot, key: Buffer | null, value: Buffer | null, partition: number, offset: bigint, timestamp: number): void {
  if (key === null) {
    s.keyless++;
    return;
  }
  const k = key.toString('utf8');
  const seen = s.latest.get(k);
  if (seen && seen.partition !== partition && seen.timestamp > timestamp) return;
  if (value === null) s.latest.delete(k);
  else s.latest.set(k, { key: k, value, partition, offset, timestamp });
}
