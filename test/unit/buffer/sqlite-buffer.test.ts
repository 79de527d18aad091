/**
 * SqliteBuffer on a real file in a temp dir: append/lease/ack accounting, persistence across
 * reopen (AUTOINCREMENT seqs never reused), pragmas, migrations and downgrade protection.
 */
import assert from 'node:assert/strict';
import { existsSync, mkdtempSync, readdirSync, readlinkSync, rmSync, statSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { test, type TestContext } from 'node:test';
import Database from 'better-sqlite3';
import { accountedBytes, ROW_OVERHEAD_BYTES } from '../../../gateway/src/buffer/buffer.js';
import { SCHEMA_VERSION } from '../../../gateway/src/buffer/migrations.js';
import { closeBufferDatabase, createSqliteBuffer, openBufferDatabase, type SqliteBufferOptions } from '../../../gateway/src/buffer/sqlite-buffer.js';
import { openTestBuffer, snapshotBuffer, type TestBuffer } from '../../support/buffer-db.js';
import { isGatewayError } from '../../../gateway/src/errors.js';
import type { IngestRecord, Lease, StoredRecord } from '../../../gateway/src/record.js';
import { tempDir } from '../../support/temp-dir.js';

/** A buffer on its own database; `db` reads the tables. */
function open(t: TestContext, path: string, over: Partial<SqliteBufferOptions & { synchronous: 'FULL' | 'NORMAL' | 'EXTRA' }> = {}): TestBuffer {
  const opened = openTestBuffer({ path, synchronous: 'FULL', deadLetterMaxRows: 1000, ...over });
  t.after(opened.close); // close twice is safe
  return opened;
}

function rec(i: number, over: Partial<IngestRecord> = {}): IngestRecord {
  return {
    deviceId: `dev-${i % 3}`,
    topic: `devices/dev-${i % 3}/telemetry`,
    qos: (i % 3) as 0 | 1 | 2,
    receivedAt: 1_700_000_000_000 + i,
    payload: Buffer.from(JSON.stringify({ seq: i, pad: 'x'.repeat(i % 7) })),
    ...over,
  };
}

const recs = (from: number, n: number) => Array.from({ length: n }, (_, k) => rec(from + k));
const bytesOf = (list: readonly IngestRecord[]) => list.reduce((s, r) => s + accountedBytes(r), 0);
const rowCount = (db: Database.Database) => (db.prepare('SELECT count(*) AS n FROM records').get() as { n: number }).n;

function expectCode(fn: () => unknown, code: string): void {
  let caught: unknown = null;
  try {
    fn();
  } catch (err) {
    caught = err;
  }
  assert.ok(isGatewayError(caught), `expected GatewayError ${code}, got ${String(caught)}`);
  assert.equal(caught.code, code);
}

test('append N in one call; lease returns them in seq order with every field', (t) => {
  const { buffer: b } = open(t, join(tempDir(t), 'sub', 'dir', 'buffer.db')); // parent dirs are created
  const input = recs(1, 10);
  b.append(input);
  const lease = b.lease(100, 1 << 20);
  assert.ok(lease);
  assert.equal(lease.records.length, 10);
  for (let i = 0; i < 10; i++) {
    const got: StoredRecord = lease.records[i]!;
    const want = input[i]!;
    assert.equal(got.deviceId, want.deviceId);
    assert.equal(got.topic, want.topic);
    assert.equal(got.qos, want.qos);
    assert.equal(got.receivedAt, want.receivedAt);
    assert.ok(Buffer.isBuffer(got.payload));
    assert.deepEqual(got.payload, want.payload);
    if (i > 0) assert.equal(got.seq, lease.records[i - 1]!.seq + 1, 'seqs are contiguous and increasing');
  }
  assert.equal(lease.firstSeq, lease.records[0]!.seq);
  assert.equal(lease.lastSeq, lease.records[9]!.seq);
  assert.equal(b.stats().rows, 10);
  assert.equal(b.stats().appendedTotal, 10);
  assert.equal(b.stats().bytes, bytesOf(input));
  assert.equal(b.stats().oldestReceivedAt, input[0]!.receivedAt);
});

test('append honors count (only the first `count` records) and count 0 is a no-op', (t) => {
  const { buffer: b, db } = open(t, join(tempDir(t), 'b.db'));
  const slab = recs(1, 5);
  b.append(slab, 2);
  b.append(slab, 0);
  assert.equal(rowCount(db), 2);
  assert.equal(b.stats().rows, 2);
  assert.equal(b.stats().bytes, bytesOf(slab.slice(0, 2)));
  assert.equal(b.lease(10, 1 << 20)?.records.length, 2);
});

test('lease on an empty buffer is null', (t) => {
  const { buffer: b } = open(t, join(tempDir(t), 'b.db'));
  assert.equal(b.lease(10, 1000), null);
  assert.deepEqual(
    { rows: b.stats().rows, bytes: b.stats().bytes, oldest: b.stats().oldestReceivedAt },
    { rows: 0, bytes: 0, oldest: null },
  );
});

test('lease honors maxRecords and maxBytes, but always returns at least one row', (t) => {
  const { buffer: b } = open(t, join(tempDir(t), 'b.db'));
  const payload = Buffer.alloc(100, 1);
  const input = Array.from({ length: 6 }, (_, i) => rec(i, { deviceId: 'd', topic: 't', payload }));
  b.append(input);
  const rowSize = 100 + 1 + 1; // payload + topic + deviceId, as the lease counts it

  const byCount = b.lease(2, 1 << 20);
  assert.equal(byCount?.records.length, 2);

  const byBytes = b.lease(100, rowSize * 3 + 1);
  assert.equal(byBytes?.records.length, 3);
  assert.equal(byBytes.firstSeq, byCount!.lastSeq + 1, 'second lease continues after the first');

  const oversized = b.lease(100, 10);
  assert.equal(oversized?.records.length, 1, 'a row larger than maxBytes still moves');
  assert.equal(oversized.firstSeq, byBytes.lastSeq + 1);
  assert.equal(b.lease(100, 1 << 20), null, 'everything leased');
});

test('ack deletes exactly the leased range and updates the stats', (t) => {
  const { buffer: b, db } = open(t, join(tempDir(t), 'b.db'));
  const input = recs(1, 6);
  b.append(input);
  const first = b.lease(4, 1 << 20)!;
  const second = b.lease(4, 1 << 20)!;
  assert.equal(second.records.length, 2);

  b.ack(first, []);
  const remaining = db.prepare('SELECT seq FROM records ORDER BY seq').all() as { seq: number }[];
  assert.deepEqual(
    remaining.map((r) => r.seq),
    second.records.map((r) => r.seq),
  );
  let st = b.stats();
  assert.equal(st.rows, 2);
  assert.equal(st.bytes, bytesOf(input.slice(4)));
  assert.equal(st.oldestReceivedAt, input[4]!.receivedAt);
  assert.equal(st.ackedTotal, 4);
  assert.equal(st.deadLetteredTotal, 0);

  b.ack(second, []);
  st = b.stats();
  assert.deepEqual({ rows: st.rows, bytes: st.bytes, oldest: st.oldestReceivedAt, acked: st.ackedTotal }, { rows: 0, bytes: 0, oldest: null, acked: 6 });
  assert.equal(rowCount(db), 0);
});

test('ack with dead letters stores them in dead_letters and counts them', (t) => {
  const { buffer: b, db } = open(t, join(tempDir(t), 'b.db'));
  b.append(recs(1, 4));
  const lease = b.lease(10, 1 << 20)!;
  const bad = lease.records[2]!;
  b.ack(lease, [{ record: bad, code: 'GW_ERR_ENCODE_SCHEMA_MISMATCH', reason: 'temperature="hot"' }]);
  const rows = db.prepare('SELECT seq, device_id, topic, received_at, code, reason, payload, dead_at FROM dead_letters').all() as Array<Record<string, unknown>>;
  assert.equal(rows.length, 1);
  const dl = rows[0]!;
  assert.equal(dl['seq'], bad.seq);
  assert.equal(dl['device_id'], bad.deviceId);
  assert.equal(dl['topic'], bad.topic);
  assert.equal(dl['received_at'], bad.receivedAt);
  assert.equal(dl['code'], 'GW_ERR_ENCODE_SCHEMA_MISMATCH');
  assert.equal(dl['reason'], 'temperature="hot"');
  assert.deepEqual(dl['payload'], bad.payload);
  assert.ok(typeof dl['dead_at'] === 'number' && dl['dead_at'] > 0);
  const st = b.stats();
  assert.equal(st.deadLetterRows, 1);
  assert.equal(st.deadLetteredTotal, 1);
  assert.equal(st.ackedTotal, 3);
  assert.equal(st.rows, 0);
});

test('dead_letters is trimmed to deadLetterMaxRows, oldest first', (t) => {
  const { buffer: b, db } = open(t, join(tempDir(t), 'b.db'), { deadLetterMaxRows: 2 });
  b.append(recs(1, 3));
  for (let i = 0; i < 3; i++) {
    const lease = b.lease(1, 1 << 20)!;
    b.ack(lease, [{ record: lease.records[0]!, code: 'X', reason: `r${i}` }]);
  }
  const reasons = (db.prepare('SELECT reason FROM dead_letters ORDER BY id').all() as { reason: string }[]).map((r) => r.reason);
  assert.deepEqual(reasons, ['r1', 'r2']);
  assert.equal(b.stats().deadLetterRows, 2);
  assert.equal(b.stats().deadLetteredTotal, 3);
});

test('close + reopen: rows persist, stats recounted, seq keeps increasing after everything was acked', (t) => {
  const path = join(tempDir(t), 'b.db');
  const { buffer: b1 } = open(t, path);
  const input = recs(1, 5);
  b1.append(input);
  const before = b1.stats();
  b1.close();
  b1.close(); // twice is safe

  const { buffer: b2 } = open(t, path);
  const st = b2.stats();
  assert.equal(st.rows, 5);
  assert.equal(st.bytes, before.bytes);
  assert.equal(st.oldestReceivedAt, input[0]!.receivedAt);
  assert.equal(st.appendedTotal, 0, 'totals count this process only');
  const lease = b2.lease(100, 1 << 20)!;
  assert.equal(lease.records.length, 5);
  assert.deepEqual(lease.records[4]!.payload, input[4]!.payload);
  const lastSeq = lease.lastSeq;
  b2.ack(lease, []);
  assert.equal(b2.stats().rows, 0);
  b2.close();

  const { buffer: b3 } = open(t, path);
  assert.equal(b3.stats().rows, 0);
  b3.append([rec(99)]);
  const next = b3.lease(10, 1 << 20)!;
  assert.equal(next.records.length, 1);
  assert.ok(next.firstSeq > lastSeq, `seq ${next.firstSeq} must not reuse <= ${lastSeq} (AUTOINCREMENT)`);
});

test(
  'byte accounting survives reopen for topics and device ids outside the BMP',
  (t) => {
    const path = join(tempDir(t), 'b.db');
    const { buffer: b1 } = open(t, path);
    b1.append([rec(1, { deviceId: 'sensor-😀', topic: 'devices/sensor-😀/telemetry' })]);
    const before = b1.stats().bytes;
    b1.close();
    const { buffer: b2 } = open(t, path);
    assert.equal(b2.stats().bytes, before);
  },
);

test('byte accounting survives reopen for accented (BMP) ids', (t) => {
  const path = join(tempDir(t), 'b.db');
  const { buffer: b1 } = open(t, path);
  const input = [rec(1, { deviceId: 'capteur-été', topic: 'devices/capteur-été/telemetry' }), rec(2)];
  b1.append(input);
  b1.close();
  const { buffer: b2 } = open(t, path);
  assert.equal(b2.stats().bytes, bytesOf(input));
  b2.ack(b2.lease(1, 1 << 20)!, []);
  assert.equal(b2.stats().bytes, bytesOf(input.slice(1)));
});

test('resetLeases makes leased rows leasable again', (t) => {
  const { buffer: b } = open(t, join(tempDir(t), 'b.db'));
  b.append(recs(1, 3));
  const first = b.lease(10, 1 << 20)!;
  assert.equal(b.lease(10, 1 << 20), null);
  b.resetLeases();
  const again = b.lease(10, 1 << 20)!;
  assert.equal(again.firstSeq, first.firstSeq);
  assert.equal(again.lastSeq, first.lastSeq);
});

test('journal_mode is wal and synchronous matches the option', (t) => {
  const dir = tempDir(t);
  const levels = { FULL: 2, NORMAL: 1, EXTRA: 3 } as const;
  for (const level of ['FULL', 'NORMAL', 'EXTRA'] as const) {
    const { buffer: b, db } = open(t, join(dir, `${level}.db`), { synchronous: level });
    assert.equal(db.pragma('journal_mode', { simple: true }), 'wal');
    assert.equal(db.pragma('synchronous', { simple: true }), levels[level]);
  }
});

test('migrations set user_version and create the tables', (t) => {
  const { buffer: b, db } = open(t, join(tempDir(t), 'b.db'));
  assert.ok(SCHEMA_VERSION >= 1);
  assert.equal(db.pragma('user_version', { simple: true }), SCHEMA_VERSION);
  const tables = (db.prepare("SELECT name FROM sqlite_master WHERE type = 'table' ORDER BY name").all() as { name: string }[]).map((r) => r.name);
  for (const name of ['dead_letters', 'drop_log', 'records']) assert.ok(tables.includes(name), `table ${name}`);
});

test('opening a database with a higher user_version fails with GW_ERR_BUFFER_MIGRATE', (t) => {
  const path = join(tempDir(t), 'future.db');
  const raw = new Database(path);
  raw.pragma(`user_version = ${SCHEMA_VERSION + 1}`);
  raw.close();
  expectCode(() => openBufferDatabase({ path, synchronous: 'FULL' }), 'GW_ERR_BUFFER_MIGRATE');
});

test('a path that cannot be opened fails with GW_ERR_BUFFER_OPEN', (t) => {
  const dir = tempDir(t);
  // The directory itself is not a database file.
  expectCode(() => openBufferDatabase({ path: dir, synchronous: 'FULL' }), 'GW_ERR_BUFFER_OPEN');
});

test('a file that is not a SQLite database fails with GW_ERR_BUFFER_OPEN', (t) => {
  const path = join(tempDir(t), 'garbage.db');
  writeFileSync(path, 'x'.repeat(4096));
  expectCode(() => openBufferDatabase({ path, synchronous: 'FULL' }), 'GW_ERR_BUFFER_OPEN');
});

/** File descriptors of this process open on `path` (Linux /proc). */
function openFds(path: string): number {
  return readdirSync('/proc/self/fd').filter((fd) => {
    try {
      return readlinkSync(`/proc/self/fd/${fd}`) === path;
    } catch {
      return false;
    }
  }).length;
}

test(
  'an open that fails after opening the database closes it again',
  {
    skip: existsSync('/proc/self/fd') ? false : 'needs /proc/self/fd',
  },
  (t) => {
    const dir = tempDir(t);
    const garbage = join(dir, 'garbage.db');
    writeFileSync(garbage, 'x'.repeat(4096));
    assert.throws(() => openBufferDatabase({ path: garbage, synchronous: 'FULL' }));
    const future = join(dir, 'future.db');
    const raw = new Database(future);
    raw.pragma(`user_version = ${SCHEMA_VERSION + 1}`);
    raw.close();
    assert.throws(() => openBufferDatabase({ path: future, synchronous: 'FULL' }));
    assert.equal(openFds(garbage), 0, 'garbage.db still open');
    assert.equal(openFds(future), 0, 'future.db still open');
  },
);

test('a failed append commits nothing and is a GW_ERR_BUFFER_WRITE with cause', (t) => {
  const { buffer: b, db } = open(t, join(tempDir(t), 'b.db'));
  b.append([rec(0)]);
  const before = b.stats();
  const bad = { ...rec(2), qos: null as unknown as 0 }; // violates NOT NULL inside the transaction
  let caught: unknown = null;
  try {
    b.append([rec(1), bad, rec(3)]);
  } catch (err) {
    caught = err;
  }
  assert.ok(isGatewayError(caught, 'GW_ERR_BUFFER_WRITE'), String(caught));
  assert.equal(caught.canRetry, true);
  assert.equal(caught.details?.['sqliteCode'], 'SQLITE_CONSTRAINT_NOTNULL');
  assert.ok(caught.cause instanceof Error);
  assert.equal(rowCount(db), 1);
  assert.deepEqual(b.stats(), before);
});

test('a failed append after evicting rolls back the eviction too (rows, drop log and counters)', (t) => {
  const { buffer: b, db } = open(t, join(tempDir(t), 'b.db'));
  const input = recs(1, 4);
  b.append(input);
  const before = b.stats();
  const bad = { ...rec(9), qos: null as unknown as 0 };
  assert.throws(() => b.append([rec(8), bad], 2, { capBytes: bytesOf(input), evictOldest: true }), (err: unknown) => isGatewayError(err, 'GW_ERR_BUFFER_WRITE'));
  assert.equal(rowCount(db), 4);
  assert.equal((db.prepare('SELECT count(*) AS n FROM drop_log').get() as { n: number }).n, 0);
  assert.deepEqual(b.stats(), before);
});

test('after close every operation is GW_ERR_BUFFER_CLOSED', (t) => {
  const { buffer: b } = open(t, join(tempDir(t), 'b.db'));
  b.append([rec(1)]);
  const lease: Lease = b.lease(1, 1000)!;
  b.close();
  expectCode(() => b.append([rec(2)]), 'GW_ERR_BUFFER_CLOSED');
  expectCode(() => b.lease(1, 1000), 'GW_ERR_BUFFER_CLOSED');
  expectCode(() => b.ack(lease, []), 'GW_ERR_BUFFER_CLOSED');
});

test('append with a cap: a group that does not fit is not committed (block), nothing changes', (t) => {
  const { buffer: b, db } = open(t, join(tempDir(t), 'b.db'));
  const first = recs(1, 2);
  const cap = bytesOf(first) + 10;
  assert.deepEqual(b.append(first, first.length, { capBytes: cap, evictOldest: false }), { committed: true, evicted: 0 });
  const before = b.stats();
  const res = b.append([rec(3)], 1, { capBytes: cap, evictOldest: false });
  assert.deepEqual(res, { committed: false, evicted: 0 });
  assert.equal(rowCount(db), 2);
  assert.deepEqual(b.stats(), before);
});

test('append into an empty buffer always commits, even above the cap', (t) => {
  const { buffer: b, db } = open(t, join(tempDir(t), 'b.db'));
  const res = b.append(recs(1, 3), 3, { capBytes: 1, evictOldest: false });
  assert.equal(res.committed, true);
  assert.equal(rowCount(db), 3);
});

test('evictOldest: oldest unleased rows go to the drop log (reason overflow, payload head), leased rows stay', (t) => {
  const { buffer: b, db } = open(t, join(tempDir(t), 'b.db'));
  const big = Buffer.alloc(1000, 0x61);
  const input = Array.from({ length: 4 }, (_, i) => rec(i, { payload: Buffer.concat([Buffer.from(`{"seq":${i}}`), big]) }));
  b.append(input);
  const leased = b.lease(1, 1 << 20)!; // row 0 is in flight
  const cap = bytesOf(input) + 10;
  const incoming = [rec(10)];
  // Needs room for one small row: exactly one victim, the oldest *unleased* row (input[1]).
  const res = b.append(incoming, 1, { capBytes: cap, evictOldest: true });
  assert.deepEqual(res, { committed: true, evicted: 1 });
  const seqs = (db.prepare('SELECT seq FROM records ORDER BY seq').all() as { seq: number }[]).map((r) => r.seq);
  assert.ok(seqs.includes(leased.firstSeq), 'leased row not evicted');
  assert.equal(seqs.length, 4);
  const drops = db.prepare('SELECT seq, device_id, reason, received_at, payload_head FROM drop_log').all() as Array<{
    seq: number;
    device_id: string;
    reason: string;
    received_at: number;
    payload_head: Buffer;
  }>;
  assert.equal(drops.length, 1);
  assert.equal(drops[0]!.seq, leased.firstSeq + 1);
  assert.equal(drops[0]!.reason, 'overflow');
  assert.equal(drops[0]!.device_id, input[1]!.deviceId);
  assert.equal(drops[0]!.received_at, input[1]!.receivedAt);
  assert.equal(drops[0]!.payload_head.length, 256, 'only the head of the payload is kept');
  assert.deepEqual(drops[0]!.payload_head, input[1]!.payload.subarray(0, 256));
  const st = b.stats();
  assert.equal(st.droppedTotal.overflow, 1);
  assert.equal(st.rows, 4);
  assert.equal(st.bytes, bytesOf([input[0]!, input[2]!, input[3]!, ...incoming]));
});

test('evictOldest with every row leased: not committed, nothing dropped', (t) => {
  const { buffer: b, db } = open(t, join(tempDir(t), 'b.db'));
  const input = recs(1, 3);
  b.append(input);
  b.lease(10, 1 << 20);
  const res = b.append([rec(9)], 1, { capBytes: bytesOf(input), evictOldest: true });
  assert.deepEqual(res, { committed: false, evicted: 0 });
  assert.equal(rowCount(db), 3);
  assert.equal(b.stats().droppedTotal.overflow, 0);
});

test('expire drops unleased rows older than the cutoff (reason expired), keeps leased and newer rows', (t) => {
  const { buffer: b, db } = open(t, join(tempDir(t), 'b.db'));
  b.append([rec(1, { receivedAt: 1000 }), rec(2, { receivedAt: 2000 }), rec(3, { receivedAt: 3000 }), rec(4, { receivedAt: 9000 })]);
  const leased = b.lease(1, 1 << 20)!; // the 1000 row is in flight
  assert.equal(b.expire(5000), 2);
  const left = db.prepare('SELECT received_at FROM records ORDER BY seq').all() as { received_at: number }[];
  assert.deepEqual(
    left.map((r) => r.received_at),
    [1000, 9000],
  );
  const drops = db.prepare('SELECT reason, received_at FROM drop_log ORDER BY id').all();
  assert.deepEqual(drops, [
    { reason: 'expired', received_at: 2000 },
    { reason: 'expired', received_at: 3000 },
  ]);
  const st = b.stats();
  assert.equal(st.droppedTotal.expired, 2);
  assert.equal(st.rows, 2);
  assert.equal(st.oldestReceivedAt, 1000);
  b.ack(leased, []);
  assert.equal(b.stats().oldestReceivedAt, 9000);
  assert.equal(b.expire(5000), 0);
});

test(
  'expire never deletes a row that is not expired, even when received_at is not monotonic in seq',
  (t) => {
    const { buffer: b, db } = open(t, join(tempDir(t), 'b.db'));
    // Wall clock stepped back between the first and third publish (NTP): seq order != time order.
    b.append([rec(1, { receivedAt: 1000 }), rec(2, { receivedAt: 9000 }), rec(3, { receivedAt: 900 })]);
    assert.equal(b.expire(5000), 2);
    const left = db.prepare('SELECT received_at FROM records ORDER BY seq').all() as { received_at: number }[];
    assert.deepEqual(
      left.map((r) => r.received_at),
      [9000],
      'the 9000 row is not expired and must survive',
    );
    assert.equal(b.stats().rows, rowCount(db));
  },
);

test('expire on a closed buffer is a no-op', (t) => {
  const { buffer: b } = open(t, join(tempDir(t), 'b.db'));
  b.close();
  assert.equal(b.expire(Date.now()), 0);
});

test('drop log is trimmed to dropLogMaxRows', (t) => {
  const { buffer: b, db } = open(t, join(tempDir(t), 'b.db'), { dropLogMaxRows: 2 });
  b.append(Array.from({ length: 5 }, (_, i) => rec(i, { receivedAt: 100 + i })));
  assert.equal(b.expire(1000), 5);
  const heads = (db.prepare('SELECT payload_head FROM drop_log ORDER BY id').all() as { payload_head: Buffer }[]).map((r) => JSON.parse(r.payload_head.toString()).seq);
  assert.deepEqual(heads, [3, 4]);
  assert.equal(b.stats().droppedTotal.expired, 5);
});

test('accountedBytes = payload + topic + deviceId + fixed overhead, in UTF-8 bytes', () => {
  assert.equal(accountedBytes({ deviceId: 'ab', topic: 'xyz', payload: Buffer.alloc(10) }), 15 + ROW_OVERHEAD_BYTES);
  // 'é' is 2 bytes, '😀' 4 (and 2 UTF-16 code units): characters would count 1 + 6 + 2 = 9.
  assert.equal(accountedBytes({ deviceId: 'é', topic: 'd/é/😀', payload: Buffer.from('ü!') }), 2 + 9 + 3 + ROW_OVERHEAD_BYTES);
});

test('a second connection (test/support/buffer-db.ts) counts the bytes the buffer counts, multi-byte ids included', (t) => {
  const path = join(tempDir(t), 'b.db');
  const { buffer: b } = open(t, path);
  b.append([rec(1, { deviceId: 'capteur-été-😀', topic: 'devices/capteur-été-😀/telemetry', payload: Buffer.from('{"t":"°C"}') }), rec(2)]);
  const snap = snapshotBuffer(path);
  assert.equal(snap?.rows, 2);
  assert.equal(snap?.accountedBytes, b.stats().bytes);
});

test('ack of a sparse (per-device) sub-lease deletes exactly its rows, not the range between them', (t) => {
  const { buffer: b, db } = open(t, join(tempDir(t), 'b.db'));
  b.append(recs(1, 6));
  const lease = b.lease(10, 1 << 20)!;
  const odd = lease.records.filter((_, i) => i % 2 === 0);
  b.ack({ records: odd, firstSeq: odd[0]!.seq, lastSeq: odd[odd.length - 1]!.seq, sparse: true }, []);
  const left = (db.prepare('SELECT seq FROM records ORDER BY seq').all() as Array<{ seq: number }>).map((r) => r.seq);
  assert.deepEqual(left, lease.records.filter((_, i) => i % 2 === 1).map((r) => r.seq));
  assert.equal(b.stats().rows, 3);
});

test('a new buffer is owner-only whatever the umask: directory 0700, database and WAL 0600', (t) => {
  const root = mkdtempSync(join(tmpdir(), 'eg-perm-'));
  t.after(() => rmSync(root, { recursive: true, force: true }));
  const previous = process.umask(0);
  let db;
  try {
    db = openBufferDatabase({ path: join(root, 'data', 'buffer.db'), synchronous: 'FULL' });
    createSqliteBuffer(db, { deadLetterMaxRows: 10, dropLogMaxRows: 10 }).close();
  } finally {
    process.umask(previous);
  }
  closeBufferDatabase(db);
  assert.equal(statSync(join(root, 'data')).mode & 0o777, 0o700);
  assert.equal(statSync(join(root, 'data', 'buffer.db')).mode & 0o777, 0o600);
});
