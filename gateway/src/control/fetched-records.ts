/**
 * Turns the record batches of one fetched partition into ControlRecords and the next offset to
 * fetch. Pure: no client, no I/O, so the rules below are unit-tested on hand-made batches.
 *
 * - A batch may start before the offset asked for (the broker returns whole batches): records
 *   below `fetchOffset` were handed over already and are skipped.
 * - The next offset follows the last batch's `lastOffsetDelta`, not its last record: compaction
 *   removes records from inside batches but keeps the batch's offset range, and a control batch
 *   (transaction marker) has no record to hand over but must still be stepped over.
 * - read_committed: records of aborted transactions are dropped, as the Java consumer does it
 *   (the broker lists the aborted transactions overlapping the fetch; a producer's records are
 *   skipped from its aborted transaction's first offset until that transaction's ABORT marker).
 * - Timestamp: LogAppendTime topics carry the broker's time in the batch's maxTimestamp.
 */
import type { ControlRecord } from './kafka-link.js';

/** Batch attribute bits (Kafka record batch v2). */
const TIMESTAMP_LOG_APPEND_TIME = 0x08;
const IS_TRANSACTIONAL = 0x10;
const IS_CONTROL = 0x20;
/** Control record key: int16 version, int16 type (0 = ABORT, 1 = COMMIT). */
const CONTROL_TYPE_ABORT = 0;

/** The fields of @platformatic/kafka's RecordsBatch / KafkaRecord this module reads. */
export interface FetchedBatch {
  firstOffset: bigint;
  attributes: number;
  lastOffsetDelta: number;
  firstTimestamp: bigint;
  maxTimestamp: bigint;
  producerId: bigint;
  records: ReadonlyArray<{ offsetDelta: number; timestampDelta: bigint; key: Buffer | null; value: Buffer | null }>;
}

export interface AbortedTransaction {
  producerId: bigint;
  firstOffset: bigint;
}

export interface DecodedPartition {
  records: ControlRecord[];
  /** Offset to fetch next; null when the response held no batch (position unchanged). */
  nextOffset: bigint | null;
}

export function decodeFetchedPartition(
  topic: string,
  partition: number,
  fetchOffset: bigint,
  batches: readonly FetchedBatch[] | undefined,
  aborted: readonly AbortedTransaction[] = [],
): DecodedPartition {
  const records: ControlRecord[] = [];
  if (!batches || batches.length === 0) return { records, nextOffset: null };
  const pendingAborts = [...aborted].sort((a, b) => (a.firstOffset < b.firstOffset ? -1 : a.firstOffset > b.firstOffset ? 1 : 0));
  const abortedProducers = new Set<bigint>();
  let nextOffset = fetchOffset;
  for (const batch of batches) {
    const lastOffset = batch.firstOffset + BigInt(batch.lastOffsetDelta);
    if (lastOffset + 1n > nextOffset) nextOffset = lastOffset + 1n;
    while (pendingAborts.length > 0 && pendingAborts[0]!.firstOffset <= lastOffset) abortedProducers.add(pendingAborts.shift()!.producerId);
    if (batch.attributes & IS_CONTROL) {
      if (isAbortMarker(batch)) abortedProducers.delete(batch.producerId);
      continue;
    }
    if (batch.attributes & IS_TRANSACTIONAL && abortedProducers.has(batch.producerId)) continue;
    const logAppendTime = (batch.attributes & TIMESTAMP_LOG_APPEND_TIME) !== 0;
    for (const r of batch.records) {
      const offset = batch.firstOffset + BigInt(r.offsetDelta);
      if (offset < fetchOffset) continue;
      records.push({
        topic,
        partition,
        offset,
        key: r.key === null ? null : r.key.toString('utf8'),
        value: r.value,
        timestamp: Number(logAppendTime ? batch.maxTimestamp : batch.firstTimestamp + r.timestampDelta),
      });
    }
  }
  return { records, nextOffset };
}

function isAbortMarker(batch: FetchedBatch): boolean {
  const key = batch.records[0]?.key;
  return key !== null && key !== undefined && key.length >= 4 && key.readInt16BE(2) === CONTROL_TYPE_ABORT;
}
