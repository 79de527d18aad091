/**
 * Bounded FIFO of generated-but-unsent messages (seq + payload). Backed by a ring buffer that
 * grows by doubling up to `max` (so an idle fleet of 1,000 devices doesn't preallocate 10k slots
 * each). When full, `push` evicts the oldest entry and returns its seq so the caller can count
 * the drop; otherwise it returns -1.
 */
export class OfflineQueue {
  private seqs: Float64Array;
  private payloads: (string | undefined)[];
  private head = 0;
  private len = 0;

  constructor(readonly max: number) {
    if (!Number.isInteger(max) || max < 1) throw new RangeError(`offline queue max must be >= 1, got ${max}`);
    const initial = Math.min(max, 16);
    this.seqs = new Float64Array(initial);
    this.payloads = new Array<string | undefined>(initial).fill(undefined);
  }

  get length(): number {
    return this.len;
  }

  /** Seq of the oldest queued message, or Infinity when empty. */
  peekSeq(): number {
    return this.len === 0 ? Infinity : this.seqs[this.head]!;
  }

  /** Payload of the oldest queued message (call only when length > 0). */
  peekPayload(): string {
    return this.payloads[this.head]!;
  }

  push(seq: number, payload: string): number {
    let dropped = -1;
    if (this.len === this.seqs.length) {
      if (this.len < this.max) this.grow();
      else {
        dropped = this.seqs[this.head]!;
        this.discardHead();
      }
    }
    const cap = this.seqs.length;
    const tail = (this.head + this.len) % cap;
    this.seqs[tail] = seq;
    this.payloads[tail] = payload;
    this.len++;
    return dropped;
  }

  /** Remove the oldest entry (after reading it with peekSeq/peekPayload). */
  discardHead(): void {
    if (this.len === 0) return;
    this.payloads[this.head] = undefined;
    this.head = (this.head + 1) % this.seqs.length;
    this.len--;
  }

  /** Seqs currently queued, oldest first. */
  seqList(): number[] {
    const out: number[] = [];
    const cap = this.seqs.length;
    for (let i = 0; i < this.len; i++) out.push(this.seqs[(this.head + i) % cap]!);
    return out;
  }

  private grow(): void {
    const cap = this.seqs.length;
    const next = Math.min(this.max, cap * 2);
    const seqs = new Float64Array(next);
    const payloads = new Array<string | undefined>(next).fill(undefined);
    for (let i = 0; i < this.len; i++) {
      const j = (this.head + i) % cap;
      seqs[i] = this.seqs[j]!;
      payloads[i] = this.payloads[j];
    }
    this.seqs = seqs;
    this.payloads = payloads;
    this.head = 0;
  }
}
