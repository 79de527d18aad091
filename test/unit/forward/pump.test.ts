/**
 * ForwardPump with a real SqliteBuffer (temp dir), a real AvroEncoder and a fake TelemetrySink:
 * buffer order and keys reach the sink, rows leave only after the sink resolved, retriable
 * failures re-send the same lease, a permanently rejected record is isolated and dead-lettered,
 * encode failures go to the DLQ topic in place, connect failures back off, stop() is bounded.
 */
import assert from 'node:assert/strict';
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { test, type TestContext } from 'node:test';
import type { SqliteBuffer } from '../../../gateway/src/buffer/sqlite-buffer.js';
import type Database from 'better-sqlite3';
import { openTestBuffer } from '../../support/buffer-db.js';
import { createAvroEncoder, type AvroEncoder, type EncoderRoute } from '../../../gateway/src/encode/avro-encoder.js';
import { gatewayError } from '../../../gateway/src/errors.js';
import type { Logger } from '../../../gateway/src/lib/logger.js';
import { createForwardPump, type ForwardPump, type PumpOptions } from '../../../gateway/src/forward/pump.js';
import type { OutMessage, SinkState, TelemetrySink } from '../../../gateway/src/forward/sink.js';
import type { IngestRecord } from '../../../gateway/src/record.js';
import { waitFor } from '../../support/wait.js';

class FakeSink implements TelemetrySink {
  connected = false;
  connectCalls = 0;
  /** Every send attempt, in order (including failed ones). */
  readonly attempts: OutMessage[][] = [];
  /** Messages of sends that resolved, in order. */
  readonly delivered: OutMessage[] = [];
  connectImpl: () => Promise<void> = async () => undefined;
  sendImpl: (messages: readonly OutMessage[]) => Promise<void> = async () => undefined;

  async connect(): Promise<void> {
    this.connectCalls++;
    await this.connectImpl();
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

function recordingLogger(): { logger: Logger; entries: Array<{ level: string; obj: unknown; msg: unknown }> } {
  const entries: Array<{ level: string; obj: unknown; msg: unknown }> = [];
  const l: Record<string, unknown> = {};
  for (const level of ['trace', 'debug', 'info', 'warn', 'error', 'fatal']) l[level] = (obj: unknown, msg: unknown) => entries.push({ level, obj, msg });
  l['child'] = () => l;
  return { logger: l as unknown as Logger, entries };
}

const READING_SCHEMA = {
  type: 'record',
  name: 'Reading',
  fields: [
    { name: 'temperature', type: 'double' },
    { name: 'seq', type: 'int' },
  ],
};
const ROUTES: EncoderRoute[] = [{ topic: 'devices/{deviceId}/telemetry' }, { topic: 'devices/{deviceId}/reading', valueSchema: READING_SCHEMA, kafkaTopic: 'readings' }];

interface Rig {
  buffer: SqliteBuffer;
  /** The buffer's database, to read its tables. */
  db: Database.Database;
  encoder: AvroEncoder;
  sink: FakeSink;
  pump: ForwardPump;
  entries: Array<{ level: string; obj: unknown; msg: unknown }>;
}

function rig(t: TestContext, over: Partial<PumpOptions> = {}): Rig {
  const dir = mkdtempSync(join(tmpdir(), 'gw-pump-'));
  const { buffer, db, close } = openTestBuffer({ path: join(dir, 'buffer.db'), synchronous: 'NORMAL', deadLetterMaxRows: 1000 });
  const encoder = createAvroEncoder({ gatewayId: 'gw-test', defaultTopic: 'telemetry.raw', routes: ROUTES });
  const sink = new FakeSink();
  const { logger, entries } = recordingLogger();
  const pump = createForwardPump({
    buffer,
    encoder,
    sink,
    logger,
    dlqTopic: 'telemetry.dlq',
    dlqMaxValueBytes: 64 * 1024,
    batchMaxRecords: 100,
    batchMaxBytes: 1 << 20,
    lingerMs: 0,
    retryInitialMs: 10,
    retryMaxMs: 20,
    ...over,
  });
  t.after(async () => {
    await pump.stop(50);
    close();
    rmSync(dir, { recursive: true, force: true });
  });
  return { buffer, db, encoder, sink, pump, entries };
}

function rec(deviceId: string, deviceSeq: number, kind: 'telemetry' | 'reading' = 'telemetry', payload?: string): IngestRecord {
  return {
    deviceId,
    topic: `devices/${deviceId}/${kind}`,
    qos: 1,
    receivedAt: 1_700_000_000_000 + deviceSeq,
    payload: Buffer.from(payload ?? JSON.stringify({ temperature: 20 + deviceSeq / 10, seq: deviceSeq })),
  };
}

/** Gateway seq of a message (raw envelope, or the x-gateway-seq header / typed envelope). */
function envelopeOf(encoder: AvroEncoder, m: OutMessage): Record<string, unknown> {
  const fp = m.value.readBigUInt64LE(2);
  const codec = [encoder.rawCodec, ...encoder.typedCodecs].find((c) => c.fingerprint === fp);
  assert.ok(codec, 'value carries a known fingerprint');
  return codec.type.fromBuffer(m.value.subarray(10)) as Record<string, unknown>;
}
const seqOf = (encoder: AvroEncoder, m: OutMessage) => envelopeOf(encoder, m)['seq'] as number;

function allSeqs(db: Database.Database): number[] {
  return (db.prepare('SELECT seq FROM records ORDER BY seq').all() as { seq: number }[]).map((r) => r.seq);
}

function deferred(): { promise: Promise<void>; resolve: () => void } {
  let resolve!: () => void;
  const promise = new Promise<void>((r) => (resolve = r));
  return { promise, resolve };
}

test('records from several devices reach the sink in buffer order, key = deviceId', async (t) => {
  const { buffer, db, encoder, sink, pump, entries } = rig(t, { batchMaxRecords: 7 });
  const input: IngestRecord[] = [];
  for (let i = 1; i <= 10; i++) for (const d of ['dev-a', 'dev-b', 'dev-c']) input.push(rec(d, i));
  buffer.append(input);
  const seqs = allSeqs(db);
  pump.start();
  pump.start(); // idempotent
  await waitFor('buffer drained', () => buffer.stats().rows === 0, 1500, 2);

  assert.equal(sink.delivered.length, 30);
  assert.deepEqual(
    sink.delivered.map((m) => seqOf(encoder, m)),
    seqs,
  );
  for (let i = 0; i < 30; i++) {
    const m = sink.delivered[i]!;
    const env = envelopeOf(encoder, m);
    assert.equal(m.key, input[i]!.deviceId);
    assert.equal(env['deviceId'], input[i]!.deviceId);
    assert.equal(m.topic, 'telemetry.raw');
    assert.equal(m.headers, undefined);
    assert.deepEqual(env['payload'], input[i]!.payload);
  }
  assert.ok(sink.attempts.every((a) => a.length <= 7), 'batchMaxRecords honored');
  assert.equal(sink.attempts.length, 5);
  const st = pump.stats();
  assert.equal(st.kafkaUp, true);
  assert.equal(st.sentTotal, 30);
  assert.equal(st.batchesTotal, 5);
  assert.equal(buffer.stats().ackedTotal, 30);
  assert.equal(sink.connectCalls, 1);
  assert.deepEqual(entries.filter((e) => e.level === 'fatal'), []);
});

test('rows are deleted only after send resolves', async (t) => {
  const { buffer, db, sink, pump } = rig(t);
  const gate = deferred();
  sink.sendImpl = () => gate.promise;
  buffer.append([rec('d1', 1), rec('d1', 2), rec('d2', 1)]);
  pump.start();
  await waitFor('first send', () => sink.attempts.length === 1, 1500, 2);
  await new Promise((r) => setTimeout(r, 20));
  assert.equal(buffer.stats().rows, 3);
  assert.equal(allSeqs(db).length, 3);
  assert.equal(buffer.stats().ackedTotal, 0);
  gate.resolve();
  await waitFor('ack after send', () => buffer.stats().rows === 0, 1500, 2);
  assert.deepEqual(allSeqs(db), []);
  assert.equal(sink.attempts.length, 1);
});

test('retriable send failure: the same lease is re-sent after backoff, nothing deleted meanwhile', async (t) => {
  const { buffer, db, encoder, sink, pump } = rig(t, { retryInitialMs: 10, retryMaxMs: 20 });
  const failures = 3;
  const rowsDuringFailures: number[] = [];
  const kafkaUpDuringFailures: boolean[] = [];
  const attemptTimes: number[] = [];
  sink.sendImpl = async () => {
    attemptTimes.push(performance.now());
    rowsDuringFailures.push(allSeqs(db).length);
    kafkaUpDuringFailures.push(pump.stats().kafkaUp);
    if (sink.attempts.length === 2) throw new Error('socket hang up'); // non-gateway errors are retried too
    if (sink.attempts.length <= failures) throw gatewayError('GW_ERR_FORWARD_SEND', 'broker timeout');
  };
  buffer.append([rec('d1', 1), rec('d2', 1), rec('d1', 2)]);
  const seqs = allSeqs(db);
  pump.start();
  await waitFor('delivery after retries', () => buffer.stats().rows === 0, 1500, 2);

  assert.equal(sink.attempts.length, failures + 1);
  for (const attempt of sink.attempts) {
    assert.deepEqual(
      attempt.map((m) => seqOf(encoder, m)),
      seqs,
      'same lease: same first..last seq every time',
    );
  }
  assert.deepEqual(rowsDuringFailures, [3, 3, 3, 3]);
  assert.deepEqual(kafkaUpDuringFailures.slice(1, failures), [false, false]);
  for (let i = 1; i < attemptTimes.length; i++) assert.ok(attemptTimes[i]! - attemptTimes[i - 1]! >= 8, 'retries are spaced by the backoff floor');
  const st = pump.stats();
  assert.equal(st.sendErrorsTotal, failures);
  assert.equal(st.lastError?.code, 'GW_ERR_FORWARD_SEND');
  assert.equal(st.kafkaUp, true);
  assert.equal(st.sentTotal, 3);
  assert.deepEqual(
    sink.delivered.map((m) => seqOf(encoder, m)),
    seqs,
  );
});

test('a record Kafka permanently rejects is isolated (split by device, then halving) and dead-lettered; each device keeps its order', async (t) => {
  const { buffer, db, encoder, sink, pump } = rig(t);
  const input = Array.from({ length: 8 }, (_, i) => rec(i % 2 ? 'dev-b' : 'dev-a', i + 1));
  buffer.append(input);
  const seqs = allSeqs(db);
  const poison = seqs[5]!;
  sink.sendImpl = async (messages) => {
    if (messages.some((m) => m.topic !== 'telemetry.dlq' && seqOf(encoder, m) === poison)) throw gatewayError('GW_ERR_FORWARD_REJECTED', 'MESSAGE_TOO_LARGE');
  };
  pump.start();
  await waitFor('isolation finished', () => buffer.stats().rows === 0, 1500, 2);

  // A multi-partition send is not atomic, so isolation re-sends per device: order is kept per
  // device (one partition each), not across devices.
  const dlq = sink.delivered.filter((m) => m.topic === 'telemetry.dlq');
  assert.deepEqual(dlq.map((m) => seqOf(encoder, m)), [poison], 'the rejected record went to the DLQ topic');
  const delivered = sink.delivered.filter((m) => m.topic !== 'telemetry.dlq').map((m) => seqOf(encoder, m));
  const deviceOf = new Map(input.map((r, i) => [seqs[i]!, r.deviceId]));
  for (const dev of ['dev-a', 'dev-b']) {
    assert.deepEqual(
      delivered.filter((s) => deviceOf.get(s) === dev),
      seqs.filter((s) => s !== poison && deviceOf.get(s) === dev),
      `${dev} complete and in order`,
    );
  }
  assert.equal(delivered.length, 7);
  const dead = db.prepare('SELECT seq, code, device_id FROM dead_letters').all() as Array<{ seq: number; code: string; device_id: string }>;
  assert.deepEqual(dead, [{ seq: poison, code: 'GW_ERR_FORWARD_REJECTED', device_id: input[5]!.deviceId }]);
  assert.equal(buffer.stats().deadLetteredTotal, 1, 'one dead letter, counted once (by the buffer)');
  assert.deepEqual(buffer.stats().deadLetteredByCode, { GW_ERR_FORWARD_REJECTED: 1 });
  assert.equal(buffer.stats().ackedTotal, 7);
  // 8 rejected -> dev-a [4 ok] + dev-b [4 rejected] -> [2 ok] + [2 rejected] -> [1 rejected -> DLQ] + [1 ok]
  assert.equal(sink.attempts.length, 8, 'split by device then halving, not one send per record; one DLQ send');
  assert.deepEqual(pump.stats().dlqSentByCode, { GW_ERR_FORWARD_REJECTED: 1 });
  assert.deepEqual(pump.stats().dlqUndeliverableByCode, {});
});

const TOO_LARGE = 5_000;
/** A broker whose telemetry topic refuses values over TOO_LARGE bytes; the DLQ topic per `dlq`. */
function refuseLarge(sink: FakeSink, dlq: (m: OutMessage) => Promise<void> = async () => undefined): void {
  sink.sendImpl = async (messages) => {
    for (const m of messages) {
      if (m.topic === 'telemetry.dlq') await dlq(m);
      else if (m.value.length > TOO_LARGE) throw gatewayError('GW_ERR_FORWARD_REJECTED', 'MESSAGE_TOO_LARGE: The request included a message larger than the max message size the server will accept.');
    }
  };
}
const bigPayload = (seq: number) => JSON.stringify({ seq, blob: 'z'.repeat(20_000) });

test('a rejected record goes to the DLQ topic cut to dlqMaxValueBytes, with headers; its row leaves only after the DLQ ack', async (t) => {
  const { buffer, db, encoder, sink, pump } = rig(t, { dlqMaxValueBytes: 2048 });
  buffer.append([rec('d1', 1), rec('d1', 2, 'telemetry', bigPayload(2)), rec('d1', 3)]);
  const seqs = allSeqs(db);
  const gate = deferred();
  let dlqSends = 0;
  refuseLarge(sink, async () => {
    dlqSends++;
    await gate.promise;
  });
  pump.start();
  await waitFor('DLQ send in flight', () => dlqSends === 1, 1500, 2);
  assert.ok(allSeqs(db).includes(seqs[1]!), 'the rejected row stays buffered until the DLQ acks');
  assert.equal((db.prepare('SELECT count(*) AS n FROM dead_letters').get() as { n: number }).n, 0);
  assert.deepEqual(pump.stats().dlqSentByCode, {}, 'not counted before the ack');
  gate.resolve();
  await waitFor('drained', () => buffer.stats().rows === 0, 1500, 2);

  const dlq = sink.delivered.filter((m) => m.topic === 'telemetry.dlq');
  assert.equal(dlq.length, 1);
  const m = dlq[0]!;
  assert.equal(m.key, 'd1');
  assert.ok(m.value.length <= 2048, `DLQ value ${m.value.length} bytes`);
  assert.equal(m.headers?.['x-dlq-code'], 'GW_ERR_FORWARD_REJECTED');
  assert.match(m.headers?.['x-dlq-reason'] ?? '', /MESSAGE_TOO_LARGE/);
  assert.equal(m.headers?.['x-gateway-seq'], String(seqs[1]));
  assert.equal(m.headers?.['x-dlq-source-topic'], 'telemetry.raw');
  assert.equal(m.headers?.['x-dlq-truncated'], 'true');
  assert.ok(Number(m.headers?.['x-dlq-original-bytes']) > 20_000);
  const env = envelopeOf(encoder, m);
  assert.equal(env['seq'], seqs[1]);
  assert.ok(Buffer.from(bigPayload(2)).subarray(0, (env['payload'] as Buffer).length).equals(env['payload'] as Buffer), 'a prefix of the payload');
  assert.deepEqual(sink.delivered.filter((x) => x.topic !== 'telemetry.dlq').map((x) => seqOf(encoder, x)), [seqs[0], seqs[2]]);
  const dead = db.prepare('SELECT seq, code, length(payload) AS n FROM dead_letters').all();
  assert.deepEqual(dead, [{ seq: seqs[1], code: 'GW_ERR_FORWARD_REJECTED', n: bigPayload(2).length }], 'the local table keeps the whole payload');
  assert.deepEqual(pump.stats().dlqSentByCode, { GW_ERR_FORWARD_REJECTED: 1 });
  assert.deepEqual(buffer.stats().deadLetteredByCode, { GW_ERR_FORWARD_REJECTED: 1 });
});

test('a DLQ send failing retriably (Kafka down) is retried; the dead letter is neither lost nor duplicated locally', async (t) => {
  const { buffer, sink, pump } = rig(t);
  buffer.append([rec('d1', 1, 'telemetry', bigPayload(1)), rec('d1', 2)]);
  let failures = 2;
  refuseLarge(sink, async () => {
    if (failures-- > 0) throw gatewayError('GW_ERR_FORWARD_SEND', 'Request timed out');
  });
  pump.start();
  await waitFor('drained', () => buffer.stats().rows === 0, 1500, 2);
  assert.equal(sink.attempts.filter((a) => a[0]?.topic === 'telemetry.dlq').length, 3);
  assert.equal(sink.delivered.filter((m) => m.topic === 'telemetry.dlq').length, 1);
  assert.equal(buffer.stats().deadLetteredTotal, 1);
  assert.deepEqual(pump.stats().sendErrorsByCode, { GW_ERR_FORWARD_SEND: 2 });
  assert.deepEqual(pump.stats().dlqSentByCode, { GW_ERR_FORWARD_REJECTED: 1 });
});

test('the DLQ topic refusing the dead letter too: kept locally only, counted, tried once (no loop), the queue moves on', async (t) => {
  const { buffer, db, encoder, sink, pump, entries } = rig(t);
  buffer.append([rec('d1', 1), rec('d1', 2, 'telemetry', bigPayload(2)), rec('d1', 3)]);
  const seqs = allSeqs(db);
  refuseLarge(sink, async () => {
    throw gatewayError('GW_ERR_FORWARD_REJECTED', 'MESSAGE_TOO_LARGE: dlq topic max.message.bytes');
  });
  pump.start();
  await waitFor('drained', () => buffer.stats().rows === 0, 1500, 2);
  assert.equal(sink.attempts.filter((a) => a[0]?.topic === 'telemetry.dlq').length, 1, 'one DLQ attempt');
  assert.deepEqual(sink.delivered.map((m) => seqOf(encoder, m)), [seqs[0], seqs[2]]);
  const dead = db.prepare('SELECT seq, code, reason FROM dead_letters').all() as Array<{ seq: number; code: string; reason: string }>;
  assert.equal(dead.length, 1);
  assert.equal(dead[0]!.code, 'GW_ERR_FORWARD_REJECTED');
  assert.match(dead[0]!.reason, /MESSAGE_TOO_LARGE.*; DLQ topic refused it too: .*MESSAGE_TOO_LARGE: dlq topic/);
  assert.deepEqual(pump.stats().dlqUndeliverableByCode, { GW_ERR_FORWARD_REJECTED: 1 });
  assert.deepEqual(pump.stats().dlqSentByCode, {});
  assert.equal(buffer.stats().deadLetteredTotal, 1);
  assert.ok(entries.some((e) => (e.obj as { event?: string }).event === 'dlq_refused'));
});

test('an encode failure whose DLQ message Kafka rejects is kept locally with its encode code, not sent again', async (t) => {
  const { buffer, sink, pump } = rig(t, { dlqMaxValueBytes: 64 * 1024 });
  buffer.append([rec('d1', 1, 'reading', JSON.stringify({ temperature: 'hot', seq: 1, blob: 'y'.repeat(10_000) })), rec('d1', 2, 'reading')]);
  sink.sendImpl = async (messages) => {
    if (messages.some((m) => m.topic === 'telemetry.dlq')) throw gatewayError('GW_ERR_FORWARD_REJECTED', 'MESSAGE_TOO_LARGE');
  };
  pump.start();
  await waitFor('drained', () => buffer.stats().rows === 0, 1500, 2);
  assert.equal(sink.attempts.filter((a) => a.length === 1 && a[0]!.topic === 'telemetry.dlq').length, 1, 'isolated once, never re-sent');
  assert.deepEqual(buffer.stats().deadLetteredByCode, { GW_ERR_ENCODE_SCHEMA_MISMATCH: 1 });
  assert.deepEqual(pump.stats().dlqUndeliverableByCode, { GW_ERR_ENCODE_SCHEMA_MISMATCH: 1 });
  assert.deepEqual(pump.stats().dlqSentByCode, {});
});

test('a typed-route payload that does not match goes to the DLQ topic in place; the device keeps its order', async (t) => {
  const { buffer, db, encoder, sink, pump } = rig(t, { batchMaxRecords: 2 });
  buffer.append([
    rec('d1', 1, 'reading'),
    rec('d2', 1),
    rec('d1', 2, 'reading', '{"temperature":"hot","seq":2}'),
    rec('d1', 3, 'reading'),
    rec('d1', 4, 'reading', '{"seq":4, oops'),
    rec('d1', 5, 'reading'),
  ]);
  const seqs = allSeqs(db);
  pump.start();
  await waitFor('all forwarded', () => buffer.stats().rows === 0, 1500, 2);

  const out = sink.delivered;
  assert.deepEqual(
    out.map((m) => seqOf(encoder, m)),
    seqs,
  );
  assert.deepEqual(
    out.map((m) => m.topic),
    ['readings', 'telemetry.raw', 'telemetry.dlq', 'readings', 'telemetry.dlq', 'readings'],
  );
  assert.ok(out.every((m, i) => m.key === (i === 1 ? 'd2' : 'd1')));
  const mismatch = out[2]!;
  assert.equal(mismatch.headers?.['x-dlq-code'], 'GW_ERR_ENCODE_SCHEMA_MISMATCH');
  assert.match(mismatch.headers?.['x-dlq-reason'] ?? '', /temperature/);
  assert.equal(mismatch.headers?.['x-gateway-seq'], String(seqs[2]));
  assert.equal(mismatch.value.readBigUInt64LE(2), encoder.rawCodec.fingerprint, 'DLQ value is the raw envelope');
  assert.deepEqual(envelopeOf(encoder, mismatch)['payload'], Buffer.from('{"temperature":"hot","seq":2}'));
  assert.equal(out[4]!.headers?.['x-dlq-code'], 'GW_ERR_ENCODE_PAYLOAD_NOT_JSON');
  assert.equal((envelopeOf(encoder, out[3]!)['payload'] as { seq: number }).seq, 3);

  const dead = db.prepare('SELECT seq, code FROM dead_letters ORDER BY seq').all();
  assert.deepEqual(dead, [
    { seq: seqs[2], code: 'GW_ERR_ENCODE_SCHEMA_MISMATCH' },
    { seq: seqs[4], code: 'GW_ERR_ENCODE_PAYLOAD_NOT_JSON' },
  ]);
  assert.deepEqual(buffer.stats().deadLetteredByCode, { GW_ERR_ENCODE_SCHEMA_MISMATCH: 1, GW_ERR_ENCODE_PAYLOAD_NOT_JSON: 1 });
  assert.equal(buffer.stats().ackedTotal, 4);
});

test('sink.connect failing: kafkaUp false, attempts bounded by the backoff (no busy loop), then recovers', async (t) => {
  const { buffer, db, encoder, sink, pump, entries } = rig(t, { retryInitialMs: 50, retryMaxMs: 50 });
  sink.connectImpl = async () => {
    throw new Error('connect ECONNREFUSED 127.0.0.1:9092');
  };
  buffer.append([rec('d1', 1)]);
  const seqs = allSeqs(db);
  pump.start();
  await new Promise((r) => setTimeout(r, 300));
  const attempts = sink.connectCalls;
  assert.ok(attempts >= 2, `retried: ${attempts}`);
  assert.ok(attempts <= 8, `bounded by the 50 ms floor: ${attempts} attempts in 300 ms`);
  const st = pump.stats();
  assert.equal(st.kafkaUp, false);
  assert.equal(st.lastError?.code, 'GW_ERR_FORWARD_CONNECT');
  assert.equal(sink.attempts.length, 0, 'nothing sent while disconnected');
  assert.equal(buffer.stats().rows, 1);
  assert.equal(entries.filter((e) => e.level === 'warn').length, 1, 'kafka_down logged once, not per attempt');

  sink.connectImpl = async () => undefined;
  await waitFor('delivery after reconnect', () => buffer.stats().rows === 0, 1500, 2);
  assert.equal(pump.stats().kafkaUp, true);
  assert.deepEqual(
    sink.delivered.map((m) => seqOf(encoder, m)),
    seqs,
  );
});

test('new rows committed while idle are forwarded after notify()', async (t) => {
  const { buffer, sink, pump } = rig(t);
  pump.start();
  await waitFor('connected', () => sink.connectCalls === 1, 1500, 2);
  await new Promise((r) => setTimeout(r, 10));
  buffer.append([rec('d1', 1)]);
  pump.notify();
  await waitFor('woken by notify', () => sink.delivered.length === 1, 500, 2);
  assert.equal(buffer.stats().rows, 0);
});

test('stop(graceMs) returns even while a send hangs, and leaves the rows buffered', async (t) => {
  const { buffer, db, sink, pump } = rig(t);
  sink.sendImpl = () => new Promise<void>(() => undefined); // never settles
  buffer.append([rec('d1', 1), rec('d1', 2)]);
  pump.start();
  await waitFor('send in flight', () => sink.attempts.length === 1, 1500, 2);
  const t0 = performance.now();
  await pump.stop(100);
  const took = performance.now() - t0;
  assert.ok(took >= 90 && took < 600, `stop took ${took.toFixed(0)} ms`);
  assert.equal(buffer.stats().rows, 2);
  assert.equal(allSeqs(db).length, 2);
  const t1 = performance.now();
  await pump.stop(100);
  assert.ok(performance.now() - t1 < 150, 'second stop is safe');
  assert.equal(sink.attempts.length, 1, 'no new send after stop');
});

test('stop() of an idle pump returns promptly (does not wait the grace period)', async (t) => {
  const { pump, entries } = rig(t);
  pump.start();
  await waitFor('connected', () => entries.some((e) => (e.obj as { event?: string }).event === 'kafka_up'), 1500, 2);
  await new Promise((r) => setTimeout(r, 20)); // now parked in idle()
  const t0 = performance.now();
  await pump.stop(5000);
  assert.ok(performance.now() - t0 < 200);
});

test(
  'stop() issued while connect() is in progress returns promptly once connect resolves',
  async (t) => {
    const { sink, pump } = rig(t);
    const gate = deferred();
    sink.connectImpl = () => gate.promise;
    pump.start();
    await waitFor('connect in progress', () => sink.connectCalls === 1, 1500, 2);
    const t0 = performance.now();
    const stopped = pump.stop(300);
    gate.resolve();
    await stopped;
    const took = performance.now() - t0;
    assert.ok(took < 150, `stop took ${took.toFixed(0)} ms with nothing in flight`);
  },
);

test('stop() before start() resolves at once', async (t) => {
  const { pump, sink } = rig(t);
  await pump.stop(5000);
  assert.equal(sink.connectCalls, 0);
});
