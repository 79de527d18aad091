/**
 * The crash guard on a real SQLite file: the in-flight range is what is leased and not yet
 * acknowledged; a crash over it is stored and survives reopening; consecutive crashes count only
 * while the ranges overlap (narrowing to their intersection, carrying the count), a disjoint
 * crash starts again at 1, and a single row reaches the limit only when it alone was in flight.
 */
import assert from 'node:assert/strict';
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { test, type TestContext } from 'node:test';
import { isPoisonRow, nextCrashGuard } from '../../../gateway/src/buffer/crash-guard.js';
import type { SqliteBuffer } from '../../../gateway/src/buffer/sqlite-buffer.js';
import { createSqliteCrashGuard, type SqliteCrashGuard } from '../../../gateway/src/buffer/sqlite-crash-guard.js';
import type { IngestRecord } from '../../../gateway/src/record.js';
import { openTestBuffer } from '../../support/buffer-db.js';

function open(t: TestContext, path: string): { buffer: SqliteBuffer; guard: SqliteCrashGuard } {
  const { buffer, db, close } = openTestBuffer({ path, synchronous: 'NORMAL', deadLetterMaxRows: 100 });
  t.after(close);
  return { buffer, guard: createSqliteCrashGuard(db, () => buffer.leasedRange()) };
}

function tempDb(t: TestContext): string {
  const dir = mkdtempSync(join(tmpdir(), 'gw-crash-guard-'));
  t.after(() => rmSync(dir, { recursive: true, force: true }));
  return join(dir, 'buffer.db');
}

const rec = (i: number): IngestRecord => ({ deviceId: `d${i % 3}`, topic: `devices/d${i % 3}/telemetry`, qos: 1, receivedAt: 1_700_000_000_000 + i, payload: Buffer.from(`{"i":${i}}`) });

test('leasedRange: rows leased and not acknowledged, across a deferred ack and the next lease', (t) => {
  const { buffer, guard } = open(t, tempDb(t));
  assert.equal(buffer.leasedRange(), null, 'empty buffer');
  buffer.append(Array.from({ length: 10 }, (_, i) => rec(i)));
  assert.equal(buffer.leasedRange(), null, 'rows buffered but none leased');
  assert.equal(guard.recordCrash('RangeError'), null, 'nothing in flight: nothing recorded');
  assert.equal(guard.read(), null);

  const a = buffer.lease(4, 1 << 20)!;
  assert.deepEqual(buffer.leasedRange(), { firstSeq: a.firstSeq, lastSeq: a.lastSeq });
  const b = buffer.lease(4, 1 << 20)!;
  assert.deepEqual(buffer.leasedRange(), { firstSeq: a.firstSeq, lastSeq: b.lastSeq }, 'ack of the first lease still pending');
  buffer.ack(a, []);
  assert.deepEqual(buffer.leasedRange(), { firstSeq: b.firstSeq, lastSeq: b.lastSeq });
  buffer.ack(b, []);
  assert.equal(buffer.leasedRange(), null, 'all leased rows acknowledged; two rows never leased');
});

test('recordCrash stores the range; it survives reopening; a clean drain clears it', (t) => {
  const path = tempDb(t);
  const first = open(t, path);
  first.buffer.append(Array.from({ length: 6 }, (_, i) => rec(i)));
  const lease = first.buffer.lease(100, 1 << 20)!;
  const g = first.guard.recordCrash('TypeError')!;
  assert.deepEqual({ ...g, updatedAt: 0 }, { firstSeq: lease.firstSeq, lastSeq: lease.lastSeq, crashes: 1, lastCode: 'TypeError', updatedAt: 0 });
  first.buffer.close(); // the process died: rows still buffered

  const second = open(t, path);
  assert.deepEqual(second.guard.read(), g, 'read back after reopening');
  assert.equal(second.buffer.stats().rows, 6);
  second.guard.clear();
  assert.equal(second.guard.read(), null);
  second.guard.clear(); // twice is fine
});

test('consecutive crashes narrow to the rows in flight every time and carry the count; the limit needs a single row', (t) => {
  const path = tempDb(t);
  let { buffer, guard } = open(t, path);
  buffer.append(Array.from({ length: 8 }, (_, i) => rec(i)));
  const all = buffer.lease(100, 1 << 20)!;
  const s = (i: number) => all.firstSeq + i;
  guard.recordCrash('RangeError'); // crash 1: all 8 rows in flight
  buffer.close();

  // Restart: the pump forwards the guarded rows one at a time; rows 0..2 go through.
  ({ buffer, guard } = open(t, path));
  for (let i = 0; i < 3; i++) buffer.ack(buffer.lease(1, 1 << 20)!, []);
  const fourth = buffer.lease(1, 1 << 20)!;
  assert.equal(fourth.firstSeq, s(3));
  const g2 = guard.recordCrash('RangeError')!; // crash 2 with only row 3 in flight
  assert.deepEqual([g2.firstSeq, g2.lastSeq, g2.crashes], [s(3), s(3), 2], 'narrowed to the one row, count carried');
  assert.equal(isPoisonRow(g2, s(3), 2), true, 'limit 2 reached by that row');
  assert.equal(isPoisonRow(g2, s(3), 3), false, 'limit 3 not yet');
  assert.equal(isPoisonRow(g2, s(4), 2), false, 'another row is not the poison');
  buffer.close();

  // Restart again with a limit of 3: row 3 alone in flight, crashes a third time.
  ({ buffer, guard } = open(t, path));
  const again = buffer.lease(1, 1 << 20)!;
  assert.equal(again.firstSeq, s(3), 'rows before the guarded one were acknowledged');
  const g3 = guard.recordCrash('RangeError')!;
  assert.deepEqual([g3.firstSeq, g3.lastSeq, g3.crashes], [s(3), s(3), 3]);
  assert.equal(isPoisonRow(g3, s(3), 3), true);
});

test('nextCrashGuard: intersection and count; disjoint ranges restart at 1; a range never counts as one row', () => {
  const g1 = nextCrashGuard(null, { firstSeq: 10, lastSeq: 20 }, 'A', 1);
  assert.deepEqual(g1, { firstSeq: 10, lastSeq: 20, crashes: 1, lastCode: 'A', updatedAt: 1 });
  const g2 = nextCrashGuard(g1, { firstSeq: 15, lastSeq: 30 }, 'B', 2);
  assert.deepEqual(g2, { firstSeq: 15, lastSeq: 20, crashes: 2, lastCode: 'B', updatedAt: 2 }, 'only rows 15..20 were in flight both times');
  const g3 = nextCrashGuard(g2, { firstSeq: 21, lastSeq: 40 }, 'C', 3);
  assert.deepEqual(g3, { firstSeq: 21, lastSeq: 40, crashes: 1, lastCode: 'C', updatedAt: 3 }, 'no row in both: the streak restarts');
  const g4 = nextCrashGuard(g3, { firstSeq: 25, lastSeq: 25 }, 'C', 4);
  assert.deepEqual([g4.firstSeq, g4.lastSeq, g4.crashes], [25, 25, 2]);
  assert.equal(isPoisonRow(g4, 25, 2), true);
  assert.equal(isPoisonRow({ ...g2, crashes: 9 }, 15, 2), false, 'a range of several rows is never dead-lettered as a whole');
});
