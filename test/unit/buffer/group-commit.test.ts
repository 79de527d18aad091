/**
 * GroupCommitter in front of a real SqliteBuffer (through a recording wrapper): a callback runs
 * only after the transaction holding its record committed, in submission order, one append per
 * group. Under pressure a group is held, never failed: disk errors are retried with backoff, a
 * full buffer (block) waits for kick(), dropOldest evicts, slowing delays the acks.
 * Re-entrant submits from callbacks are neither lost nor doubled.
 */
import assert from 'node:assert/strict';
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { test, type TestContext } from 'node:test';
import type { AppendOptions, AppendResult, BufferStats, TelemetryBuffer } from '../../../gateway/src/buffer/buffer.js';
import { FlowControl, FlowState } from '../../../gateway/src/buffer/flow-control.js';
import { GroupCommitter, type CommitCallback, type GroupCommitOptions } from '../../../gateway/src/buffer/group-commit.js';
import type { SqliteBuffer } from '../../../gateway/src/buffer/sqlite-buffer.js';
import type Database from 'better-sqlite3';
import { openTestBuffer } from '../../support/buffer-db.js';
import { gatewayError, isGatewayError, type GatewayError } from '../../../gateway/src/errors.js';
import type { DeadLetter, IngestRecord, Lease } from '../../../gateway/src/record.js';

/** Delegates to a real buffer and records every append (with the records it saw) in `log`. */
class RecordingBuffer implements TelemetryBuffer {
  /** Payloads of every committed append, one array per call. */
  readonly appends: string[][] = [];
  readonly log: string[] = [];
  /** Errors thrown by the next append calls (instead of delegating), in order. */
  readonly failures: unknown[] = [];

  constructor(
    readonly inner: SqliteBuffer,
    /** The database under `inner`, to read the rows. */
    readonly db: Database.Database,
  ) {}

  append(records: readonly IngestRecord[], count = records.length, opts?: AppendOptions): AppendResult {
    const ids = records.slice(0, count).map((r) => (r.payload ? r.payload.toString() : '<null>'));
    this.log.push(`append:start:${ids.join(',')}`);
    if (this.failures.length > 0) {
      this.log.push('append:threw');
      throw this.failures.shift();
    }
    const res = this.inner.append(records, count, opts);
    if (res.committed) this.appends.push(ids);
    this.log.push(`append:return:${res.committed ? 'committed' : 'held'}:${ids.join(',')}`);
    return res;
  }
  lease(maxRecords: number, maxBytes: number): Lease | null {
    return this.inner.lease(maxRecords, maxBytes);
  }
  ack(lease: Lease, deadLetters: readonly DeadLetter[]): void {
    this.inner.ack(lease, deadLetters);
  }
  expire(cutoffMs: number): number {
    return this.inner.expire(cutoffMs);
  }
  resetLeases(): void {
    this.inner.resetLeases();
  }
  stats(): BufferStats {
    return this.inner.stats();
  }
  close(): void {
    this.inner.close();
  }
}

interface Rig {
  b: RecordingBuffer;
  flow: FlowControl;
  c: GroupCommitter;
}

function rig(t: TestContext, opts: Partial<GroupCommitOptions> & { maxSizeBytes?: number; high?: number; low?: number; maxAckDelayMs?: number } = {}): Rig {
  const dir = mkdtempSync(join(tmpdir(), 'gw-group-'));
  const opened = openTestBuffer({ path: join(dir, 'buffer.db'), synchronous: 'NORMAL', deadLetterMaxRows: 100 });
  const inner = opened.buffer;
  const b = new RecordingBuffer(inner, opened.db);
  const flow =
    opts.flow ??
    new FlowControl({ maxSizeBytes: opts.maxSizeBytes ?? 1 << 30, highWatermark: opts.high ?? 0.9, lowWatermark: opts.low ?? 0.8, maxAckDelayMs: opts.maxAckDelayMs ?? 0 });
  const c = new GroupCommitter(b, { maxRecords: 100, lingerMs: 0, overflowPolicy: 'block', diskRetry: { initialMs: 10, maxMs: 20 }, ...opts, flow });
  t.after(() => {
    c.close();
    opened.close();
    rmSync(dir, { recursive: true, force: true });
  });
  return { b, flow, c };
}

function rec(id: string, payloadBytes?: number): IngestRecord {
  return { deviceId: 'd', topic: 'devices/d/telemetry', qos: 1, receivedAt: Date.now(), payload: payloadBytes ? Buffer.from(id.padEnd(payloadBytes, '.')) : Buffer.from(id) };
}

/** Payloads in the DB, in seq order. */
function stored(b: RecordingBuffer): string[] {
  return (b.db.prepare('SELECT payload FROM records ORDER BY seq').all() as { payload: Buffer }[]).map((r) => r.payload.toString());
}

/** Submits and returns a promise of the callback's error argument. */
function submitP(c: GroupCommitter, r: IngestRecord, onCb?: (err: GatewayError | null | undefined) => void): Promise<GatewayError | null | undefined> {
  return new Promise((resolve) => {
    c.submit(r, (err) => {
      onCb?.(err);
      resolve(err);
    });
  });
}

const tick = () => new Promise((r) => setImmediate(r));
const delay = (ms: number) => new Promise((r) => setTimeout(r, ms));

test('callbacks run only after append returned, with the record already in the database', async (t) => {
  const { b, c } = rig(t);
  const seenInDb: boolean[] = [];
  const ids = ['a', 'b', 'c'];
  const done = ids.map((id) =>
    submitP(c, rec(id), () => {
      b.log.push(`cb:${id}`);
      seenInDb.push(stored(b).includes(id));
    }),
  );
  assert.equal(b.log.length, 0, 'nothing committed synchronously below maxRecords');
  assert.equal(c.pending, 3);
  const errs = await Promise.all(done);
  assert.deepEqual(errs, [null, null, null]);
  assert.deepEqual(b.log, ['append:start:a,b,c', 'append:return:committed:a,b,c', 'cb:a', 'cb:b', 'cb:c']);
  assert.deepEqual(seenInDb, [true, true, true]);
  assert.equal(c.pending, 0);
});

test('many submits in one tick -> one append call, callbacks in submission order', async (t) => {
  const { b, c } = rig(t, { maxRecords: 1000 });
  const order: number[] = [];
  const done: Promise<unknown>[] = [];
  for (let i = 0; i < 200; i++) done.push(submitP(c, rec(String(i)), () => order.push(i)));
  await Promise.all(done);
  assert.equal(b.appends.length, 1);
  assert.equal(b.appends[0]!.length, 200);
  assert.deepEqual(order, Array.from({ length: 200 }, (_, i) => i));
  assert.deepEqual(stored(b), order.map(String));
});

test('lingerMs > 0 groups submits made across several ticks within the linger window', async (t) => {
  const commits: Array<[number, number]> = [];
  const { b, c } = rig(t, { lingerMs: 30, onCommit: (n, evicted) => commits.push([n, evicted]) });
  const first = submitP(c, rec('x'));
  await tick();
  const second = submitP(c, rec('y'));
  assert.equal(b.appends.length, 0);
  await Promise.all([first, second]);
  assert.deepEqual(b.appends, [['x', 'y']]);
  assert.deepEqual(commits, [[2, 0]]);
});

test('reaching maxRecords flushes immediately (synchronously, without waiting for the linger timer)', (t) => {
  const { b, c } = rig(t, { maxRecords: 3, lingerMs: 60_000 });
  const calls: string[] = [];
  for (const id of ['1', '2']) c.submit(rec(id), () => calls.push(id));
  assert.equal(b.appends.length, 0);
  assert.equal(calls.length, 0);
  c.submit(rec('3'), () => calls.push('3'));
  assert.deepEqual(b.appends, [['1', '2', '3']]);
  assert.deepEqual(calls, ['1', '2', '3']);
  c.submit(rec('4'), () => calls.push('4'));
  assert.equal(c.pending, 1, 'the fourth record starts a fresh group');
  c.flush();
  assert.deepEqual(calls, ['1', '2', '3', '4']);
  assert.deepEqual(stored(b), ['1', '2', '3', '4']);
});

test('flush() with nothing queued does not call append', (t) => {
  const { b, c } = rig(t);
  c.flush();
  assert.equal(b.log.length, 0);
});

test('append throwing a GatewayError: the group is held (no callback), retried with backoff, then committed once', async (t) => {
  const errors: string[] = [];
  const { b, c, flow } = rig(t, { onCommitError: (err) => errors.push(err.code) });
  b.failures.push(gatewayError('GW_ERR_BUFFER_DISK_FULL', 'simulated'), gatewayError('GW_ERR_BUFFER_WRITE', 'simulated'));
  const calls: Array<[string, unknown]> = [];
  const done = ['a', 'b'].map((id) => submitP(c, rec(id), (err) => calls.push([id, err])));
  await tick();
  assert.equal(calls.length, 0, 'nothing acknowledged while the disk refuses');
  assert.deepEqual(stored(b), []);
  assert.equal(flow.state, FlowState.diskError);
  assert.equal(c.pending, 2);
  // A publish arriving while held joins the held group (and keeps its order).
  const late = submitP(c, rec('c'), (err) => calls.push(['c', err]));
  await Promise.all([...done, late]);
  assert.deepEqual(errors, ['GW_ERR_BUFFER_DISK_FULL', 'GW_ERR_BUFFER_WRITE']);
  assert.deepEqual(calls, [
    ['a', null],
    ['b', null],
    ['c', null],
  ]);
  assert.deepEqual(stored(b), ['a', 'b', 'c']);
  assert.deepEqual(b.appends, [['a', 'b', 'c']]);
  assert.equal(flow.state, FlowState.open);
});

test('a real SQLite failure mid-group rolls back the whole group: nothing stored, nothing acknowledged', async (t) => {
  const errors: GatewayError[] = [];
  const { b, c } = rig(t, { onCommitError: (err) => errors.push(err), diskRetry: { initialMs: 1000, maxMs: 1000 } });
  const bad = { ...rec('bad'), qos: null as unknown as 0 }; // NOT NULL violation inside the transaction
  const calls: string[] = [];
  c.submit(rec('good-1'), () => calls.push('good-1'));
  c.submit(bad, () => calls.push('bad'));
  c.submit(rec('good-2'), () => calls.push('good-2'));
  await tick();
  assert.equal(errors.length, 1);
  assert.ok(isGatewayError(errors[0], 'GW_ERR_BUFFER_WRITE'), String(errors[0]));
  assert.deepEqual(stored(b), []);
  assert.equal(calls.length, 0);
  assert.equal(b.inner.stats().rows, 0);
  assert.equal(b.inner.stats().bytes, 0);
});

test('a non-GatewayError from append (programmer error) refuses the group with a coded error instead of crashing', (t) => {
  const { b, c } = rig(t, { lingerMs: 60_000 });
  b.failures.push(new TypeError('bug'));
  const calls: Array<string | undefined> = [];
  c.submit(rec('a'), (err) => calls.push(err?.code));
  assert.doesNotThrow(() => c.flush());
  assert.deepEqual(calls, ['GW_ERR_BUFFER_WRITE'], 'the publish is refused, not acknowledged');
  assert.deepEqual(stored(b), [], 'nothing committed');
});

test('block policy at the cap: the group is held un-acked until kick() after the forwarder freed space', async (t) => {
  // accountedBytes(rec) = 1 + 19 + 1 + 64 = 85; cap 200 holds two rows.
  const { b, c, flow } = rig(t, { maxSizeBytes: 200, high: 0.99, low: 0.98 });
  await Promise.all([submitP(c, rec('1')), submitP(c, rec('2'))]);
  assert.deepEqual(stored(b), ['1', '2']);

  const calls: string[] = [];
  const held = submitP(c, rec('3'), () => calls.push('3'));
  await delay(20);
  assert.equal(calls.length, 0);
  assert.deepEqual(stored(b), ['1', '2'], 'nothing dropped, nothing added');
  assert.equal(flow.state, FlowState.full);
  assert.equal(b.inner.stats().droppedTotal.overflow, 0);

  const lease = b.lease(10, 1 << 20)!;
  b.ack(lease, []);
  c.kick();
  assert.equal(await held, null);
  assert.deepEqual(stored(b), ['3']);
  assert.notEqual(flow.state, FlowState.full);
});

test('an empty buffer always takes a group, even one larger than the cap', async (t) => {
  const { b, c } = rig(t, { maxSizeBytes: 100 });
  assert.equal(await submitP(c, rec('big', 500)), null);
  assert.equal(stored(b).length, 1);
});

test('dropOldest at the cap: oldest unleased rows are evicted (drop log), the group commits', async (t) => {
  const commits: Array<[number, number]> = [];
  const { b, c } = rig(t, { maxSizeBytes: 200, high: 0.99, low: 0.98, overflowPolicy: 'dropOldest', onCommit: (n, e) => commits.push([n, e]) });
  await Promise.all([submitP(c, rec('1')), submitP(c, rec('2'))]);
  assert.equal(await submitP(c, rec('3')), null);
  assert.deepEqual(stored(b), ['2', '3']);
  assert.deepEqual(commits, [
    [2, 0],
    [1, 1],
  ]);
  const drops = b.db.prepare('SELECT reason, payload_head FROM drop_log').all() as Array<{ reason: string; payload_head: Buffer }>;
  assert.deepEqual(
    drops.map((d) => [d.reason, d.payload_head.toString()]),
    [['overflow', '1']],
  );
  assert.equal(b.inner.stats().droppedTotal.overflow, 1);
});

test('dropOldest never evicts leased (in-flight) rows: with everything leased the group is held', async (t) => {
  const { b, c, flow } = rig(t, { maxSizeBytes: 200, high: 0.99, low: 0.98, overflowPolicy: 'dropOldest' });
  await Promise.all([submitP(c, rec('1')), submitP(c, rec('2'))]);
  const lease = b.lease(10, 1 << 20)!;
  const calls: string[] = [];
  const held = submitP(c, rec('3'), () => calls.push('3'));
  await delay(20);
  assert.equal(calls.length, 0);
  assert.deepEqual(stored(b), ['1', '2']);
  assert.equal(flow.state, FlowState.full);
  b.ack(lease, []);
  c.kick();
  await held;
  assert.deepEqual(stored(b), ['3']);
  assert.equal(b.inner.stats().droppedTotal.overflow, 0);
});

test('above the high watermark the group is committed at once but its acks are delayed', async (t) => {
  const { b, c, flow } = rig(t, { maxSizeBytes: 1000, high: 0.5, low: 0.4, maxAckDelayMs: 40 });
  const calls: string[] = [];
  c.submit(rec('big', 600), () => calls.push('big'));
  c.flush();
  assert.deepEqual(stored(b).map((s) => s.slice(0, 3)), ['big'], 'committed before the ack');
  assert.equal(flow.state, FlowState.slowing);
  assert.equal(calls.length, 0);
  assert.equal(c.delayed, 1);
  // The next group is not blocked by the delayed one.
  c.submit(rec('next'), () => calls.push('next'));
  c.flush();
  assert.equal(stored(b).length, 2);
  await delay(80);
  assert.deepEqual(calls, ['big', 'next']);
  assert.equal(c.delayed, 0);
});

test('re-entrant submits from callbacks (maxRecords reached while releasing) are committed exactly once, in order', async (t) => {
  const { b, c } = rig(t, { maxRecords: 4 });
  const submitted: string[] = [];
  const calledBack: string[] = [];
  const errors: unknown[] = [];
  let outstanding = 0;
  let resolveAll!: () => void;
  const allDone = new Promise<void>((r) => (resolveAll = r));

  const submit = (id: string, generation: number): void => {
    submitted.push(id);
    outstanding++;
    const cb: CommitCallback = (err) => {
      if (err) errors.push(err);
      calledBack.push(id);
      // Each committed record must already be on disk when its callback runs.
      if (!stored(b).includes(id)) errors.push(new Error(`${id} acknowledged before commit`));
      // Like aedes reading the next packets synchronously on PUBACK: submit more, right here.
      if (generation < 2) for (let k = 0; k < 3; k++) submit(`${id}.${k}`, generation + 1);
      if (--outstanding === 0) resolveAll();
    };
    c.submit(rec(id), cb);
  };

  for (let i = 0; i < 4; i++) submit(`r${i}`, 0); // the 4th submit flushes synchronously
  await allDone;

  assert.deepEqual(errors, []);
  assert.equal(submitted.length, 4 + 12 + 36);
  assert.deepEqual([...calledBack].sort(), [...submitted].sort(), 'every callback ran exactly once');
  assert.deepEqual(stored(b), submitted, 'every record stored exactly once, in submission order');
  assert.deepEqual(calledBack, submitted, 'callbacks released in submission order');
  assert.deepEqual(b.appends.flat(), submitted);
  assert.equal(c.pending, 0);
});

test('a callback submitting below maxRecords is committed by the next linger flush', async (t) => {
  const { b, c } = rig(t, { maxRecords: 10 });
  const inner = new Promise<GatewayError | null | undefined>((resolve) => {
    c.submit(rec('outer'), () => {
      c.submit(rec('inner'), resolve);
    });
  });
  assert.equal(await inner, null);
  assert.deepEqual(b.appends, [['outer'], ['inner']]);
  assert.deepEqual(stored(b), ['outer', 'inner']);
});

test(
  'flush() called from inside a commit callback does not strand a record submitted there',
  async (t) => {
    const { b, c } = rig(t, { maxRecords: 10 });
    let innerDone = false;
    c.submit(rec('outer'), () => {
      c.submit(rec('inner'), () => (innerDone = true));
      c.flush(); // e.g. shutdown triggered from a callback
    });
    await delay(100);
    assert.ok(innerDone, 'inner record committed and acknowledged');
    assert.deepEqual(stored(b), ['outer', 'inner']);
  },
);

test('a group larger than releaseSlice is released a slice per event-loop turn, in order, all after the commit', async (t) => {
  const { b, c } = rig(t, { maxRecords: 1000, releaseSlice: 10 });
  const order: number[] = [];
  const turnOf: number[] = [];
  let turn = 0;
  const done: Promise<unknown>[] = [];
  for (let i = 0; i < 35; i++) {
    done.push(
      submitP(c, rec(String(i)), () => {
        order.push(i);
        turnOf.push(turn);
        assert.ok(stored(b).includes(String(i)), `${i} acknowledged before its commit`);
      }),
    );
  }
  c.flush();
  assert.equal(order.length, 10, 'the first slice is released at once');
  assert.equal(c.releasePending, 25);
  while (order.length < 35) {
    turn++;
    await tick();
  }
  await Promise.all(done);
  assert.deepEqual(order, Array.from({ length: 35 }, (_, i) => i), 'submission order across slices');
  assert.equal(b.appends.length, 1, 'one commit; only the release is spread');
  assert.deepEqual([...new Set(turnOf)].length, 4, 'four slices (10 + 10 + 10 + 5), each in its own turn');
  assert.equal(c.releasePending, 0);
});

test('a group committed while an earlier one is still being released waits behind it (order kept), slabs not reused', async (t) => {
  const { b, c } = rig(t, { maxRecords: 1000, releaseSlice: 4 });
  const order: string[] = [];
  const done: Promise<unknown>[] = [];
  for (let i = 0; i < 9; i++) done.push(submitP(c, rec(`a${i}`), () => order.push(`a${i}`)));
  c.flush(); // a0..a3 released now, a4..a8 queued
  for (let i = 0; i < 6; i++) done.push(submitP(c, rec(`b${i}`), () => order.push(`b${i}`)));
  c.flush(); // committed at once; its commit releases one more slice, still from group a
  assert.deepEqual(order, ['a0', 'a1', 'a2', 'a3', 'a4', 'a5', 'a6', 'a7']);
  await Promise.all(done);
  assert.deepEqual(order, [...Array.from({ length: 9 }, (_, i) => `a${i}`), ...Array.from({ length: 6 }, (_, i) => `b${i}`)]);
  assert.deepEqual(stored(b), order);
  assert.equal(b.appends.length, 2);
});

test('shutdown (releaseDelayed) releases every queued slice at once: their rows are committed', (t) => {
  const { c } = rig(t, { maxRecords: 1000, releaseSlice: 3 });
  let called = 0;
  for (let i = 0; i < 10; i++) c.submit(rec(String(i)), () => called++);
  c.flush();
  assert.equal(called, 3);
  c.releaseDelayed();
  assert.equal(called, 10);
  assert.equal(c.releasePending, 0);
});
