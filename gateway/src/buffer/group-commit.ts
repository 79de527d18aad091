/**
 * Group commit: publishes arriving in the same event-loop turn (or within `lingerMs`) share one
 * SQLite transaction; only after it commits are their callbacks (and so their PUBACKs) released.
 *
 * Under pressure (see flow-control.ts) a group is not failed, it is held:
 *  - full (policy block, or dropOldest with everything in flight): not committed, not acked,
 *    retried when the forwarder frees space;
 *  - diskError: not committed, not acked, retried with capped backoff until the disk accepts it;
 *  - slowing: committed, acks released after a delay that grows with the fill level.
 * Held callbacks keep aedes from reading those sockets, so memory stays bounded by one socket
 * read per connected client.
 */
import type { IngestRecord } from '../record.js';
import { describeError, gatewayError, isGatewayError, type GatewayError } from '../errors.js';
import { createBackoff, type Backoff } from '../lib/backoff.js';
import type { PipelineObserver } from '../lib/pipeline-observer.js';
import type { CommitCallback, RecordCommitter, TelemetryBuffer } from './buffer.js';
import { FlowState, type FlowControl } from './flow-control.js';

export type { CommitCallback } from './buffer.js';

export interface GroupCommitOptions {
  maxRecords: number;
  lingerMs: number;
  overflowPolicy: 'block' | 'dropOldest';
  flow: FlowControl;
  /** Called after each successful commit (wakes the forwarder). */
  onCommit?: (committed: number, evicted: number) => void;
  /** Called when a commit fails and the group is held for retry. */
  onCommitError?: (err: GatewayError) => void;
  diskRetry?: { initialMs: number; maxMs: number };
  /**
   * Most callbacks released at a commit, and then per event-loop turn (default 128). Each released callback lets
   * aedes read that device's next packets, so this bounds the work of a turn: with every device
   * publishing flat out, releasing whole groups made turns of ~400 ms, and Node accepts one new
   * connection per turn, so new devices starved (248-372 of 1,000 served in 15 s here; with
   * slices of 512: 530-769; of 128: all 1,000, at the same msgs/s). The rest of a group follows
   * in later turns.
   */
  releaseSlice?: number;
  /** Commit size and duration, per commit (the admin server's histograms); none when absent. */
  observer?: PipelineObserver | undefined;
}

/** A committed group whose callbacks are being released, a slice per turn. */
interface Releasing {
  records: IngestRecord[];
  callbacks: CommitCallback[];
  n: number;
  next: number;
  error: GatewayError | null;
}

export class GroupCommitter implements RecordCommitter {
  // Two slabs swapped at each flush, so callbacks can submit while a group is released.
  private records: IngestRecord[];
  private callbacks: CommitCallback[];
  private spareRecords: IngestRecord[];
  private spareCallbacks: CommitCallback[];
  private count = 0;
  private timer: NodeJS.Timeout | NodeJS.Immediate | null = null;
  private retryTimer: NodeJS.Timeout | null = null;
  private flushing = false;
  private held = false;
  private readonly delayedTimers = new Set<{ timer: NodeJS.Timeout; run: () => void }>();
  private readonly releasing: Releasing[] = [];
  private releaseTimer: NodeJS.Immediate | null = null;
  private readonly releaseSlice: number;
  private readonly releaseNextBound = () => {
    this.releaseTimer = null;
    this.releaseSome(this.releaseSlice);
    if (this.count >= this.opts.maxRecords) this.flush();
  };
  private readonly diskBackoff: Backoff;
  private readonly flushBound = () => this.flush();
  private readonly retryBound = () => {
    this.retryTimer = null;
    this.flush();
  };

  constructor(
    private readonly buffer: TelemetryBuffer,
    private opts: GroupCommitOptions,
  ) {
    this.records = new Array(opts.maxRecords);
    this.callbacks = new Array(opts.maxRecords);
    this.spareRecords = new Array(opts.maxRecords);
    this.spareCallbacks = new Array(opts.maxRecords);
    this.diskBackoff = createBackoff({ initialMs: opts.diskRetry?.initialMs ?? 100, maxMs: opts.diskRetry?.maxMs ?? 5000 });
    this.releaseSlice = Math.max(1, opts.releaseSlice ?? 128);
  }

  /** Live config: commit linger and overflow policy (the batch size is fixed: it sizes the arrays). */
  reconfigure(next: Pick<GroupCommitOptions, 'lingerMs' | 'overflowPolicy'>): void {
    this.opts = { ...this.opts, ...next };
  }

  /** Queues a record; `cb` runs once it is durably committed. */
  submit(record: IngestRecord, cb: CommitCallback): void {
    this.records[this.count] = record;
    this.callbacks[this.count] = cb;
    this.count++;
    if (this.held) return; // a retry is scheduled; the group grows by at most one read per client
    // Releasing a group's callbacks makes aedes read the next packets synchronously, which
    // submit here again: never flush re-entrantly (the slab being released is still in use).
    if (this.count >= this.opts.maxRecords && !this.flushing) {
      this.flush();
    } else if (this.timer === null) {
      this.timer = this.opts.lingerMs > 0 ? setTimeout(this.flushBound, this.opts.lingerMs) : setImmediate(this.flushBound);
    }
  }

  /** Records waiting for a commit (held ones included). */
  get pending(): number {
    return this.count;
  }

  /** Groups committed but whose acks are delayed by backpressure. */
  get delayed(): number {
    return this.delayedTimers.size;
  }

  /** The forwarder freed space: retry a held group now. */
  kick(): void {
    if (this.held && this.opts.flow.state !== FlowState.diskError && this.retryTimer !== null) {
      clearTimeout(this.retryTimer);
      this.retryTimer = null;
      this.flush();
    }
  }

  /** Commits everything queued now, then releases the callbacks in submission order. */
  flush(): void {
    if (this.flushing) {
      // Called from inside a release: leave (or put) a timer in place so nothing is stranded.
      if (this.timer === null && this.count > 0 && !this.held) this.timer = setImmediate(this.flushBound);
      return;
    }
    if (this.timer !== null) {
      if (this.opts.lingerMs > 0) clearTimeout(this.timer as NodeJS.Timeout);
      else clearImmediate(this.timer as NodeJS.Immediate);
      this.timer = null;
    }
    const n = this.count;
    if (n === 0) return;
    const { flow } = this.opts;

    let evicted = 0;
    const observer = this.opts.observer;
    const t0 = observer === undefined ? 0 : performance.now();
    try {
      const res = this.buffer.append(this.records, n, { capBytes: flow.maxSizeBytes, evictOldest: this.opts.overflowPolicy === 'dropOldest' });
      evicted = res.evicted;
      if (!res.committed) {
        if (evicted > 0) this.opts.onCommit?.(0, evicted);
        return this.hold(flow.update(this.buffer.stats().bytes, true));
      }
    } catch (err) {
      if (!isGatewayError(err)) {
        // Not a disk condition (a programming error): refuse this group rather than crash or
        // retry forever. Its publishes are not acknowledged; aedes closes those connections.
        const e = gatewayError('GW_ERR_BUFFER_WRITE', describeError(err), { cause: err });
        this.opts.onCommitError?.(e);
        this.held = false;
        return this.release(n, 0, e);
      }
      this.opts.onCommitError?.(err);
      flow.setDiskFailing(true, this.buffer.stats().bytes);
      return this.hold(FlowState.diskError);
    }
    if (observer !== undefined) observer.committed(n, (performance.now() - t0) / 1000);
    this.held = false;
    this.diskBackoff.reset();
    if (flow.state === FlowState.diskError) flow.setDiskFailing(false, this.buffer.stats().bytes);
    const bytes = this.buffer.stats().bytes;
    flow.update(bytes, false);
    this.opts.onCommit?.(n, evicted);
    this.release(n, flow.ackDelayMs(bytes));
  }

  private hold(state: FlowState): void {
    this.held = true;
    if (this.retryTimer !== null) return;
    // Disk trouble: capped backoff. Full: the forwarder kicks us when it frees space; the timer
    // is only a safety net.
    const delay = state === FlowState.diskError ? this.diskBackoff.next() : 250;
    this.retryTimer = setTimeout(this.retryBound, delay);
  }

  private release(n: number, delayMs: number, error: GatewayError | null = null): void {
    const records = this.records;
    const callbacks = this.callbacks;
    this.records = this.spareRecords;
    this.callbacks = this.spareCallbacks;
    this.count = 0;
    if (delayMs > 0) {
      // Backpressure: keep these acks (and so these sockets) waiting a while. Fresh slabs for
      // the next group, since these stay referenced until the timer fires.
      this.spareRecords = new Array(this.opts.maxRecords);
      this.spareCallbacks = new Array(this.opts.maxRecords);
      const entry = {
        timer: undefined as unknown as NodeJS.Timeout,
        run: () => {
          this.delayedTimers.delete(entry);
          this.runCallbacks(records, callbacks, n, null);
        },
      };
      entry.timer = setTimeout(entry.run, delayMs);
      this.delayedTimers.add(entry);
      return;
    }
    if (n <= this.releaseSlice && this.releasing.length === 0) {
      this.spareRecords = records;
      this.spareCallbacks = callbacks;
      this.runCallbacks(records, callbacks, n, error);
    } else {
      // Released over several turns: these slabs stay in use, so the next group gets fresh ones.
      this.spareRecords = new Array(this.opts.maxRecords);
      this.spareCallbacks = new Array(this.opts.maxRecords);
      // Oldest first: a group behind an earlier one still being released waits for it. Each
      // commit releases one slice now (a stricter one-slice-per-turn cost ~18% of ingest here).
      this.releasing.push({ records, callbacks, n, next: 0, error });
      this.releaseSome(this.releaseSlice);
    }
    if (this.count >= this.opts.maxRecords) this.flush();
  }

  /** Releases up to `budget` queued callbacks, oldest group first; schedules the rest. */
  private releaseSome(budget: number): void {
    this.flushing = true;
    try {
      while (budget > 0 && this.releasing.length > 0) {
        const g = this.releasing[0]!;
        const end = Math.min(g.n, g.next + budget);
        budget -= end - g.next;
        const from = g.next;
        g.next = end; // claimed before the callbacks run
        callRange(g.records, g.callbacks, from, end, g.error);
        if (g.next >= g.n) this.releasing.shift();
      }
    } finally {
      this.flushing = false;
    }
    if (this.releasing.length > 0 && this.releaseTimer === null) this.releaseTimer = setImmediate(this.releaseNextBound);
  }

  /** Callbacks of committed groups still waiting for their turn to be released. */
  get releasePending(): number {
    let n = 0;
    for (const g of this.releasing) n += g.n - g.next;
    return n;
  }

  private runCallbacks(records: IngestRecord[], callbacks: CommitCallback[], n: number, error: GatewayError | null): void {
    this.flushing = true;
    try {
      callRange(records, callbacks, 0, n, error);
    } finally {
      this.flushing = false;
    }
  }

  /** Shutdown: acks delayed by backpressure are released now (their rows are committed). */
  releaseDelayed(): void {
    for (const release of this.delayedTimers) {
      clearTimeout(release.timer);
      release.run();
    }
    this.delayedTimers.clear();
    if (this.releaseTimer !== null) clearImmediate(this.releaseTimer);
    this.releaseTimer = null;
    this.releaseSome(Number.POSITIVE_INFINITY);
  }

  /** Stops retry timers (shutdown). Held publishes stay unacknowledged: devices re-send them. */
  close(): void {
    if (this.retryTimer !== null) clearTimeout(this.retryTimer);
    this.retryTimer = null;
    if (this.releaseTimer !== null) clearImmediate(this.releaseTimer);
    this.releaseTimer = null;
    if (this.timer !== null) {
      if (this.opts.lingerMs > 0) clearTimeout(this.timer as NodeJS.Timeout);
      else clearImmediate(this.timer as NodeJS.Immediate);
      this.timer = null;
    }
  }
}

/** Runs callbacks[from..to) in order, clearing each slot (and its record) before the call. */
function callRange(records: IngestRecord[], callbacks: CommitCallback[], from: number, to: number, error: GatewayError | null): void {
  for (let i = from; i < to; i++) {
    const cb = callbacks[i]!;
    callbacks[i] = undefined as unknown as CommitCallback;
    records[i] = undefined as unknown as IngestRecord;
    cb(error);
  }
}
