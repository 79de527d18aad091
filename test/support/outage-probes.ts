/**
 * Probes for system tests around Kafka outages: log events seen after a mark (so an earlier
 * kafka_up/kafka_down does not satisfy the wait), the gateway's buffered row count read from its
 * SQLite file read-only (as an operator would with the sqlite3 shell), and a drain watcher.
 */
import Database from 'better-sqlite3';
import type { GatewayProcess, LogLine } from './gateway-process.js';
import { sleep } from './wait.js';

/** Waits for `event` among the log lines logged after index `from` (take it as `gw.logs.length`). */
export async function waitForEventSince(
  gw: GatewayProcess,
  from: number,
  event: string,
  timeoutMs: number,
  pred: (l: LogLine) => boolean = () => true,
): Promise<LogLine> {
  const deadline = Date.now() + timeoutMs;
  for (;;) {
    for (let i = from; i < gw.logs.length; i++) {
      const l = gw.logs[i]!;
      if (l.event === event && pred(l)) return l;
    }
    if (Date.now() > deadline) {
      const seen = gw.logs.slice(from).filter((l) => l.event).map((l) => `${l.event}${l['code'] ? `(${String(l['code'])})` : ''}`);
      throw new Error(`no "${event}" log event within ${timeoutMs} ms; events since the mark: ${seen.join(', ') || 'none'}`);
    }
    await sleep(50);
  }
}

/** Log lines with `event` logged after index `from`. */
export function eventsSince(gw: GatewayProcess, from: number, event: string): LogLine[] {
  return gw.logs.slice(from).filter((l) => l.event === event);
}

/** Read-only view of a running gateway's buffer file (WAL readers never block its writer). */
export class BufferProbe {
  private db: Database.Database | null = null;
  private countStmt: Database.Statement | null = null;

  constructor(private readonly path: string) {}

  /** Rows waiting in `records` (leased ones included). */
  rows(): number {
    if (!this.countStmt) {
      this.db = new Database(this.path, { readonly: true, fileMustExist: true });
      this.countStmt = this.db.prepare('SELECT count(*) AS n FROM records');
    }
    return (this.countStmt.get() as { n: number }).n;
  }

  close(): void {
    this.countStmt = null;
    this.db?.close();
    this.db = null;
  }
}

export interface DrainSample {
  /** Epoch ms (comparable with the `time` field of the gateway's log lines). */
  atMs: number;
  rows: number;
}

export interface DrainResult {
  drained: boolean;
  samples: DrainSample[];
  /** First sample at or below the threshold (undefined if it never got there). */
  end: DrainSample | undefined;
}

/** Samples the row count every `everyMs` until it is at most `doneAtOrBelow` or `timeoutMs` passes. */
export async function watchDrain(probe: BufferProbe, opts: { everyMs: number; doneAtOrBelow: number; timeoutMs: number }): Promise<DrainResult> {
  const samples: DrainSample[] = [];
  const deadline = Date.now() + opts.timeoutMs;
  for (;;) {
    const s = { atMs: Date.now(), rows: probe.rows() };
    samples.push(s);
    if (s.rows <= opts.doneAtOrBelow) return { drained: true, samples, end: s };
    if (s.atMs > deadline) return { drained: false, samples, end: undefined };
    await sleep(opts.everyMs);
  }
}

/** Rejects naming `what` if `p` has not settled within `ms` (turns a hang into a readable failure). */
export async function within<T>(ms: number, what: string, p: Promise<T>): Promise<T> {
  let timer: NodeJS.Timeout | undefined;
  try {
    return await Promise.race([p, new Promise<never>((_, reject) => (timer = setTimeout(() => reject(new Error(`${what}: not done within ${ms} ms`)), ms)))]);
  } finally {
    clearTimeout(timer);
  }
}
