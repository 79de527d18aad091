/**
 * Fixed-capacity set of unacknowledged publishes (seq, payload, last send time), stored in
 * preallocated typed arrays with a free-slot stack: no allocation per message. A slot index is
 * stable from acquire() to release(), so a per-slot ack callback can identify its message.
 */
export class InflightWindow {
  private readonly seqs: Float64Array;
  private readonly sentAt: Float64Array;
  private readonly busy: Uint8Array;
  private readonly payloads: (string | undefined)[];
  private readonly free: Int32Array;
  private freeTop: number;

  constructor(readonly capacity: number) {
    if (!Number.isInteger(capacity) || capacity < 1) throw new RangeError(`inflightWindow must be >= 1, got ${capacity}`);
    this.seqs = new Float64Array(capacity);
    this.sentAt = new Float64Array(capacity);
    this.busy = new Uint8Array(capacity);
    this.payloads = new Array<string | undefined>(capacity).fill(undefined);
    this.free = new Int32Array(capacity);
    for (let i = 0; i < capacity; i++) this.free[i] = capacity - 1 - i;
    this.freeTop = capacity;
  }

  /** Number of messages in flight. */
  get size(): number {
    return this.capacity - this.freeTop;
  }

  get hasRoom(): boolean {
    return this.freeTop > 0;
  }

  /** Take a free slot for `seq` (caller checks hasRoom first). */
  acquire(seq: number, payload: string, now: number): number {
    const slot = this.free[--this.freeTop]!;
    this.seqs[slot] = seq;
    this.payloads[slot] = payload;
    this.sentAt[slot] = now;
    this.busy[slot] = 1;
    return slot;
  }

  release(slot: number): void {
    this.busy[slot] = 0;
    this.payloads[slot] = undefined;
    this.free[this.freeTop++] = slot;
  }

  isBusy(slot: number): boolean {
    return this.busy[slot] === 1;
  }

  seqAt(slot: number): number {
    return this.seqs[slot]!;
  }

  payloadAt(slot: number): string {
    return this.payloads[slot]!;
  }

  sentAtOf(slot: number): number {
    return this.sentAt[slot]!;
  }

  /** Record a re-send time. */
  touch(slot: number, now: number): void {
    this.sentAt[slot] = now;
  }

  /** Busy slots ordered by seq (oldest first). */
  slotsBySeq(): number[] {
    const out: number[] = [];
    for (let i = 0; i < this.capacity; i++) if (this.busy[i] === 1) out.push(i);
    return out.sort((a, b) => this.seqs[a]! - this.seqs[b]!);
  }

  /** Lowest seq in flight, or Infinity. */
  minSeq(): number {
    let low = Infinity;
    for (let i = 0; i < this.capacity; i++) if (this.busy[i] === 1 && this.seqs[i]! < low) low = this.seqs[i]!;
    return low;
  }

  /** Seqs in flight, ascending. */
  seqList(): number[] {
    return this.slotsBySeq().map((s) => this.seqs[s]!);
  }
}
