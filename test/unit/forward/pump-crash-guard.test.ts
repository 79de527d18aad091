/**
 * One record can never stop the pump: an encoder that throws for a record (even the raw DLQ
 * envelope) dead-letters that record with GW_ERR_ENCODE_FAILED and the loop moves on. And the
 * crash breaker end to end on a real SQLite file, a real encoder and a fake sink: a crash while a
 * batch is in flight guards the batch; the next start forwards it one row at a time, and a second
 * crash pins the one row; the start after that dead-letters the row unsent
 * (GW_ERR_FORWARD_POISON_ROW), forwards the rest and clears the guard. The process-level handler
 * is not exercised here (the system test does that): recordCrash is called where it would run.
 */
import assert from 'node:assert/strict';
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { test, type TestContext } from 'node:test';
import type { SqliteBuffer } from '../../../gateway/src/buffer/sqlite-buffer.js';
import type Database from 'better-sqlite3';
import { openTestBuffer } from '../../support/buffer-db.js';
import { createSqliteCrashGuard, type SqliteCrashGuard } from '../../../gateway/src/buffer/sqlite-crash-guard.js';
import { createAvroEncoder, type AvroEncoder } from '../../../gateway/src/encode/avro-encoder.js';
import type { RecordEncoder } from '../../../gateway/src/encode/encoder.js';
import { createForwardPump, type ForwardPump, type PumpOptions } from '../../../gateway/src/forward/pump.js';
import type { OutMessage, SinkState, TelemetrySink } from '../../../gateway/src/forward/sink.js';
import type { Logger } from '../../../gateway/src/lib/logger.js';
import type { IngestRecord, StoredRecord } from '../../../gateway/src/record.js';
import { waitFor } from '../../support/wait.js';

class FakeSink implements TelemetrySink {
  connected = false;
  readonly attempts: OutMessage[][] = [];
  readonly delivered: OutMessage[] = [];
  sendImpl: (messages: readonly OutMessage[]) => Promise<void> = async () => undefined;
  async connect(): Promise<void> {
    this.connected = true;
  }
  async send(messages: readonly OutMessage[]): Promise<void> {
    this.attempts.push([...messages]);
    await this.sendImpl(messages);
    this.delivered.push(...messages);
  }
  state(): SinkState {
    return { connected: this.connected, lastError: null };
  }
  async close(): Promise<void> {
    this.connected = false;
  }
}

type Entry = { level: string; obj: Record<string, unknown>; msg: unknown };
function recordingLogger(): { logger: Logger; entries: Entry[] } {
  const entries: Entry[] = [];
  const l: Record<string, unknown> = {};
  for (const level of ['trace', 'debug', 'info', 'warn', 'error', 'fatal']) l[level] = (obj: Record<string, unknown>, msg: unknown) => entries.push({ level, obj, msg });
  l['child'] = () => l;
  return { logger: l as unknown as Logger, entries };
}

interface Run {
  buffer: SqliteBuffer;
  /** The buffer's database, to read its tables. */
  db: Database.Database;
  guard: SqliteCrashGuard;
  sink: FakeSink;
  pump: ForwardPump;
  entries: Entry[];
}

const encoderFor = (): AvroEncoder => createAvroEncoder({ gatewayId: 'gw-test', defaultTopic: 'telemetry.raw', routes: [{ topic: 'devices/{deviceId}/telemetry' }] });

/** One "process lifetime": buffer, crash guard and pump on the given file. */
function startRun(t: TestContext, path: string, over: Partial<PumpOptions> = {}): Run {
  const { buffer, db, close } = openTestBuffer({ path, synchronous: 'NORMAL', deadLetterMaxRows: 1000 });
  const guard = createSqliteCrashGuard(db, () => buffer.leasedRange());
  const sink = new FakeSink();
  const { logger, entries } = recordingLogger();
  const pump = createForwardPump({
    buffer,
    encoder: encoderFor(),
    sink,
    logger,
    dlqTopic: 'telemetry.dlq',
    dlqMaxValueBytes: 64 * 1024,
    batchMaxRecords: 100,
    batchMaxBytes: 1 << 20,
    lingerMs: 0,
    retryInitialMs: 10,
    retryMaxMs: 20,
    crashGuard: guard,
    crashLimit: 2,
    ...over,
  });
  t.after(async () => {
    await pump.stop(20);
    close();
  });
  return { buffer, db, guard, sink, pump, entries };
}

function tempDb(t: TestContext): string {
  const dir = mkdtempSync(join(tmpdir(), 'gw-pump-guard-'));
  t.after(() => rmSync(dir, { recursive: true, force: true }));
  return join(dir, 'buffer.db');
}

const rec = (deviceId: string, n: number, payload = `{"n":${n}}`): IngestRecord => ({
  deviceId,
  topic: `devices/${deviceId}/telemetry`,
  qos: 1,
  receivedAt: 1_700_000_000_000 + n,
  payload: Buffer.from(payload),
});

const seqOf = (enc: AvroEncoder, m: OutMessage) => (enc.rawCodec.type.fromBuffer(m.value.subarray(10)) as { seq: number }).seq;
const deadLetters = (db: Database.Database) => db.prepare('SELECT seq, code, reason FROM dead_letters ORDER BY id').all() as Array<{ seq: number; code: string; reason: string }>;
const hasMarker = (messages: readonly OutMessage[]) => messages.some((m) => m.value.includes('POISON'));

test('an encoder that throws for one record: that record is dead-lettered (GW_ERR_ENCODE_FAILED), the others go out in order', async (t) => {
  const path = tempDb(t);
  const real = encoderFor();
  // Throws for one payload, like a library bug on a hostile input; encodeRaw still works.
  const throwing: RecordEncoder = {
    encode: (r: StoredRecord) => {
      if (r.payload.includes('BOOM')) throw new RangeError('Maximum call stack size exceeded');
      return real.encode(r);
    },
    encodeRaw: (r: StoredRecord) => real.encodeRaw(r),
  };
  const { buffer, db, sink, pump, entries } = startRun(t, path, { encoder: throwing });
  buffer.append([rec('d1', 1), rec('d1', 2, '{"BOOM":1}'), rec('d2', 1), rec('d1', 3)]);
  const seqs = (db.prepare('SELECT seq FROM records ORDER BY seq').all() as { seq: number }[]).map((r) => r.seq);
  pump.start();
  await waitFor('buffer drained', () => buffer.stats().rows === 0, 3000, 2);
  assert.deepEqual(sink.delivered.map((m) => seqOf(real, m)), seqs, 'every record in place, in buffer order');
  const dlq = sink.delivered[1]!;
  assert.equal(dlq.topic, 'telemetry.dlq');
  assert.equal(dlq.headers?.['x-dlq-code'], 'GW_ERR_ENCODE_FAILED');
  assert.match(dlq.headers?.['x-dlq-reason'] ?? '', /RangeError: Maximum call stack/);
  assert.deepEqual(sink.delivered.filter((_, i) => i !== 1).map((m) => m.topic), ['telemetry.raw', 'telemetry.raw', 'telemetry.raw']);
  assert.deepEqual(deadLetters(db).map((d) => [d.seq, d.code]), [[seqs[1], 'GW_ERR_ENCODE_FAILED']]);
  assert.deepEqual(buffer.stats().deadLetteredByCode, { GW_ERR_ENCODE_FAILED: 1 }, 'counted once, by the buffer that stores it');

  // The loop is still alive: a later record is forwarded.
  buffer.append([rec('d2', 2)]);
  pump.notify();
  await waitFor('later record forwarded', () => sink.delivered.length === 5, 3000, 2);
  assert.deepEqual(entries.filter((e) => e.level === 'fatal'), []);
});

test('when even the raw DLQ envelope throws, the record is kept only in dead_letters and the rest goes out', async (t) => {
  const path = tempDb(t);
  const real = encoderFor();
  const bad = (r: StoredRecord) => r.payload.includes('BOOM');
  const throwing: RecordEncoder = {
    encode: (r) => {
      if (bad(r)) throw new TypeError('cannot encode');
      return real.encode(r);
    },
    encodeRaw: (r) => {
      if (bad(r)) throw new TypeError('cannot encode raw either');
      return real.encodeRaw(r);
    },
  };
  const { buffer, db, sink, pump, entries } = startRun(t, path, { encoder: throwing });
  buffer.append([rec('d1', 1), rec('d1', 2, 'BOOM'), rec('d1', 3)]);
  pump.start();
  await waitFor('buffer drained', () => buffer.stats().rows === 0, 3000, 2);
  assert.equal(sink.delivered.length, 2);
  assert.ok(sink.delivered.every((m) => m.topic === 'telemetry.raw'));
  assert.deepEqual(deadLetters(db).map((d) => d.code), ['GW_ERR_ENCODE_FAILED']);
  assert.ok(entries.some((e) => e.level === 'error' && /local dead_letters table only/.test(String(e.msg))));
});

test('crash breaker: crash with a batch in flight -> one row at a time -> second crash pins the row -> dead-lettered unsent at the next start', async (t) => {
  const path = tempDb(t);
  const enc = encoderFor();

  // Lifetime 1: a batch holding the poison row is in flight when the process "dies".
  const r1 = startRun(t, path);
  r1.buffer.append([rec('d1', 1), rec('d2', 1), rec('d1', 2), rec('d1', 3, '{"POISON":true}'), rec('d2', 2), rec('d1', 4)]);
  const seqs = (r1.db.prepare('SELECT seq FROM records ORDER BY seq').all() as { seq: number }[]).map((r) => r.seq);
  const poisonSeq = seqs[3]!;
  let crashed1 = false;
  r1.sink.sendImpl = (messages) => {
    if (!hasMarker(messages)) return Promise.resolve();
    // What run-command's uncaughtException handler does, at the moment the process would die.
    r1.guard.recordCrash('TypeError');
    crashed1 = true;
    return new Promise(() => undefined); // the process is gone: this send never completes
  };
  r1.pump.start();
  await waitFor('first crash', () => crashed1, 3000, 2);
  const g1 = r1.guard.read()!;
  assert.deepEqual([g1.firstSeq, g1.lastSeq, g1.crashes, g1.lastCode], [seqs[0], seqs[5], 1, 'TypeError'], 'the whole batch was in flight');
  await r1.pump.stop(20);
  r1.buffer.close();

  // Lifetime 2: the guarded rows go one at a time; the poison row crashes it again, alone.
  const r2 = startRun(t, path);
  let crashed2 = false;
  r2.sink.sendImpl = (messages) => {
    if (!hasMarker(messages)) return Promise.resolve();
    r2.guard.recordCrash('TypeError');
    crashed2 = true;
    return new Promise(() => undefined);
  };
  r2.pump.start();
  await waitFor('second crash', () => crashed2, 3000, 2);
  assert.ok(r2.sink.attempts.every((a) => a.length === 1), 'guarded rows are sent one per request');
  assert.deepEqual(r2.sink.delivered.map((m) => seqOf(enc, m)), seqs.slice(0, 3), 'rows before the poison one went through');
  const g2 = r2.guard.read()!;
  assert.deepEqual([g2.firstSeq, g2.lastSeq, g2.crashes], [poisonSeq, poisonSeq, 2], 'narrowed to the poison row, count carried');
  assert.ok(r2.entries.some((e) => e.obj['event'] === 'crash_guard_active' && e.obj['crashes'] === 1));
  await r2.pump.stop(20);
  r2.buffer.close();

  // Lifetime 3: the row is dead-lettered without being encoded or sent; the rest flows in a batch.
  const r3 = startRun(t, path);
  r3.sink.sendImpl = (messages) => (hasMarker(messages) ? Promise.reject(new Error('the poison row must not be sent')) : Promise.resolve());
  r3.pump.start();
  await waitFor('buffer drained', () => r3.buffer.stats().rows === 0, 3000, 2);
  assert.ok(!r3.sink.attempts.some(hasMarker), 'the poison row was never sent');
  assert.deepEqual(r3.sink.delivered.map((m) => seqOf(enc, m)), seqs.slice(4), 'the rows after it');
  const dl = deadLetters(r3.db);
  assert.deepEqual(dl.map((d) => [d.seq, d.code]), [[poisonSeq, 'GW_ERR_FORWARD_POISON_ROW']]);
  assert.match(dl[0]!.reason, /2 consecutive crashes \(last: TypeError\)/);
  assert.equal(r3.pump.stats().poisonRowsTotal, 1);
  assert.equal(r3.buffer.stats().deadLetteredTotal, 1);
  const logged = r3.entries.find((e) => e.obj['event'] === 'poison_row_dead_lettered');
  assert.ok(logged);
  assert.equal(logged.obj['seq'], poisonSeq);
  assert.equal(logged.obj['deviceId'], 'd1');
  assert.equal(r3.guard.read(), null, 'guard cleared once its rows are through');
  assert.ok(r3.entries.some((e) => e.obj['event'] === 'crash_guard_cleared'));
  // Back to batches once past the guarded rows.
  r3.buffer.append([rec('d1', 5), rec('d2', 3), rec('d1', 6)]);
  r3.pump.notify();
  await waitFor('new rows drained', () => r3.buffer.stats().rows === 0, 3000, 2);
  assert.equal(r3.sink.attempts.at(-1)!.length, 3);
});

test('a guarded row under the limit is sent normally, and the guard is cleared after it', async (t) => {
  const path = tempDb(t);
  const r = startRun(t, path, { crashLimit: 3 });
  r.buffer.append([rec('d1', 1), rec('d1', 2), rec('d1', 3)]);
  const seqs = (r.db.prepare('SELECT seq FROM records ORDER BY seq').all() as { seq: number }[]).map((x) => x.seq);
  r.db
    .prepare('INSERT INTO crash_guard (id, first_seq, last_seq, crashes, last_code, updated_at) VALUES (1, ?, ?, 2, ?, 0)')
    .run(seqs[1], seqs[1], 'RangeError');
  r.pump.start();
  await waitFor('drained', () => r.buffer.stats().rows === 0, 3000, 2);
  assert.deepEqual(r.sink.attempts.map((a) => a.length), [1, 1, 1], 'rows up to the guarded one singly, then the next lease is past it');
  assert.deepEqual(deadLetters(r.db), []);
  assert.equal(r.guard.read(), null);
});
