/** Read-only views of a gateway's SQLite buffer from the test process (a second connection). */
import { readFileSync } from 'node:fs';
import Database from 'better-sqlite3';

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
    const r = db.prepare('SELECT count(*) AS n, coalesce(sum(length(payload) + length(topic) + length(device_id) + 64), 0) AS b FROM records').get() as { n: number; b: number };
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

export async function waitFor<T>(what: string, fn: () => T | null | undefined | false, timeoutMs = 60_000, everyMs = 100): Promise<T> {
  const deadline = Date.now() + timeoutMs;
  for (;;) {
    const v = fn();
    if (v) return v;
    if (Date.now() > deadline) throw new Error(`timed out waiting for ${what}`);
    await new Promise((r) => setTimeout(r, everyMs));
  }
}
