/**
 * Backpressure state from the buffer's fill level, with hysteresis:
 *   open      below the high watermark (or back below the low one): acks go out at once
 *   slowing   at/above the high watermark until below the low one: acks are delayed in
 *             proportion to the fill level, so devices (bounded in-flight windows) slow down
 *   full      at the hard cap (maxSizeBytes): policy `block` holds new publishes un-committed
 *             and un-acked until there is room; `dropOldest` evicts the oldest unsent rows
 *   diskError the disk refused a write (SQLITE_FULL, IOERR, read-only): publishes are held and
 *             the commit is retried; nothing is acknowledged until it succeeds
 * Holding a publish's callback is also what stops its socket being read: aedes reads the next
 * chunk of a client only when every packet of the current chunk was handled
 * (moscajs/aedes lib/client.js nextBatch), so TCP pushes back on the device.
 */
export const FlowState = { open: 'open', slowing: 'slowing', full: 'full', diskError: 'diskError' } as const;
export type FlowState = (typeof FlowState)[keyof typeof FlowState];

export interface FlowControlOptions {
  maxSizeBytes: number;
  highWatermark: number;
  lowWatermark: number;
  maxAckDelayMs: number;
  onChange?: (from: FlowState, to: FlowState, bytes: number) => void;
}

export class FlowControl {
  private current: FlowState = FlowState.open;
  private diskFailing = false;
  private slowing = false;
  private high: number;
  private low: number;

  constructor(private o: FlowControlOptions) {
    this.high = Math.floor(o.maxSizeBytes * o.highWatermark);
    this.low = Math.floor(o.maxSizeBytes * o.lowWatermark);
  }

  /** New cap, watermarks or delay (live config); the caller re-evaluates with update(). */
  reconfigure(next: Pick<FlowControlOptions, 'maxSizeBytes' | 'highWatermark' | 'lowWatermark' | 'maxAckDelayMs'>): void {
    this.o = { ...this.o, ...next };
    this.high = Math.floor(this.o.maxSizeBytes * this.o.highWatermark);
    this.low = Math.floor(this.o.maxSizeBytes * this.o.lowWatermark);
  }

  get state(): FlowState {
    return this.current;
  }

  get maxSizeBytes(): number {
    return this.o.maxSizeBytes;
  }

  /** Would committing `incoming` more bytes exceed the hard cap? */
  exceedsCap(bytes: number, incoming: number): boolean {
    return bytes + incoming > this.o.maxSizeBytes;
  }

  /** Ack delay for a group committed at fill level `bytes` (0 unless slowing). */
  ackDelayMs(bytes: number): number {
    if (!this.slowing || this.o.maxAckDelayMs === 0) return 0;
    const span = Math.max(1, this.o.maxSizeBytes - this.high);
    const f = Math.min(1, Math.max(0, (bytes - this.high) / span));
    // Never zero while slowing: below `high` (between the watermarks) a small delay remains.
    return Math.max(Math.round(this.o.maxAckDelayMs * f), Math.round(this.o.maxAckDelayMs * 0.05));
  }

  /** Re-evaluates after any change of fill level, cap state or disk health. */
  update(bytes: number, full: boolean): FlowState {
    if (bytes >= this.high) this.slowing = true;
    else if (bytes < this.low) this.slowing = false;
    const next: FlowState = this.diskFailing ? FlowState.diskError : full ? FlowState.full : this.slowing ? FlowState.slowing : FlowState.open;
    if (next !== this.current) {
      const from = this.current;
      this.current = next;
      this.o.onChange?.(from, next, bytes);
    }
    return next;
  }

  setDiskFailing(failing: boolean, bytes: number): void {
    this.diskFailing = failing;
    this.update(bytes, false);
  }
}
