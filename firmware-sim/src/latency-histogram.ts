/**
 * Publish->ack latency in milliseconds over Node's HDR histogram (perf_hooks.createHistogram):
 * microseconds, 3 significant figures (relative error < 0.1 %), range 0 µs .. ~35 min, constant
 * memory however many samples are recorded.
 */
import { createHistogram, type RecordableHistogram } from 'node:perf_hooks';

const MAX_US = 0x7fffffff;

export class LatencyHistogram {
  // The HDR histogram's lowest value is 1: a sample of u µs is recorded as u + 1.
  private readonly h: RecordableHistogram = createHistogram({ lowest: 1, highest: MAX_US + 1, figures: 3 });
  private maxUs = 0;

  /** Record one latency sample in milliseconds. */
  record(ms: number): void {
    let us = Math.round(ms * 1000);
    if (!(us > 0)) us = 0;
    else if (us > MAX_US) us = MAX_US;
    this.h.record(us + 1);
    if (us > this.maxUs) this.maxUs = us;
  }

  get count(): number {
    return this.h.count;
  }

  /** Largest recorded sample in ms (exact, not bucketed). */
  get maxMs(): number {
    return this.maxUs / 1000;
  }

  /** Value (ms) at percentile `p` (0..100); 0 when empty. */
  percentile(p: number): number {
    if (this.h.count === 0) return 0;
    const us = this.h.percentile(Math.min(100, Math.max(0, p))) - 1;
    return Math.min(us, this.maxUs) / 1000;
  }
}
