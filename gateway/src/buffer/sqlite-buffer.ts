/**
 * SQLite (WAL) implementation of the durable buffer. One writer (this process). Statements are
 * prepared once; append/ack are single transactions so a crash leaves either all or none.
 *
 * Durability: `synchronous=FULL` fsyncs the WAL on every commit, so a committed (and therefore
 * PUBACKed) row survives power loss. `NORMAL` survives a process crash but may lose the last
 * commits on power loss (WAL is synced only at checkpoints). `EXTRA` also syncs the directory.
 */
import { mkdirSync } from 'node:fs';
import { dirname } from 'node:path';
import Database, { type Database as Db, type Statement } from 'better-sqlite3';
import { gatewayError, GatewayError } from '../errors.js';
import type { DeadLetter, IngestRecord, Lease, StoredRecord } from '../record.js';
import { accountedBytes, type BufferStats, type TelemetryBuffer } from './buffer.js';
import { migrate } from './migrations.js';

export interface SqliteBufferOptions {
  path: string;
  synchronous: 'FULL' | 'NORMAL' | 'EXTRA';
  deadLetterMaxRows: number;
  /** Native addon path for single-executable builds (better-sqlite3 `nativeBinding`). */
  nativeBinding?: string | undefined;
}

interface RecordRow {
  seq: number;
  device_id: string;
  topic: string;
  qos: 0 | 1 | 2;
  received_at: number;
  payload: Buffer;
}

export class SqliteBuffer implements TelemetryBuffer {
  private readonly db: Db;
  private readonly insertRecord: Statement;
  private readonly selectAfter: Statement<[number, number], RecordRow>;
  private readonly deleteRange: Statement<[number, number]>;
  private readonly insertDeadLetter: Statement;
  private readonly trimDeadLetters: Statement<[number]>;
  private readonly oldestRow: Statement<[], { received_at: number }>;
  private readonly appendTx: (records: readonly IngestRecord[], count: number) => void;
  private readonly ackTx: (lease: Lease, deadLetters: readonly DeadLetter[]) => number;

  private leasedUpTo = 0;
  private rows = 0;
  private bytes = 0;
  private oldestReceivedAt: number | null = null;
  private deadLetterRows = 0;
  private appendedTotal = 0;
  private ackedTotal = 0;
  private deadLetteredTotal = 0;
  private readonly droppedTotal: Record<string, number> = {};
  private closed = false;

  constructor(private readonly opts: SqliteBufferOptions) {
    try {
      if (opts.path !== ':memory:') mkdirSync(dirname(opts.path), { recursive: true });
      this.db = new Database(opts.path, opts.nativeBinding ? { nativeBinding: opts.nativeBinding } : {});
      this.db.pragma('journal_mode = WAL');
      this.db.pragma(`synchronous = ${opts.synchronous}`);
      this.db.pragma('busy_timeout = 5000');
      // Keep the WAL from growing without bound between checkpoints.
      this.db.pragma('journal_size_limit = 67108864');
    } catch (cause) {
      throw gatewayError('GW_ERR_BUFFER_OPEN', `${opts.path}: ${(cause as Error).message}`, { cause });
    }
    migrate(this.db);

    this.insertRecord = this.db.prepare('INSERT INTO records (device_id, topic, qos, received_at, payload) VALUES (?, ?, ?, ?, ?)');
    this.selectAfter = this.db.prepare('SELECT seq, device_id, topic, qos, received_at, payload FROM records WHERE seq > ? ORDER BY seq LIMIT ?');
    this.deleteRange = this.db.prepare('DELETE FROM records WHERE seq >= ? AND seq <= ?');
    this.insertDeadLetter = this.db.prepare(
      'INSERT INTO dead_letters (seq, device_id, topic, received_at, code, reason, payload, dead_at) VALUES (?, ?, ?, ?, ?, ?, ?, ?)',
    );
    this.trimDeadLetters = this.db.prepare('DELETE FROM dead_letters WHERE id <= (SELECT max(id) FROM dead_letters) - ?');
    this.oldestRow = this.db.prepare('SELECT received_at FROM records ORDER BY seq LIMIT 1');

    this.appendTx = this.db.transaction((records: readonly IngestRecord[], count: number) => {
      for (let i = 0; i < count; i++) {
        const r = records[i]!;
        this.insertRecord.run(r.deviceId, r.topic, r.qos, r.receivedAt, r.payload);
      }
    });
    this.ackTx = this.db.transaction((lease: Lease, deadLetters: readonly DeadLetter[]) => {
      const now = Date.now();
      for (const dl of deadLetters) {
        const r = dl.record;
        this.insertDeadLetter.run(r.seq, r.deviceId, r.topic, r.receivedAt, dl.code, dl.reason, r.payload, now);
      }
      if (deadLetters.length > 0) this.trimDeadLetters.run(this.opts.deadLetterMaxRows);
      return this.deleteRange.run(lease.firstSeq, lease.lastSeq).changes;
    });

    this.recount();
  }

  /** Recomputes the in-memory accounting from disk (at open; cheap relative to a restart). */
  private recount(): void {
    const agg = this.db
      .prepare('SELECT count(*) AS n, coalesce(sum(length(payload) + length(topic) + length(device_id)), 0) AS b FROM records')
      .get() as { n: number; b: number };
    this.rows = agg.n;
    this.bytes = agg.b + agg.n * 64;
    this.oldestReceivedAt = this.oldestRow.get()?.received_at ?? null;
    this.deadLetterRows = (this.db.prepare('SELECT count(*) AS n FROM dead_letters').get() as { n: number }).n;
  }

  append(records: readonly IngestRecord[], count = records.length): void {
    if (this.closed) throw gatewayError('GW_ERR_BUFFER_CLOSED');
    if (count === 0) return;
    try {
      this.appendTx(records, count);
    } catch (cause) {
      throw wrapWriteError(cause);
    }
    let added = 0;
    for (let i = 0; i < count; i++) added += accountedBytes(records[i]!);
    if (this.rows === 0) this.oldestReceivedAt = records[0]!.receivedAt;
    this.rows += count;
    this.bytes += added;
    this.appendedTotal += count;
  }

  lease(maxRecords: number, maxBytes: number): Lease | null {
    if (this.closed) throw gatewayError('GW_ERR_BUFFER_CLOSED');
    const rows = this.selectAfter.all(this.leasedUpTo, maxRecords);
    if (rows.length === 0) return null;
    const records: StoredRecord[] = [];
    let bytes = 0;
    for (const row of rows) {
      const size = row.payload.length + row.topic.length + row.device_id.length;
      // Always take at least one row so an oversized record cannot stall the queue.
      if (records.length > 0 && bytes + size > maxBytes) break;
      bytes += size;
      records.push({ deviceId: row.device_id, topic: row.topic, qos: row.qos, receivedAt: row.received_at, payload: row.payload, seq: row.seq });
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
    let freed = 0;
    for (const r of lease.records) freed += accountedBytes(r);
    this.rows -= deleted;
    this.bytes -= freed;
    if (this.rows <= 0) {
      this.rows = 0;
      this.bytes = 0;
      this.oldestReceivedAt = null;
    } else {
      this.oldestReceivedAt = this.oldestRow.get()?.received_at ?? null;
    }
    this.ackedTotal += lease.records.length - deadLetters.length;
    this.deadLetteredTotal += deadLetters.length;
    this.deadLetterRows = Math.min(this.deadLetterRows + deadLetters.length, this.opts.deadLetterMaxRows);
  }

  resetLeases(): void {
    this.leasedUpTo = 0;
  }

  stats(): BufferStats {
    return {
      rows: this.rows,
      bytes: this.bytes,
      oldestReceivedAt: this.oldestReceivedAt,
      deadLetterRows: this.deadLetterRows,
      appendedTotal: this.appendedTotal,
      ackedTotal: this.ackedTotal,
      deadLetteredTotal: this.deadLetteredTotal,
      droppedTotal: { ...this.droppedTotal },
    };
  }

  /** Read-only access for tools (dead-letter inspection, drop log export). */
  get database(): Db {
    return this.db;
  }

  close(): void {
    if (this.closed) return;
    this.closed = true;
    try {
      this.db.pragma('wal_checkpoint(TRUNCATE)');
    } finally {
      this.db.close();
    }
  }
}

const DISK_FULL_CODES = new Set(['SQLITE_FULL']);

function wrapWriteError(cause: unknown): GatewayError {
  const code = (cause as { code?: string }).code ?? '';
  if (DISK_FULL_CODES.has(code)) return gatewayError('GW_ERR_BUFFER_DISK_FULL', (cause as Error).message, { cause, details: { sqliteCode: code } });
  return gatewayError('GW_ERR_BUFFER_WRITE', `${code} ${(cause as Error).message}`.trim(), { cause, details: { sqliteCode: code } });
}

export function createSqliteBuffer(opts: SqliteBufferOptions): SqliteBuffer {
  return new SqliteBuffer(opts);
}
