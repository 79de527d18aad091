/**
 * SQLite (WAL) implementation of the durable buffer. One writer (this process). Statements are
 * prepared once; append/ack/evict are single transactions so a crash leaves all or nothing.
 *
 * Durability: `synchronous=FULL` fsyncs the WAL on every commit, so a committed (and therefore
 * PUBACKed) row survives power loss. `NORMAL` survives a process crash but may lose the commits
 * since the last checkpoint on power loss (the WAL is synced only before a checkpoint). `EXTRA`
 * only adds a directory sync after a rollback journal is deleted, which WAL mode never does: in
 * WAL mode it is FULL (test/system/power-cut.test.ts cuts the power under each).
 */
import { createPrivateFile } from '../lib/private-file.js';
import Database, { type Database as Db, type Statement } from 'better-sqlite3';
import { gatewayError, GatewayError } from '../errors.js';
import type { DeadLetter, IngestRecord, Lease, StoredRecord } from '../record.js';
import { accountedBytes, DropReason, ROW_OVERHEAD_BYTES, type AppendOptions, type AppendResult, type BufferStats, type TelemetryBuffer } from './buffer.js';
import { migrate } from './migrations.js';

export interface SqliteBufferOptions {
  deadLetterMaxRows: number;
  /** Rows kept in the drop log (oldest removed first). */
  dropLogMaxRows?: number;
}

/** Where the buffer's database file is and how it is opened (openBufferDatabase). */
export interface BufferDatabaseOptions {
  path: string;
  synchronous: 'FULL' | 'NORMAL' | 'EXTRA';
  /** Native addon path for single-executable builds (better-sqlite3 `nativeBinding`). */
  nativeBinding?: string | undefined;
}

/** A raw row of selectAfter: seq, device_id, topic, qos, received_at, payload. */
type RecordRow = [number, string, string, 0 | 1 | 2, number, Buffer];

interface VictimRow {
  seq: number;
  device_id: string;
  received_at: number;
  size: number;
  head: Buffer;
}

/** Bytes of the payload kept in the drop log: enough for the auditor to read the device's seq. */
const DROP_LOG_HEAD_BYTES = 256;
const EVICT_CHUNK = 512;
/** Same byte accounting as accountedBytes() (UTF-8 bytes, not characters), minus the overhead. */
const SQL_ROW_BYTES = 'length(payload) + length(CAST(topic AS BLOB)) + length(CAST(device_id AS BLOB))';

/**
 * The buffer works on a database it is given (openBufferDatabase) and does not close it: the
 * opener owns the file, which also holds the crash guard, device credentials, schema ids and
 * control records (one file to back up), and closes it after the buffer (closeBufferDatabase).
 */
export class SqliteBuffer implements TelemetryBuffer {
  private readonly insertRecord: Statement;
  private readonly selectAfter: Statement<[number, number], RecordRow>;
  private readonly deleteRange: Statement<[number, number]>;
  private readonly deleteOne: Statement<[number]>;
  private readonly insertDeadLetter: Statement;
  private readonly trimDeadLetters: Statement<[number]>;
  private readonly oldestRow: Statement<[], { received_at: number }>;
  private readonly firstSeqRow: Statement<[], { s: number | null }>;
  private readonly selectVictims: Statement<[number, number], VictimRow>;
  private readonly selectExpired: Statement<[number, number, number], VictimRow>;
  private readonly insertDrop: Statement;
  private readonly trimDropLog: Statement<[number]>;
  private readonly appendTx: (records: readonly IngestRecord[], count: number, incoming: number, cap: number, evict: boolean) => AppendResult;
  private readonly ackTx: (lease: Lease, deadLetters: readonly DeadLetter[]) => number;
  private readonly expireTx: (cutoff: number) => number;

  private leasedUpTo = 0;
  private rows = 0;
  private bytes = 0;
  private oldestReceivedAt: number | null = null;
  private deadLetterRows = 0;
  private appendedTotal = 0;
  private ackedTotal = 0;
  private readonly deadLettered: Record<string, number> = {};
  private readonly droppedTotal: Record<DropReason, number> = { overflow: 0, expired: 0 };
  private closed = false;

  constructor(
    private readonly db: Db,
    private readonly opts: SqliteBufferOptions,
  ) {
    this.insertRecord = db.prepare('INSERT INTO records (device_id, topic, qos, received_at, payload) VALUES (?, ?, ?, ?, ?)');
    // raw(): rows as arrays, so the lease builds one object per record instead of two.
    this.selectAfter = db.prepare('SELECT seq, device_id, topic, qos, received_at, payload FROM records WHERE seq > ? ORDER BY seq LIMIT ?').raw(true) as unknown as Statement<[number, number], RecordRow>;
    this.deleteRange = db.prepare('DELETE FROM records WHERE seq >= ? AND seq <= ?');
    this.deleteOne = db.prepare('DELETE FROM records WHERE seq = ?');
    this.insertDeadLetter = db.prepare(
      'INSERT INTO dead_letters (seq, device_id, topic, received_at, code, reason, payload, dead_at) VALUES (?, ?, ?, ?, ?, ?, ?, ?)',
    );
    this.trimDeadLetters = db.prepare('DELETE FROM dead_letters WHERE id <= (SELECT max(id) FROM dead_letters) - ?');
    this.oldestRow = db.prepare('SELECT received_at FROM records ORDER BY seq LIMIT 1');
    this.firstSeqRow = db.prepare('SELECT min(seq) AS s FROM records');
    const victimCols = `seq, device_id, received_at, ${SQL_ROW_BYTES} AS size, substr(payload, 1, ${DROP_LOG_HEAD_BYTES}) AS head`;
    this.selectVictims = db.prepare(`SELECT ${victimCols} FROM records WHERE seq > ? ORDER BY seq LIMIT ?`);
    this.selectExpired = db.prepare(`SELECT ${victimCols} FROM records WHERE seq > ? AND received_at < ? ORDER BY seq LIMIT ?`);
    this.insertDrop = db.prepare('INSERT INTO drop_log (seq, device_id, reason, received_at, payload_head, dropped_at) VALUES (?, ?, ?, ?, ?, ?)');
    this.trimDropLog = db.prepare('DELETE FROM drop_log WHERE id <= (SELECT max(id) FROM drop_log) - ?');

    this.appendTx = db.transaction((records: readonly IngestRecord[], count: number, incoming: number, cap: number, evict: boolean): AppendResult => {
      let evicted = 0;
      // An empty buffer always takes one group, so a cap smaller than a group cannot deadlock.
      if (this.rows > 0 && this.bytes + incoming > cap) {
        if (evict) evicted = this.evictLocked(this.bytes + incoming - cap);
        if (this.rows > 0 && this.bytes + incoming > cap) {
          // block policy, or everything left is in flight: the caller holds the publishes.
          return { committed: false, evicted };
        }
      }
      for (let i = 0; i < count; i++) {
        const r = records[i]!;
        this.insertRecord.run(r.deviceId, r.topic, r.qos, r.receivedAt, r.payload);
      }
      return { committed: true, evicted };
    });
    this.ackTx = db.transaction((lease: Lease, deadLetters: readonly DeadLetter[]) => {
      const now = Date.now();
      for (const dl of deadLetters) {
        const r = dl.record;
        this.insertDeadLetter.run(r.seq, r.deviceId, r.topic, r.receivedAt, dl.code, dl.reason, r.payload, now);
      }
      if (deadLetters.length > 0) this.trimDeadLetters.run(this.opts.deadLetterMaxRows);
      if (!lease.sparse) return this.deleteRange.run(lease.firstSeq, lease.lastSeq).changes;
      let deleted = 0;
      for (const r of lease.records) deleted += this.deleteOne.run(r.seq).changes;
      return deleted;
    });
    this.expireTx = db.transaction((cutoff: number) => {
      let dropped = 0;
      for (;;) {
        const victims = this.selectExpired.all(this.leasedUpTo, cutoff, EVICT_CHUNK);
        if (victims.length === 0) break;
        this.dropLocked(victims, DropReason.expired);
        dropped += victims.length;
        if (victims.length < EVICT_CHUNK) break;
      }
      return dropped;
    });

    this.recount();
  }

  /** Recomputes the in-memory accounting from disk (at open; cheap relative to a restart). */
  private recount(): void {
    const agg = this.db
      .prepare(`SELECT count(*) AS n, coalesce(sum(${SQL_ROW_BYTES}), 0) AS b FROM records`)
      .get() as { n: number; b: number };
    this.rows = agg.n;
    this.bytes = agg.b + agg.n * ROW_OVERHEAD_BYTES;
    this.oldestReceivedAt = this.oldestRow.get()?.received_at ?? null;
    this.deadLetterRows = (this.db.prepare('SELECT count(*) AS n FROM dead_letters').get() as { n: number }).n;
  }

  /** Inside a transaction: evict the oldest unleased rows until `need` bytes are freed. */
  private evictLocked(need: number): number {
    let freed = 0;
    let evicted = 0;
    while (freed < need) {
      const victims = this.selectVictims.all(this.leasedUpTo, EVICT_CHUNK);
      if (victims.length === 0) break;
      let take = 0;
      while (take < victims.length && freed < need) {
        freed += victims[take]!.size + ROW_OVERHEAD_BYTES;
        take++;
      }
      this.dropLocked(take === victims.length ? victims : victims.slice(0, take), DropReason.overflow);
      evicted += take;
    }
    return evicted;
  }

  /** Inside a transaction: log and delete a contiguous run of unleased rows. */
  private dropLocked(victims: readonly VictimRow[], reason: DropReason): void {
    const now = Date.now();
    let freed = 0;
    for (const v of victims) {
      this.insertDrop.run(v.seq, v.device_id, reason, v.received_at, v.head, now);
      freed += v.size + ROW_OVERHEAD_BYTES;
    }
    // Row by row: expired victims need not be contiguous (a clock step makes received_at
    // non-monotonic), and a range delete would take rows in between without logging them.
    for (const v of victims) this.deleteOne.run(v.seq);
    this.trimDropLog.run(this.opts.dropLogMaxRows ?? 1_000_000);
    this.rows -= victims.length;
    this.bytes -= freed;
    this.droppedTotal[reason] += victims.length;
  }

  append(records: readonly IngestRecord[], count = records.length, opts?: AppendOptions): AppendResult {
    if (this.closed) throw gatewayError('GW_ERR_BUFFER_CLOSED');
    if (count === 0) return { committed: true, evicted: 0 };
    let incoming = 0;
    for (let i = 0; i < count; i++) incoming += accountedBytes(records[i]!);
    const before = { rows: this.rows, bytes: this.bytes, dropped: { ...this.droppedTotal } };
    let result: AppendResult;
    try {
      result = this.appendTx(records, count, incoming, opts?.capBytes ?? Number.POSITIVE_INFINITY, opts?.evictOldest ?? false);
    } catch (cause) {
      // The transaction rolled back: so must the accounting done inside it.
      this.rows = before.rows;
      this.bytes = before.bytes;
      Object.assign(this.droppedTotal, before.dropped);
      throw wrapWriteError(cause);
    }
    if (result.committed) {
      this.rows += count;
      this.bytes += incoming;
      this.appendedTotal += count;
    }
    if (result.evicted > 0 || this.oldestReceivedAt === null) this.refreshOldest();
    return result;
  }

  lease(maxRecords: number, maxBytes: number): Lease | null {
    if (this.closed) throw gatewayError('GW_ERR_BUFFER_CLOSED');
    let rows: RecordRow[];
    try {
      rows = this.selectAfter.all(this.leasedUpTo, maxRecords);
    } catch (cause) {
      throw wrapWriteError(cause);
    }
    if (rows.length === 0) return null;
    const records: StoredRecord[] = [];
    let bytes = 0;
    for (const row of rows) {
      const size = row[5].length + row[2].length + row[1].length; // batch sizing only
      // Always take at least one row so an oversized record cannot stall the queue.
      if (records.length > 0 && bytes + size > maxBytes) break;
      bytes += size;
      records.push({ deviceId: row[1], topic: row[2], qos: row[3], receivedAt: row[4], payload: row[5], seq: row[0] });
    }
    const firstSeq = records[0]!.seq;
    const lastSeq = records[records.length - 1]!.seq;
    this.leasedUpTo = lastSeq;
    return { records, firstSeq, lastSeq };
  }

  ack(lease: Lease, deadLetters: readonly DeadLetter[]): void {
    if (this.closed) throw gatewayError('GW_ERR_BUFFER_CLOSED');
    let deleted: number;
    try {
      deleted = this.ackTx(lease, deadLetters);
    } catch (cause) {
      throw wrapWriteError(cause);
    }
    // Leased rows are never dropped, so every leased row was still there to delete.
    let freed = 0;
    for (const r of lease.records) freed += accountedBytes(r);
    this.rows -= deleted;
    this.bytes -= freed;
    if (this.rows <= 0) {
      this.rows = 0;
      this.bytes = 0;
    }
    this.refreshOldest();
    this.ackedTotal += lease.records.length - deadLetters.length;
    for (const d of deadLetters) this.deadLettered[d.code] = (this.deadLettered[d.code] ?? 0) + 1;
    this.deadLetterRows = Math.min(this.deadLetterRows + deadLetters.length, this.opts.deadLetterMaxRows);
  }

  expire(cutoffMs: number): number {
    if (this.closed) return 0;
    const before = { rows: this.rows, bytes: this.bytes, expired: this.droppedTotal.expired };
    let n: number;
    try {
      n = this.expireTx(cutoffMs);
    } catch (cause) {
      this.rows = before.rows;
      this.bytes = before.bytes;
      this.droppedTotal.expired = before.expired;
      throw wrapWriteError(cause);
    }
    if (n > 0) this.refreshOldest();
    return n;
  }

  private refreshOldest(): void {
    this.oldestReceivedAt = this.rows > 0 ? (this.oldestRow.get()?.received_at ?? null) : null;
  }

  /**
   * Rows leased and not yet acknowledged (in flight, or acked by Kafka with the delete pending),
   * or null. Leases go out in seq order and every row below a lease is acked or still leased,
   * so this is [lowest buffered seq, highest leased seq]. One query; for the crash handler.
   */
  leasedRange(): { firstSeq: number; lastSeq: number } | null {
    if (this.closed || this.leasedUpTo === 0) return null;
    const first = this.firstSeqRow.get()?.s ?? null;
    return first === null || first > this.leasedUpTo ? null : { firstSeq: first, lastSeq: this.leasedUpTo };
  }

  resetLeases(): void {
    this.leasedUpTo = 0;
  }

  stats(): BufferStats {
    let deadLetteredTotal = 0;
    for (const code in this.deadLettered) deadLetteredTotal += this.deadLettered[code]!;
    return {
      rows: this.rows,
      bytes: this.bytes,
      oldestReceivedAt: this.oldestReceivedAt,
      deadLetterRows: this.deadLetterRows,
      appendedTotal: this.appendedTotal,
      ackedTotal: this.ackedTotal,
      deadLetteredTotal,
      deadLetteredByCode: { ...this.deadLettered },
      droppedTotal: { ...this.droppedTotal },
    };
  }

  /** Stops using the database; the caller closes it (closeBufferDatabase). Twice is safe. */
  close(): void {
    this.closed = true;
  }
}

/**
 * Opens the buffer's database with the gateway's pragmas (WAL, busy timeout) and migrates it to
 * the current schema: the one open path for the gateway (buffer and the stores in the same file)
 * and for tools that work on the same file while a gateway runs (`edge-gateway devices`).
 */
export function openBufferDatabase(opts: BufferDatabaseOptions): Db {
  const db = openDatabase(opts);
  try {
    migrate(db);
  } catch (err) {
    db.close();
    throw err;
  }
  return db;
}

function openDatabase(opts: BufferDatabaseOptions): Db {
  let db: Db | null = null;
  try {
    // Telemetry and device credentials: owner-only (dir 0700, db 0600; -wal/-shm inherit 0600).
    if (opts.path !== ':memory:') createPrivateFile(opts.path);
    db = new Database(opts.path, opts.nativeBinding ? { nativeBinding: opts.nativeBinding } : {});
    db.pragma('journal_mode = WAL');
    db.pragma(`synchronous = ${opts.synchronous}`);
    db.pragma('busy_timeout = 5000');
    // Keep the WAL from growing without bound between checkpoints.
    db.pragma('journal_size_limit = 67108864');
    return db;
  } catch (cause) {
    db?.close();
    throw gatewayError('GW_ERR_BUFFER_OPEN', `${opts.path}: ${(cause as Error).message}`, { cause });
  }
}

function wrapWriteError(cause: unknown): GatewayError {
  const code = (cause as { code?: string }).code ?? '';
  if (code === 'SQLITE_FULL') return gatewayError('GW_ERR_BUFFER_DISK_FULL', (cause as Error).message, { cause, details: { sqliteCode: code } });
  return gatewayError('GW_ERR_BUFFER_WRITE', `${code} ${(cause as Error).message}`.trim(), { cause, details: { sqliteCode: code } });
}

/** Checkpoints the WAL into the main file and closes the database. Twice is safe. */
export function closeBufferDatabase(db: Db): void {
  if (!db.open) return;
  try {
    db.pragma('wal_checkpoint(TRUNCATE)');
  } catch {
    // A full disk can refuse the checkpoint; the WAL is replayed at next open. Still close.
  } finally {
    db.close();
  }
}

/** A buffer on `db`, a database from openBufferDatabase that the caller closes after the buffer. */
export function createSqliteBuffer(db: Db, opts: SqliteBufferOptions): SqliteBuffer {
  return new SqliteBuffer(db, opts);
}
