/**
 * Fixed-size, HDR-style log-linear latency histogram. Values are recorded in microseconds with
 * 7 significant bits (relative error < 0.8 %), range 0 µs .. ~35 min. Memory is constant
 * (1,664 buckets) regardless of how many samples are recorded.
 */
const SUB_BUCKETS = 128;
const HALF = SUB_BUCKETS / 2;
const MAX_US = 0x7fffffff;
const BUCKETS = SUB_BUCKETS + 24 * HALF;

function indexOf(us: number): number {
  if (us < SUB_BUCKETS) return us;
  const shift = 31 - Math.clz32(us) - 6;
  return SUB_BUCKETS + (shift - 1) * HALF + ((us >>> shift) - HALF);
}

/** Midpoint (µs) of the bucket at `idx`. */
function valueAt(idx: number): number {
  if (idx < SUB_BUCKETS) return idx;
  const k = idx - SUB_BUCKETS;
  const shift = Math.floor(k / HALF) + 1;
  const width = 2 ** shift;
  return ((k % HALF) + HALF) * width + width / 2;
}

export class LatencyHistogram {
  private readonly counts = new Float64Array(BUCKETS);
  private total = 0;
  private maxUs = 0;

  /** Record one latency sample in milliseconds. */
  record(ms: number): void {
    let us = Math.round(ms * 1000);
    if (!(us > 0)) us = 0;
    else if (us > MAX_US) us = MAX_US;
    this.counts[indexOf(us)]! += 1;
    this.total++;
    if (us > this.maxUs) this.maxUs = us;
  }

  get count(): number {
    return this.total;
  }

  /** Largest recorded sample in ms (exact, not bucketed). */
  get maxMs(): number {
    return this.maxUs / 1000;
  }

  /** Value (ms) at percentile `p` (0..100); 0 when empty. */
  percentile(p: number): number {
    if (this.total === 0) return 0;
    const rank = Math.max(1, Math.ceil((Math.min(100, Math.max(0, p)) / 100) * this.total));
    let seen = 0;
    for (let i = 0; i < BUCKETS; i++) {
      seen += this.counts[i]!;
      if (seen >= rank) return Math.min(valueAt(i), this.maxUs) / 1000;
    }
    return this.maxUs / 1000;
  }

  merge(other: LatencyHistogram): void {
    for (let i = 0; i < BUCKETS; i++) this.counts[i]! += other.counts[i]!;
    this.total += other.total;
    if (other.maxUs > this.maxUs) this.maxUs = other.maxUs;
  }

  reset(): void {
    this.counts.fill(0);
    this.total = 0;
    this.maxUs = 0;
  }
}
