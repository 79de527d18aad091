/**
 * Group commit: publishes arriving in the same event-loop turn (or within `lingerMs`) share one
 * SQLite transaction; only after it commits are their callbacks (and so their PUBACKs) released.
 * If the commit fails, every callback in the group gets the error: nothing was acknowledged.
 */
import type { IngestRecord } from '../record.js';
import type { GatewayError } from '../errors.js';
import type { TelemetryBuffer } from './buffer.js';

export type CommitCallback = (err?: GatewayError | null) => void;

export interface GroupCommitOptions {
  maxRecords: number;
  lingerMs: number;
  /** Called after each commit attempt (for metrics/state); never throws into the hot path. */
  onCommit?: (committed: number, err: GatewayError | null) => void;
}

export class GroupCommitter {
  // Two fixed-capacity slabs, swapped at each flush, so callbacks can submit while we release.
  private records: IngestRecord[];
  private callbacks: CommitCallback[];
  private spareRecords: IngestRecord[];
  private spareCallbacks: CommitCallback[];
  private count = 0;
  private flushing = false;
  private timer: NodeJS.Timeout | NodeJS.Immediate | null = null;
  private readonly flushBound = () => this.flush();

  constructor(
    private readonly buffer: TelemetryBuffer,
    private readonly opts: GroupCommitOptions,
  ) {
    this.records = new Array(opts.maxRecords);
    this.callbacks = new Array(opts.maxRecords);
    this.spareRecords = new Array(opts.maxRecords);
    this.spareCallbacks = new Array(opts.maxRecords);
  }

  /** Queues a record; `cb` runs once it is durably committed (or the commit failed). */
  submit(record: IngestRecord, cb: CommitCallback): void {
    this.records[this.count] = record;
    this.callbacks[this.count] = cb;
    this.count++;
    // Releasing a group's callbacks makes aedes read the next packets synchronously, which
    // submit here again: never flush re-entrantly (the slab being released is still in use).
    if (this.count >= this.opts.maxRecords && !this.flushing) {
      this.flush();
    } else if (this.timer === null) {
      this.timer = this.opts.lingerMs > 0 ? setTimeout(this.flushBound, this.opts.lingerMs) : setImmediate(this.flushBound);
    }
  }

  get pending(): number {
    return this.count;
  }

  /** Commits everything queued now, then releases the callbacks in submission order. */
  flush(): void {
    if (this.timer !== null) {
      if (this.opts.lingerMs > 0) clearTimeout(this.timer as NodeJS.Timeout);
      else clearImmediate(this.timer as NodeJS.Immediate);
      this.timer = null;
    }
    const n = this.count;
    if (n === 0) return;
    const records = this.records;
    const callbacks = this.callbacks;
    this.records = this.spareRecords;
    this.callbacks = this.spareCallbacks;
    this.spareRecords = records;
    this.spareCallbacks = callbacks;
    this.count = 0;

    let error: GatewayError | null = null;
    try {
      this.buffer.append(records, n);
    } catch (err) {
      error = err as GatewayError;
    }
    this.opts.onCommit?.(error ? 0 : n, error);
    this.flushing = true;
    try {
      for (let i = 0; i < n; i++) {
        const cb = callbacks[i]!;
        callbacks[i] = undefined as unknown as CommitCallback;
        records[i] = undefined as unknown as IngestRecord;
        cb(error);
      }
    } finally {
      this.flushing = false;
    }
    if (this.count >= this.opts.maxRecords) this.flush();
  }
}
