/**
 * The few data types that cross stages. Records keep a fixed shape (same keys, same order,
 * always set) so V8 keeps them monomorphic on the hot path.
 */

/** A message accepted from a device, before it is committed to the buffer. */
export interface IngestRecord {
  deviceId: string;
  topic: string;
  qos: 0 | 1 | 2;
  /** Epoch milliseconds at which the gateway received the PUBLISH. */
  receivedAt: number;
  payload: Buffer;
}

/** A record read back from the buffer for forwarding; `seq` is the gateway's own sequence. */
export interface StoredRecord extends IngestRecord {
  /** Gateway-wide monotonic sequence number (SQLite AUTOINCREMENT rowid); never reused. */
  seq: number;
}

/** A contiguous, ordered run of buffered records leased to the forwarder. */
export interface Lease {
  readonly records: readonly StoredRecord[];
  /** Lowest and highest seq in the lease (inclusive). */
  readonly firstSeq: number;
  readonly lastSeq: number;
  /** Not every row between firstSeq and lastSeq belongs to it (a per-device sub-lease). */
  readonly sparse?: boolean;
}

/** A record that can never be encoded, kept in the dead-letter table and sent to the DLQ topic. */
export interface DeadLetter {
  record: StoredRecord;
  code: string;
  reason: string;
}
