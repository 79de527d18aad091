/**
 * SQLite store of the crash guard (table `crash_guard`, one row, id = 1, migration v2), in the
 * buffer's own database so it is backed up and moved with the rows it names. Statements are
 * prepared at start: the crash handler only runs them (better-sqlite3 is synchronous).
 */
import type { Database as Db, Statement } from 'better-sqlite3';
import { nextCrashGuard, type CrashGuard, type CrashGuardStore, type SeqRange } from './crash-guard.js';

interface GuardRow {
  first_seq: number;
  last_seq: number;
  crashes: number;
  last_code: string;
  updated_at: number;
}

export class SqliteCrashGuard implements CrashGuardStore {
  private readonly select: Statement<[], GuardRow>;
  private readonly upsert: Statement<[number, number, number, string, number]>;
  private readonly remove: Statement<[]>;

  /** `inFlight` returns the rows leased and not yet acknowledged (SqliteBuffer.leasedRange). */
  constructor(
    private readonly db: Db,
    private readonly inFlight: () => SeqRange | null,
  ) {
    this.select = db.prepare('SELECT first_seq, last_seq, crashes, last_code, updated_at FROM crash_guard WHERE id = 1');
    this.upsert = db.prepare(
      `INSERT INTO crash_guard (id, first_seq, last_seq, crashes, last_code, updated_at) VALUES (1, ?, ?, ?, ?, ?)
       ON CONFLICT (id) DO UPDATE SET first_seq = excluded.first_seq, last_seq = excluded.last_seq,
         crashes = excluded.crashes, last_code = excluded.last_code, updated_at = excluded.updated_at`,
    );
    this.remove = db.prepare('DELETE FROM crash_guard WHERE id = 1');
  }

  read(): CrashGuard | null {
    const r = this.select.get();
    return r === undefined ? null : { firstSeq: r.first_seq, lastSeq: r.last_seq, crashes: r.crashes, lastCode: r.last_code, updatedAt: r.updated_at };
  }

  clear(): void {
    this.remove.run();
  }

  recordCrash(code: string): CrashGuard | null {
    const range = this.inFlight();
    if (range === null) return null;
    const next = nextCrashGuard(this.read(), range, code, Date.now());
    this.upsert.run(next.firstSeq, next.lastSeq, next.crashes, next.lastCode, next.updatedAt);
    return next;
  }
}

export function createSqliteCrashGuard(db: Db, inFlight: () => SeqRange | null): SqliteCrashGuard {
  return new SqliteCrashGuard(db, inFlight);
}
