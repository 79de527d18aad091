/**
 * A gateway's SQLite buffer seen from tests: a buffer on a database the test opened (as gateway.ts
 * wires it), and read-only views of a running gateway's file (a second connection).
 */
import { readFileSync } from 'node:fs';
import Database from 'better-sqlite3';
import { closeBufferDatabase, createSqliteBuffer, openBufferDatabase, type BufferDatabaseOptions, type SqliteBuffer, type SqliteBufferOptions } from '../../gateway/src/buffer/sqlite-buffer.js';

export interface TestBuffer {
  buffer: SqliteBuffer;
  /** The database the buffer works on: tests read its tables through it. */
  db: Database.Database;
  /** Closes the buffer, then the database (twice is safe). */
  close(): void;
}

export function openTestBuffer(opts: BufferDatabaseOptions & Partial<SqliteBufferOptions>): TestBuffer {
  const db = openBufferDatabase(opts);
  const buffer = createSqliteBuffer(db, { deadLetterMaxRows: opts.deadLetterMaxRows ?? 1000, dropLogMaxRows: opts.dropLogMaxRows });
  return {
    buffer,
    db,
    close() {
      buffer.close();
      closeBufferDatabase(db);
    },
  };
}

export interface BufferSnapshot {
  rows: number;
  accountedBytes: number;
  dropLogRows: number;
  deadLetters: number;
}

export function snapshotBuffer(dbPath: string): BufferSnapshot | null {
  let db: Database.Database;
  try {
    db = new Database(dbPath, { readonly: true, fileMustExist: true });
  } catch {
    return null;
  }
  try {
    // UTF-8 bytes as the buffer counts them (accountedBytes): length() of TEXT counts characters.
    const r = db
      .prepare('SELECT count(*) AS n, coalesce(sum(length(payload) + length(CAST(topic AS BLOB)) + length(CAST(device_id AS BLOB)) + 64), 0) AS b FROM records')
      .get() as { n: number; b: number };
    const d = db.prepare('SELECT count(*) AS n FROM drop_log').get() as { n: number };
    const dl = db.prepare('SELECT count(*) AS n FROM dead_letters').get() as { n: number };
    return { rows: r.n, accountedBytes: r.b, dropLogRows: d.n, deadLetters: dl.n };
  } catch {
    return null; // schema not created yet
  } finally {
    db.close();
  }
}

/** Process RSS in bytes from /proc (Linux). */
export function rssBytes(pid: number): number | null {
  try {
    const status = readFileSync(`/proc/${pid}/status`, 'utf8');
    const m = /VmRSS:\s+(\d+) kB/.exec(status);
    return m ? Number(m[1]) * 1024 : null;
  } catch {
    return null;
  }
}
