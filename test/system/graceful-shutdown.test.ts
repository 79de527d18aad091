/**
 * Proves graceful shutdown keeps the promise. SIGTERM under load (20 devices publishing QoS1 at
 * a fixed rate): the gateway logs shutdown_begin and shutdown_complete and exits 0; the SQLite
 * file it leaves is consistent (integrity_check ok, WAL checkpointed away); and every message a
 * device got a PUBACK for is in Kafka already or still in the buffer: the devices stop when the
 * gateway is gone, the gateway is restarted on the same files with no device connected, and the
 * auditor finds every acknowledged message, with no gaps.
 * Second case: a second SIGTERM while the first shutdown waits for Kafka (the broker address
 * accepts TCP but never answers, so the forward grace period is pending with rows buffered)
 * forces exit at once with code 130, and the buffered rows are still in SQLite afterwards.
 */
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { statSync } from 'node:fs';
import { createServer, type Socket } from 'node:net';
import Database from 'better-sqlite3';
import { runSimulation, type SimSummary } from '../../firmware-sim/src/load-generator.js';
import { sharedKafka } from '../kafka/shared-kafka.js';
import { GatewayProcess } from '../support/gateway-process.js';
import { uniqueTopics } from '../support/topics.js';
import { auditTopic } from '../support/audit.js';
import { sleep } from '../support/wait.js';
import { assertNoLoss } from '../support/audit-assertions.js';

/** A hung exit is a failed test, not a hung suite (this bounds a wait; it measures nothing). */
const EXIT_DEADLINE_MS = 30_000;

async function exitCodeOf(gw: GatewayProcess, stopping: Promise<number | null>, what: string): Promise<number | null> {
  let timer: NodeJS.Timeout | undefined;
  const deadline = new Promise<never>((_, reject) => {
    timer = setTimeout(() => {
      const events = gw.logs.map((l) => l.event).filter((e) => e !== undefined);
      reject(new Error(`${what}: the gateway had not exited ${EXIT_DEADLINE_MS} ms after the signal; events: ${events.join(', ')}`));
    }, EXIT_DEADLINE_MS);
  });
  try {
    return await Promise.race([stopping, deadline]);
  } finally {
    clearTimeout(timer);
  }
}

function walBytes(dbPath: string): number | null {
  try {
    return statSync(`${dbPath}-wal`).size;
  } catch {
    return null; // absent
  }
}

/** Buffered (device id, device seq) pairs, read through a second, read-only connection. */
function bufferedSeqs(dbPath: string): Map<string, Set<number>> {
  const db = new Database(dbPath, { readonly: true, fileMustExist: true });
  try {
    const out = new Map<string, Set<number>>();
    const rows = db.prepare("SELECT device_id AS d, json_extract(CAST(payload AS TEXT), '$.seq') AS s FROM records").all() as { d: string; s: number }[];
    for (const r of rows) {
      let set = out.get(r.d);
      if (!set) out.set(r.d, (set = new Set()));
      set.add(r.s);
    }
    return out;
  } finally {
    db.close();
  }
}

test('SIGTERM under load: clean exit, consistent file, every PUBACKed message in Kafka or the buffer', async (t) => {
  const kafka = await sharedKafka();
  const { topic, dlqTopic } = uniqueTopics('term');
  await kafka.createTopics([topic, dlqTopic], 3);
  const config = { kafka: { brokers: kafka.brokers, topic, dlqTopic } };
  const first = new GatewayProcess({ config });
  t.after(() => first.close());
  await first.start();
  const port = first.port;

  const stopDevices = new AbortController();
  let acked = 0;
  const simDone = runSimulation(
    { url: first.url, devices: 20, qos: 1, ratePerDevice: 50, inflightWindow: 16, reconnectBaseMs: 100, reconnectMaxMs: 500, drainTimeoutMs: 2000, progressIntervalMs: 100 },
    { signal: stopDevices.signal, onProgress: (p) => (acked = p.acked) },
  );
  t.after(() => stopDevices.abort());
  for (const until = Date.now() + 60_000; acked < 3000; await sleep(100)) {
    if (Date.now() > until) throw new Error(`devices got only ${acked} PUBACKs in 60 s`);
  }

  // SIGTERM while the devices keep publishing.
  const signalledAt = Date.now();
  const code = await exitCodeOf(first, first.stop(), 'graceful shutdown under load');
  const shutdownMs = Date.now() - signalledAt;
  const events = first.logs.map((l) => l.event).filter((e) => e !== undefined);
  assert.ok(events.includes('shutdown_begin'), 'logged shutdown_begin');
  const complete = first.logs.find((l) => l.event === 'shutdown_complete');
  assert.ok(complete, `logged shutdown_complete (events: ${events.join(', ')})`);
  assert.equal(code, 0, 'exit code 0');

  // The devices can get no more PUBACKs: what they have now is the acknowledged set.
  stopDevices.abort();
  const sim: SimSummary = await simDone;

  // The file the gateway left behind: WAL checkpointed away, database consistent.
  const wal = walBytes(first.dbPath);
  assert.ok(wal === null || wal === 0, `the -wal file is absent or empty after shutdown (${wal} bytes)`);
  const db = new Database(first.dbPath, { readonly: true, fileMustExist: true });
  const integrity = db.pragma('integrity_check', { simple: true });
  const leftInBuffer = (db.prepare('SELECT count(*) AS n FROM records').get() as { n: number }).n;
  db.close();
  assert.equal(integrity, 'ok');
  assert.equal(leftInBuffer, complete['bufferedRows'], 'rows on disk = rows the gateway reported at shutdown_complete');

  // Restart on the same files with no device connected: only the buffer can add to Kafka now.
  const second = new GatewayProcess({ dir: first.dir, config: { ...config, mqtt: { port } } });
  t.after(() => second.close());
  await second.start();
  const report = await auditTopic({ brokers: kafka.brokers, topic, dlqTopic, sim, timeoutMs: 60_000 });
  t.diagnostic(
    `acked before SIGTERM: ${sim.acked} (sent ${sim.sent}), shutdown took ${shutdownMs} ms, left in buffer: ${leftInBuffer}, ` +
      `wal after: ${wal ?? 'absent'}, Kafka records: ${report.records}, duplicates: ${report.duplicates}`,
  );
  assert.ok(sim.acked > 0);
  assertNoLoss(report);
  assert.equal(report.devices, 20);
});

test('a second SIGTERM while the first shutdown waits for Kafka forces exit 130; buffered rows stay in SQLite', async (t) => {
  // "Kafka" that accepts connections and never answers: the producer's connect hangs, so the
  // shutdown sits in its forward grace period instead of finishing at once.
  const silent = new Set<Socket>();
  const blackHole = createServer((s) => {
    silent.add(s);
    s.on('error', () => undefined);
    s.once('close', () => silent.delete(s));
  });
  await new Promise<void>((r) => blackHole.listen(0, '127.0.0.1', () => r()));
  t.after(() => {
    for (const s of silent) s.destroy();
    return new Promise<void>((r) => blackHole.close(() => r()));
  });
  const { port: kafkaPort } = blackHole.address() as { port: number };
  const { topic, dlqTopic } = uniqueTopics('term2');
  const gw = new GatewayProcess({ config: { kafka: { brokers: [`127.0.0.1:${kafkaPort}`], topic, dlqTopic } } });
  t.after(() => gw.close());
  await gw.start();

  const sim = await runSimulation({ url: gw.url, devices: 10, qos: 1, messagesPerDevice: 100, inflightWindow: 16 });
  assert.equal(sim.acked, 1000, 'all PUBACKed (committed) while Kafka does not answer');
  assert.equal(gw.logs.some((l) => l.event === 'kafka_up'), false);

  const firstStop = gw.stop(); // SIGTERM #1
  await gw.waitForEvent('shutdown_begin', 10_000);
  await sleep(500);
  assert.equal(gw.logs.some((l) => l.event === 'shutdown_complete'), false, 'the first shutdown is still waiting');
  const secondAt = Date.now();
  const code = await exitCodeOf(gw, gw.stop(), 'second SIGTERM'); // SIGTERM #2
  const forcedMs = Date.now() - secondAt;
  assert.equal(await firstStop, code);
  t.diagnostic(`exit ${code} ${forcedMs} ms after the second SIGTERM`);
  assert.equal(code, 130);
  assert.equal(gw.logs.some((l) => l.event === 'shutdown_complete'), false, 'it did not wait for the grace period');

  const buffered = bufferedSeqs(gw.dbPath);
  let rows = 0;
  for (const [deviceId, seqs] of buffered) {
    rows += seqs.size;
    const r = sim.perDevice[deviceId];
    assert.ok(r, `buffered rows are from the simulated devices (${deviceId})`);
    for (let s = 1; s <= r.ackedContiguousTo; s++) assert.ok(seqs.has(s), `${deviceId} seq ${s} still buffered`);
  }
  assert.equal(buffered.size, 10);
  assert.equal(rows, 1000, 'every acknowledged row is still in SQLite');
});
