/**
 * The crash breaker's memory: which buffer rows were in flight when the process died of an
 * uncaught exception, and during how many consecutive crashes they all were. A row that alone was
 * in flight during `crashLimit` consecutive crashes is dead-lettered at the next start instead of
 * being forwarded again, so no single row can crash-loop the gateway. Written only when the
 * process is dying (never on the hot path); kill -9 and power cuts run no handler and count nothing.
 */

/** Inclusive range of gateway seqs. */
export interface SeqRange {
  firstSeq: number;
  lastSeq: number;
}

export interface CrashGuard extends SeqRange {
  /** Consecutive crashes during which every row of the range was in flight. */
  crashes: number;
  /** Error code (GW_ERR_*) or error name of the last crash. */
  lastCode: string;
  updatedAt: number;
}

export interface CrashGuardStore {
  /** The guard left by previous crashes, or null. */
  read(): CrashGuard | null;
  /** The guarded rows were forwarded (or dead-lettered) without a crash: forget it. */
  clear(): void;
  /**
   * Synchronously records a crash over the rows in flight now; null when none were (the guard,
   * if any, is left as it was). Called from the process's uncaught-exception handler.
   */
  recordCrash(code: string): CrashGuard | null;
}

/**
 * The guard after a crash with `inFlight` rows in flight. Rows in flight during every crash so
 * far are the intersection of the ranges; if it is empty the streak starts again at 1. Narrowing
 * to one row thus carries the count of the crashes that row already saw inside a wider range.
 */
export function nextCrashGuard(prev: CrashGuard | null, inFlight: SeqRange, code: string, now: number): CrashGuard {
  if (prev !== null) {
    const firstSeq = Math.max(prev.firstSeq, inFlight.firstSeq);
    const lastSeq = Math.min(prev.lastSeq, inFlight.lastSeq);
    if (firstSeq <= lastSeq) return { firstSeq, lastSeq, crashes: prev.crashes + 1, lastCode: code, updatedAt: now };
  }
  return { firstSeq: inFlight.firstSeq, lastSeq: inFlight.lastSeq, crashes: 1, lastCode: code, updatedAt: now };
}

/** The guard names one row that crashed the gateway often enough to be dead-lettered. */
export function isPoisonRow(guard: CrashGuard, seq: number, crashLimit: number): boolean {
  return guard.firstSeq === seq && guard.lastSeq === seq && guard.crashes >= crashLimit;
}
