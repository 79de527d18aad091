/**
 * The fuzzer's only source of randomness: mulberry32 (the firmware-sim's PRNG) behind a few
 * helpers. Every connection gets its own stream derived from (seed, connection index), so the
 * frames of connection i are the same whatever the scheduling, and one connection can be
 * replayed alone.
 */
import { createRng, type Rng } from '../../firmware-sim/src/rng.js';

export class FuzzRng {
  private readonly next: Rng;

  constructor(readonly seed: number) {
    this.next = createRng(seed);
  }

  /** The stream of connection `index` under `seed` (golden-ratio mix keeps neighbours apart). */
  static forConnection(seed: number, index: number): FuzzRng {
    return new FuzzRng((Math.imul(seed ^ 0x5bd1e995, 0x9e3779b1) + Math.imul(index + 1, 0x85ebca6b)) >>> 0);
  }

  float(): number {
    return this.next();
  }

  /** Integer in [0, n). */
  int(n: number): number {
    return Math.floor(this.next() * n);
  }

  /** Integer in [lo, hi] inclusive. */
  range(lo: number, hi: number): number {
    return lo + this.int(hi - lo + 1);
  }

  chance(p: number): boolean {
    return this.next() < p;
  }

  pick<T>(items: readonly T[]): T {
    return items[this.int(items.length)]!;
  }

  /** Picks a key of `weights` with probability proportional to its weight. */
  weighted<K extends string>(weights: Readonly<Record<K, number>>): K {
    const entries = Object.entries(weights) as Array<[K, number]>;
    const total = entries.reduce((s, [, w]) => s + w, 0);
    let r = this.next() * total;
    for (const [k, w] of entries) {
      r -= w;
      if (r < 0) return k;
    }
    return entries[entries.length - 1]![0];
  }

  bytes(n: number): Buffer {
    const b = Buffer.allocUnsafe(n);
    for (let i = 0; i < n; i++) b[i] = this.int(256);
    return b;
  }

  /** A size skewed towards small values but reaching `max` now and then. */
  size(max: number): number {
    return Math.min(max, Math.floor(Math.pow(this.next(), 3) * (max + 1)));
  }
}

/** A fresh random seed for runs that did not pin one (printed so the run can be repeated). */
export function randomSeed(): number {
  return (Math.random() * 0x1_0000_0000) >>> 0;
}
