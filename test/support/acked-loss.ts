/**
 * Which power cut lost which acknowledged message. The test snapshots, at every cut, exactly the
 * seqs each device had had acknowledged; after the drain, every acknowledged seq missing from
 * Kafka is charged to the first cut whose snapshot had it acknowledged. One acknowledged after
 * the last cut and still missing was lost without a power cut: a bug in any mode.
 */
import type { AckedSnapshot } from '../../firmware-sim/src/load-generator.js';

export type FleetAcks = Record<string, AckedSnapshot>;

export interface LossAttribution {
  /** Acknowledged messages missing from Kafka, charged to cut i (index 0 = the first cut). */
  lostPerCut: number[];
  /** Newly acknowledged during the life that cut i ended. */
  ackedPerLife: number[];
  /** Missing though acknowledged only after the last cut. */
  lostWithoutCut: number;
  /** Up to 20 examples, for the failure message. */
  examples: Array<{ deviceId: string; seq: number; cut: number | null }>;
}

export function isAcked(s: AckedSnapshot | undefined, seq: number): boolean {
  return s !== undefined && (seq <= s.contiguousTo || s.above.includes(seq));
}

function ackedCount(fleet: FleetAcks): number {
  let n = 0;
  for (const s of Object.values(fleet)) n += s.contiguousTo + s.above.length;
  return n;
}

export function attributeLosses(cuts: readonly FleetAcks[], final: FleetAcks, seen: ReadonlyMap<string, ReadonlySet<number>>): LossAttribution {
  const lostPerCut = cuts.map(() => 0);
  const ackedPerLife = cuts.map((c, i) => ackedCount(c) - (i > 0 ? ackedCount(cuts[i - 1]!) : 0));
  const examples: LossAttribution['examples'] = [];
  let lostWithoutCut = 0;
  for (const [deviceId, acked] of Object.entries(final)) {
    const inKafka = seen.get(deviceId);
    const top = Math.max(acked.contiguousTo, ...acked.above);
    for (let seq = 1; seq <= top; seq++) {
      if (!isAcked(acked, seq) || inKafka?.has(seq)) continue;
      const cut = cuts.findIndex((c) => isAcked(c[deviceId], seq));
      if (cut < 0) lostWithoutCut++;
      else lostPerCut[cut]!++;
      if (examples.length < 20) examples.push({ deviceId, seq, cut: cut < 0 ? null : cut + 1 });
    }
  }
  return { lostPerCut, ackedPerLife, lostWithoutCut, examples };
}
