/** Exact percentiles of a sample (sorted copy); fine for bench-sized samples. */
export function percentiles(values: Float64Array | number[], ps: readonly number[]): number[] {
  const sorted = Float64Array.from(values).sort();
  return ps.map((p) => (sorted.length === 0 ? Number.NaN : sorted[Math.min(sorted.length - 1, Math.floor((p / 100) * sorted.length))]!));
}
