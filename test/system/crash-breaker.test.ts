/**
 * Proves the crash breaker on the real gateway process, real SQLite file and real Kafka. A test
 * module preloaded with NODE_OPTIONS=--import (test/support/crash-on-marker.ts; no test branch in
 * product code) throws an uncaught TypeError whenever a Kafka send carries one marked record,
 * i.e. a bug that kills the process while that row is in flight. Six rows are buffered while
 * Kafka is unreachable, then:
 *   start 1: one batch with all six in flight -> crash; the uncaughtException handler records
 *            crash_guard = all six rows, crashes 1; exit code 1.
 *   start 2: the guarded rows go one at a time; the three before the marked one reach Kafka; the
 *            marked one crashes it again -> crash_guard = that row alone, crashes 2; exit 1.
 *   start 3: with crashLimit 2 that row is moved to dead_letters (GW_ERR_FORWARD_POISON_ROW,
 *            logged as poison_row_dead_lettered) without being sent (a send would crash it
 *            again: the preload is still there), the rest reach Kafka, the guard is cleared and
 *            the gateway stays up.
 * Not proven here: that kill -9 never counts; that holds by construction (no handler runs).
 */
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { pathToFileURL } from 'node:url';
import { fileURLToPath } from 'node:url';
import Database from 'better-sqlite3';
import mqtt from 'mqtt';
import { sharedKafka } from '../kafka/shared-kafka.js';
import { freePorts } from '../kafka/free-port.js';
import { GatewayProcess } from '../support/gateway-process.js';
import { uniqueTopics } from '../support/topics.js';
import { auditTopic } from '../support/audit.js';

const MARKER = 'CRASH-ME-7f3a';
const preload = pathToFileURL(fileURLToPath(new URL('../support/crash-on-marker.js', import.meta.url))).href;

interface GuardRow {
  first_seq: number;
  last_seq: number;
  crashes: number;
  last_code: string;
}

function query<T>(dbPath: string, sql: string): T[] {
  const db = new Database(dbPath, { readonly: true });
  try {
    return db.prepare(sql).all() as T[];
  } finally {
    db.close();
  }
}

async function waitUntil(cond: () => boolean, what: string, timeoutMs: number): Promise<void> {
  const deadline = Date.now() + timeoutMs;
  while (!cond()) {
    if (Date.now() > deadline) throw new Error(`timed out waiting for ${what}`);
    await new Promise((r) => setTimeout(r, 50));
  }
}

/** Runs a start that must crash: resolves with its exit code and its `crash` log line. */
async function crashingStart(gw: GatewayProcess): Promise<{ code: number | null; crash: Record<string, unknown> | undefined }> {
  await gw.start();
  await waitUntil(() => !gw.running, 'the process to die', 60_000);
  const code = await gw.stop(); // already exited: returns its exit code
  return { code, crash: gw.logs.find((l) => l.event === 'crash') };
}

test('a row that crashes the process twice while in flight is dead-lettered at the next start; the rest reach Kafka', async (t) => {
  const kafka = await sharedKafka();
  const { topic, dlqTopic } = uniqueTopics('breaker');
  await kafka.createTopics([topic, dlqTopic], 3);
  const [deadPort] = await freePorts(1);
  const kafkaConfig = { topic, dlqTopic, retryInitialMs: 100, retryMaxMs: 500, connectionTimeoutMs: 1000 };
  const config = (brokers: string[]) => ({ kafka: { brokers, ...kafkaConfig }, forward: { crashLimit: 2 } });
  const env = { NODE_OPTIONS: `--import ${preload}`, EG_TEST_CRASH_MARKER: MARKER };

  // Buffer six rows while Kafka is unreachable.
  const filler = new GatewayProcess({ config: config([`127.0.0.1:${deadPort}`]) });
  t.after(() => filler.close());
  await filler.start();
  const a = await mqtt.connectAsync(filler.url, { clientId: 'dev-a', clean: true, protocolVersion: 4, reconnectPeriod: 0 });
  const b = await mqtt.connectAsync(filler.url, { clientId: 'dev-b', clean: true, protocolVersion: 4, reconnectPeriod: 0 });
  const sent: Array<[mqtt.MqttClient, string, string]> = [
    [a, 'dev-a', '{"seq":1}'],
    [a, 'dev-a', '{"seq":2}'],
    [b, 'dev-b', '{"seq":1}'],
    [a, 'dev-a', `{"seq":3,"note":"${MARKER}"}`],
    [b, 'dev-b', '{"seq":2}'],
    [a, 'dev-a', '{"seq":4}'],
  ];
  for (const [c, id, payload] of sent) await c.publishAsync(`devices/${id}/telemetry`, payload, { qos: 1 });
  await a.endAsync(true);
  await b.endAsync(true);
  assert.equal(await filler.stop(), 0);
  const seqs = query<{ seq: number }>(filler.dbPath, 'SELECT seq FROM records ORDER BY seq').map((r) => r.seq);
  assert.equal(seqs.length, 6, 'six rows buffered');
  const markerSeq = seqs[3]!;
  const dir = filler.dir;

  // Start 1: the batch is in flight when the process dies.
  const gw1 = new GatewayProcess({ config: config(kafka.brokers), dir, env });
  t.after(() => gw1.close());
  const run1 = await crashingStart(gw1);
  assert.equal(run1.code, 1, 'uncaught exception: exit code 1');
  assert.ok(run1.crash, 'a fatal `crash` log line');
  let guard = query<GuardRow>(gw1.dbPath, 'SELECT * FROM crash_guard');
  assert.deepEqual(
    guard.map((g) => [g.first_seq, g.last_seq, g.crashes, g.last_code]),
    [[seqs[0], seqs[5], 1, 'TypeError']],
    'the handler recorded all six rows in flight, first crash',
  );

  // Start 2: one row at a time; the marked row crashes it again, alone in flight.
  const gw2 = new GatewayProcess({ config: config(kafka.brokers), dir, env });
  t.after(() => gw2.close());
  const run2 = await crashingStart(gw2);
  assert.equal(run2.code, 1);
  assert.ok(gw2.logs.some((l) => l.event === 'crash_guard_active' && l['crashes'] === 1));
  guard = query<GuardRow>(gw2.dbPath, 'SELECT * FROM crash_guard');
  assert.deepEqual(guard.map((g) => [g.first_seq, g.last_seq, g.crashes]), [[markerSeq, markerSeq, 2]], 'narrowed to the marked row, second crash');
  assert.deepEqual(
    query<{ seq: number }>(gw2.dbPath, 'SELECT seq FROM records ORDER BY seq').map((r) => r.seq),
    seqs.slice(3),
    'the rows before it were sent and acknowledged one by one',
  );

  // Start 3: dead-lettered unsent (the preload would crash any send of it), the rest forwarded.
  const gw3 = new GatewayProcess({ config: config(kafka.brokers), dir, env });
  t.after(() => gw3.close());
  await gw3.start();
  const poison = await gw3.waitForEvent('poison_row_dead_lettered', 30_000);
  assert.equal(poison['seq'], markerSeq);
  assert.equal(poison['deviceId'], 'dev-a');
  assert.equal(poison['code'], 'GW_ERR_FORWARD_POISON_ROW');
  await gw3.waitForEvent('crash_guard_cleared', 30_000);
  await waitUntil(() => query<{ n: number }>(gw3.dbPath, 'SELECT count(*) AS n FROM records')[0]!.n === 0 || !gw3.running, 'buffer drained', 30_000);
  assert.equal(gw3.running, true, 'the gateway stays up');
  assert.equal(await gw3.stop(), 0);

  const dead = query<{ seq: number; device_id: string; code: string; reason: string; payload: Buffer }>(gw3.dbPath, 'SELECT seq, device_id, code, reason, payload FROM dead_letters');
  assert.deepEqual(dead.map((d) => [d.seq, d.device_id, d.code]), [[markerSeq, 'dev-a', 'GW_ERR_FORWARD_POISON_ROW']]);
  assert.match(dead[0]!.reason, /2 consecutive crashes \(last: TypeError\)/);
  assert.equal(dead[0]!.payload.toString(), sent[3]![2], 'kept whole in dead_letters');
  assert.deepEqual(query(gw3.dbPath, 'SELECT * FROM crash_guard'), [], 'guard cleared');

  // Every other row is in Kafka, in per-device order (start 1's batch may have been written
  // before the crash, so duplicates are possible; first occurrences must be in order).
  const seen = new Map<string, number[]>();
  await auditTopic({
    brokers: kafka.brokers,
    topic,
    dlqTopic,
    timeoutMs: 30_000,
    onRecord: (env) => {
      const p = JSON.parse(Buffer.from(env.payload as Buffer).toString('utf8')) as { seq: number; note?: string };
      if (p.note === MARKER) return; // possibly written by start 1 before it died; never by start 3
      const list = seen.get(env.deviceId) ?? [];
      if (!list.includes(p.seq)) list.push(p.seq);
      seen.set(env.deviceId, list);
    },
  });
  assert.deepEqual(seen.get('dev-a'), [1, 2, 4]);
  assert.deepEqual(seen.get('dev-b'), [1, 2]);
});
