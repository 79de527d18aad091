/**
 * One SQLite engine, alone in this process (so its RSS is its own), through the buffer's shape:
 * the gateway's pragmas (WAL, synchronous as configured, busy_timeout, journal_size_limit), the
 * `records` table, group commits of N inserts in one transaction, then the drain: lease 5,000
 * rows (SELECT ... WHERE seq > ? ORDER BY seq LIMIT ?, rows as arrays) and delete them by range in
 * a transaction. Prints one JSON line. Run by bench/scenarios/node-sqlite.ts:
 *   node build/bench/lib/sqlite-engine-child.js better-sqlite3|node:sqlite DIR SYNCHRONOUS
 */
import { createRequire } from 'node:module';
import { join } from 'node:path';

const require = createRequire(import.meta.url);

type Value = string | number | Uint8Array;

/** The little the buffer needs from an engine. */
interface Engine {
  version: string;
  exec(sql: string): void;
  prepare(sql: string): { run(...args: Value[]): { changes: number | bigint }; rows(...args: Value[]): unknown[][] };
  tx(fn: () => void): void;
  close(): void;
}

function openBetterSqlite(path: string): Engine {
  const Database = require('better-sqlite3') as typeof import('better-sqlite3');
  const db = new Database(path);
  return {
    version: (db.prepare('SELECT sqlite_version() AS v').get() as { v: string }).v,
    exec: (sql) => db.exec(sql),
    prepare(sql) {
      const s = db.prepare(sql);
      const raw = s.reader ? s.raw(true) : undefined;
      return { run: (...a) => s.run(...a), rows: (...a) => raw!.all(...a) as unknown[][] };
    },
    // db.transaction(): BEGIN (deferred) / COMMIT, as the buffer's appendTx and ackTx.
    tx: (fn) => db.transaction(fn)(),
    close: () => db.close(),
  };
}

function openNodeSqlite(path: string): Engine {
  const { DatabaseSync } = require('node:sqlite') as typeof import('node:sqlite');
  const db = new DatabaseSync(path);
  const begin = db.prepare('BEGIN');
  const commit = db.prepare('COMMIT');
  const rollback = db.prepare('ROLLBACK');
  return {
    version: (db.prepare('SELECT sqlite_version() AS v').get() as { v: string }).v,
    exec: (sql) => db.exec(sql),
    prepare(sql) {
      const s = db.prepare(sql);
      s.setReturnArrays(true);
      return { run: (...a) => s.run(...a), rows: (...a) => s.all(...a) as unknown as unknown[][] };
    },
    // No transaction helper: the same BEGIN / COMMIT, prepared once.
    tx(fn) {
      begin.run();
      try {
        fn();
        commit.run();
      } catch (err) {
        rollback.run();
        throw err;
      }
    },
    close: () => db.close(),
  };
}

const mib = (bytes: number) => Math.round((bytes / 1024 / 1024) * 10) / 10;

function main(): void {
  const [engineName, dir, synchronous] = process.argv.slice(2);
  const t0 = performance.now();
  const db = (engineName === 'node:sqlite' ? openNodeSqlite : openBetterSqlite)(join(dir!, 'buffer.db'));
  db.exec('PRAGMA journal_mode = WAL');
  db.exec(`PRAGMA synchronous = ${synchronous}`);
  db.exec('PRAGMA busy_timeout = 5000');
  db.exec('PRAGMA journal_size_limit = 67108864');
  db.exec(`CREATE TABLE records (
    seq INTEGER PRIMARY KEY AUTOINCREMENT, device_id TEXT NOT NULL, topic TEXT NOT NULL,
    qos INTEGER NOT NULL, received_at INTEGER NOT NULL, payload BLOB NOT NULL)`);
  const openMs = performance.now() - t0;
  const rssOpen = process.memoryUsage().rss;

  const insert = db.prepare('INSERT INTO records (device_id, topic, qos, received_at, payload) VALUES (?, ?, ?, ?, ?)');
  const lease = db.prepare('SELECT seq, device_id, topic, qos, received_at, payload FROM records WHERE seq > ? ORDER BY seq LIMIT ?');
  const del = db.prepare('DELETE FROM records WHERE seq >= ? AND seq <= ?');
  const payload = Buffer.alloc(150, 'x');
  const devices = Array.from({ length: 1000 }, (_, i) => `dev-${String(i).padStart(6, '0')}`);
  let n = 0;
  const group = (size: number) =>
    db.tx(() => {
      for (let i = 0; i < size; i++, n++) {
        const d = devices[n % devices.length]!;
        insert.run(d, `devices/${d}/telemetry`, 1, Date.now(), payload);
      }
    });

  // Group commits for a fixed time each: 32 records (light load) and 512 (a busy tick).
  const commit: Record<string, { rowsPerSec: number; commitsPerSec: number }> = {};
  for (const size of [32, 512]) {
    const start = performance.now();
    let commits = 0;
    const n0 = n;
    while (performance.now() - start < 3000) {
      group(size);
      commits++;
    }
    const secs = (performance.now() - start) / 1000;
    commit[size] = { rowsPerSec: Math.round((n - n0) / secs), commitsPerSec: Math.round(commits / secs) };
  }
  const rssCommit = process.memoryUsage().rss;

  // Fill to a backlog, then drain it the pump's way.
  while (n < 300_000) group(4096);
  const drainStart = performance.now();
  let after = 0;
  let drained = 0;
  for (;;) {
    const rows = lease.rows(after, 5000);
    if (rows.length === 0) break;
    const first = Number(rows[0]![0]);
    const last = Number(rows[rows.length - 1]![0]);
    db.tx(() => {
      drained += Number(del.run(first, last).changes);
    });
    after = last;
  }
  const drainSecs = (performance.now() - drainStart) / 1000;
  const rssDrain = process.memoryUsage().rss;
  db.close();
  process.stdout.write(
    `${JSON.stringify({
      engine: engineName,
      sqlite: db.version,
      openMs: Math.round(openMs * 10) / 10,
      commit,
      drain: { rows: drained, rowsPerSec: Math.round(drained / drainSecs) },
      rssMiB: { open: mib(rssOpen), afterCommits: mib(rssCommit), afterDrain: mib(rssDrain), peak: mib(process.resourceUsage().maxRSS * 1024) },
    })}\n`,
  );
}

main();
