/**
 * The durable queue between ingest and forward. Invariant: a row leaves only after Kafka acked
 * it (ack), or it was deliberately dropped by policy (overflow under dropOldest, TTL expiry);
 * every drop is counted and written to the drop log. Leased (in-flight) rows are never dropped.
 */
import type { GatewayError } from '../errors.js';
import type { DeadLetter, IngestRecord, Lease } from '../record.js';

export const DropReason = { overflow: 'overflow', expired: 'expired' } as const;
export type DropReason = (typeof DropReason)[keyof typeof DropReason];

export interface BufferStats {
  /** Rows waiting to be forwarded (leased ones included). */
  rows: number;
  /** Accounted bytes of those rows (payload + topic + device id + fixed row overhead). */
  bytes: number;
  /** receivedAt of the oldest buffered row, or null when empty. */
  oldestReceivedAt: number | null;
  /** Rows in the local dead-letter table. */
  deadLetterRows: number;
  /** Monotonic totals since this process opened the buffer. */
  appendedTotal: number;
  ackedTotal: number;
  /** Records moved to the dead-letter table (the sum of deadLetteredByCode). The only count of dead letters. */
  deadLetteredTotal: number;
  deadLetteredByCode: Readonly<Record<string, number>>;
  droppedTotal: Readonly<Record<DropReason, number>>;
}

export interface AppendOptions {
  /** Hard cap on accounted bytes. A group that would cross it is not committed, unless... */
  capBytes: number;
  /** ...dropOldest: the oldest unleased rows are evicted (and logged) to make room. */
  evictOldest: boolean;
}

export interface AppendResult {
  /** False when the records did not fit under the cap (even after eviction): nothing committed. */
  committed: boolean;
  evicted: number;
}

export interface TelemetryBuffer {
  /** Commits all records in one transaction, in order. Throws GatewayError on failure (nothing committed). */
  append(records: readonly IngestRecord[], count?: number, opts?: AppendOptions): AppendResult;
  /** Leases the next rows after the previous lease, in seq order; null when nothing is waiting. */
  lease(maxRecords: number, maxBytes: number): Lease | null;
  /** Kafka acked the lease: delete its rows and store its dead letters, in one transaction. */
  ack(lease: Lease, deadLetters: readonly DeadLetter[]): void;
  /** Drops unleased rows received before `cutoffMs` (TTL); returns how many. */
  expire(cutoffMs: number): number;
  /** Forget outstanding leases so the rows are leased again (e.g. after a producer restart). */
  resetLeases(): void;
  stats(): BufferStats;
  close(): void;
}

/** Runs once a submitted record is committed (no error), or with the error it was not committed for. */
export type CommitCallback = (err?: GatewayError | null) => void;

/**
 * The buffer as ingest sees it: records go in one at a time and are acknowledged only when they
 * are on disk (group commit: buffer/group-commit.ts), so an ack sent from `cb` means committed.
 */
export interface RecordCommitter {
  submit(record: IngestRecord, cb: CommitCallback): void;
}

/** Fixed per-row overhead in the byte accounting (rowid, columns, index entry). */
export const ROW_OVERHEAD_BYTES = 64;

/** UTF-8 bytes, as SQLite stores them, so the in-memory count matches a recount from disk. */
export function accountedBytes(r: { deviceId: string; topic: string; payload: Buffer }): number {
  return r.payload.length + Buffer.byteLength(r.topic) + Buffer.byteLength(r.deviceId) + ROW_OVERHEAD_BYTES;
}
