/**
 * Fetched batches -> ControlRecords and the next offset: the rules a reader relies on to hand
 * every record over once, in order, and never stall on a batch without records.
 */
import assert from 'node:assert/strict';
import { test } from 'node:test';
import { decodeFetchedPartition, type FetchedBatch } from '../../../gateway/src/control/fetched-records.js';

const T0 = 1_700_000_000_000n;

function batch(firstOffset: bigint, records: Array<[delta: number, key: string | null, value: string | null]>, extra: Partial<FetchedBatch> = {}): FetchedBatch {
  const lastOffsetDelta = records.length > 0 ? Math.max(...records.map(([d]) => d)) : 0;
  return {
    firstOffset,
    attributes: 0,
    lastOffsetDelta,
    firstTimestamp: T0,
    maxTimestamp: T0 + 999n,
    producerId: -1n,
    records: records.map(([offsetDelta, key, value]) => ({
      offsetDelta,
      timestampDelta: BigInt(offsetDelta * 10),
      key: key === null ? null : Buffer.from(key),
      value: value === null ? null : Buffer.from(value),
    })),
    ...extra,
  };
}

const view = (d: ReturnType<typeof decodeFetchedPartition>) => d.records.map((r) => [r.offset, r.key, r.value?.toString() ?? null]);

test('records in offset order with key, value, partition, topic and CreateTime timestamps', () => {
  const d = decodeFetchedPartition('cfg', 2, 0n, [batch(0n, [[0, 'gw-1', 'a'], [1, 'gw-2', 'b']]), batch(2n, [[0, 'gw-1', 'c']])]);
  assert.deepEqual(view(d), [[0n, 'gw-1', 'a'], [1n, 'gw-2', 'b'], [2n, 'gw-1', 'c']]);
  assert.equal(d.nextOffset, 3n);
  assert.ok(d.records.every((r) => r.topic === 'cfg' && r.partition === 2));
  assert.deepEqual(d.records.map((r) => r.timestamp), [Number(T0), Number(T0) + 10, Number(T0)]);
});

test('null key and tombstone (null value) are kept as null', () => {
  const d = decodeFetchedPartition('cfg', 0, 0n, [batch(0n, [[0, null, 'v'], [1, 'gw-1', null]])]);
  assert.deepEqual(view(d), [[0n, null, 'v'], [1n, 'gw-1', null]]);
});

test('records below the fetch offset (a batch starts before it) are skipped', () => {
  const d = decodeFetchedPartition('cfg', 0, 5n, [batch(3n, [[0, 'k', 'x'], [1, 'k', 'y'], [2, 'k', 'z'], [3, 'k', 'w']])]);
  assert.deepEqual(view(d), [[5n, 'k', 'z'], [6n, 'k', 'w']]);
  assert.equal(d.nextOffset, 7n);
});

test('the next offset follows lastOffsetDelta, past records compaction removed from the batch', () => {
  // Offsets 10..14 written; compaction kept only 11; the batch keeps its range.
  const d = decodeFetchedPartition('cfg', 0, 10n, [batch(10n, [[1, 'k', 'kept']], { lastOffsetDelta: 4 })]);
  assert.deepEqual(view(d), [[11n, 'k', 'kept']]);
  assert.equal(d.nextOffset, 15n);
});

test('no batch: no records and the position is unchanged (null)', () => {
  assert.deepEqual(decodeFetchedPartition('cfg', 0, 7n, undefined), { records: [], nextOffset: null });
  assert.deepEqual(decodeFetchedPartition('cfg', 0, 7n, []), { records: [], nextOffset: null });
});

test('a control batch (transaction marker) hands nothing over but is stepped over', () => {
  const commit = batch(4n, [[0, null, null]], { attributes: 0x20 | 0x10, producerId: 9n });
  commit.records = [{ offsetDelta: 0, timestampDelta: 0n, key: Buffer.from([0, 0, 0, 1]), value: Buffer.alloc(6) }];
  const d = decodeFetchedPartition('cfg', 0, 2n, [batch(2n, [[0, 'k', 'a'], [1, 'k', 'b']], { attributes: 0x10, producerId: 9n }), commit]);
  assert.deepEqual(view(d), [[2n, 'k', 'a'], [3n, 'k', 'b']]);
  assert.equal(d.nextOffset, 5n);
});

test('read_committed: records of an aborted transaction are dropped up to its ABORT marker', () => {
  const txn = (first: bigint, producerId: bigint, value: string): FetchedBatch => batch(first, [[0, 'k', value]], { attributes: 0x10, producerId });
  const marker = (offset: bigint, producerId: bigint, type: 0 | 1): FetchedBatch => {
    const b = batch(offset, [[0, null, null]], { attributes: 0x30, producerId });
    b.records = [{ offsetDelta: 0, timestampDelta: 0n, key: Buffer.from([0, 0, 0, type]), value: Buffer.alloc(6) }];
    return b;
  };
  const batches = [
    txn(0n, 7n, 'aborted-1'),
    txn(1n, 8n, 'committed-1'),
    txn(2n, 7n, 'aborted-2'),
    marker(3n, 7n, 0), // ABORT of producer 7
    marker(4n, 8n, 1), // COMMIT of producer 8
    txn(5n, 7n, 'later-committed'), // producer 7's next transaction is not aborted
    batch(6n, [[0, 'k', 'plain']]),
  ];
  const d = decodeFetchedPartition('cfg', 0, 0n, batches, [{ producerId: 7n, firstOffset: 0n }]);
  assert.deepEqual(d.records.map((r) => r.value?.toString()), ['committed-1', 'later-committed', 'plain']);
  assert.equal(d.nextOffset, 7n);
});

test('LogAppendTime topics: every record carries the batch maxTimestamp', () => {
  const d = decodeFetchedPartition('cfg', 0, 0n, [batch(0n, [[0, 'k', 'a'], [1, 'k', 'b']], { attributes: 0x08 })]);
  assert.deepEqual(d.records.map((r) => r.timestamp), [Number(T0 + 999n), Number(T0 + 999n)]);
});
