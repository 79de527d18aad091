import type { SimSummary } from './sim-types.js';

/** A run succeeded when something was sent and every sent message was acknowledged. */
export function allSentAcked(s: SimSummary): boolean {
  return s.sent > 0 && s.acked === s.sent;
}
