/**
 * Proves crash safety under repeated kill -9: while 30 devices publish QoS1 at a fixed rate, the
 * gateway is SIGKILLed at 20 random moments (seeded, so a failing run can be replayed with
 * EG_TEST_CHAOS_SEED) and restarted each time on the same SQLite file and MQTT port. When the
 * dust settles the auditor reads Kafka back: no PUBACKed message is missing, no gaps, per-device
 * order kept. Duplicates are allowed but bounded, per crash, by what the devices had in flight
 * plus two leases: the one Kafka acked whose rows were not yet deleted (the delete runs while
 * the next send is in flight) and that next one, which Kafka may have written:
 *   duplicates <= kills * (devices * inflightWindow + 2 * kafka.batchMaxRecords).
 */
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { randomInt } from 'node:crypto';
import Database from 'better-sqlite3';
import { runSimulation } from '../../firmware-sim/src/load-generator.js';
import { createRng } from '../../firmware-sim/src/rng.js';
import { sharedKafka } from '../kafka/shared-kafka.js';
import { GatewayProcess } from '../support/gateway-process.js';
import { uniqueTopics } from '../support/topics.js';
import { auditTopic } from '../support/audit.js';
import { sleep } from '../support/wait.js';
import { assertNoLoss } from '../support/audit-assertions.js';

const KILLS = 20;
const DEVICES = 30;
const RATE_PER_DEVICE = 30;
const INFLIGHT_WINDOW = 16;
const BATCH_MAX_RECORDS = 500;

function bufferedRows(dbPath: string): number {
  const db = new Database(dbPath, { readonly: true, fileMustExist: true });
  try {
    return (db.prepare('SELECT count(*) AS n FROM records').get() as { n: number }).n;
  } finally {
    db.close();
  }
}

test(`${KILLS} SIGKILLs under load: nothing PUBACKed is lost, order kept, duplicates bounded`, async (t) => {
  const seed = Number(process.env['EG_TEST_CHAOS_SEED'] ?? randomInt(1, 2 ** 31));
  t.diagnostic(`chaos seed: ${seed} (replay with EG_TEST_CHAOS_SEED=${seed})`);
  const rng = createRng(seed);

  const kafka = await sharedKafka();
  const { topic, dlqTopic } = uniqueTopics('chaos');
  await kafka.createTopics([topic, dlqTopic], 3);
  const kafkaConfig = { brokers: kafka.brokers, topic, dlqTopic, batchMaxRecords: BATCH_MAX_RECORDS, retryInitialMs: 100, retryMaxMs: 1000 };

  const first = new GatewayProcess({ config: { kafka: kafkaConfig } });
  let current = first;
  t.after(async () => {
    await current.close();
    await first.close(); // owns the directory
  });
  await first.start();
  const port = first.port;

  const stopDevices = new AbortController();
  t.after(() => stopDevices.abort());
  const simDone = runSimulation(
    {
      url: first.url,
      devices: DEVICES,
      qos: 1,
      ratePerDevice: RATE_PER_DEVICE,
      inflightWindow: INFLIGHT_WINDOW,
      reconnectBaseMs: 100,
      reconnectMaxMs: 1000,
      drainTimeoutMs: 60_000,
      seed,
    },
    { signal: stopDevices.signal },
  );

  const delays: number[] = [];
  let bufferedAtRestart = 0;
  const chaosStart = Date.now();
  for (let kill = 1; kill <= KILLS; kill++) {
    const delay = 300 + Math.floor(rng() * 1200);
    delays.push(delay);
    await sleep(delay);
    await current.kill();
    current = new GatewayProcess({ dir: first.dir, config: { mqtt: { port }, kafka: kafkaConfig } });
    await current.start();
    bufferedAtRestart += Number(current.logs.find((l) => l.event === 'buffer_open')?.['bufferedRows'] ?? 0);
  }
  const chaosMs = Date.now() - chaosStart;

  // Last life: let the devices catch up, then stop generating and drain.
  await sleep(2000);
  stopDevices.abort();
  const sim = await simDone;
  // Every duplicate should be in Kafka before counting: wait for the last life's buffer to empty.
  const drainDeadline = Date.now() + 60_000;
  while (bufferedRows(current.dbPath) > 0 && Date.now() < drainDeadline) await sleep(100);
  const report = await auditTopic({ brokers: kafka.brokers, topic, dlqTopic, sim, timeoutMs: 60_000 });

  const bound = KILLS * (DEVICES * INFLIGHT_WINDOW + 2 * BATCH_MAX_RECORDS);
  t.diagnostic(
    `kills: ${KILLS} over ${chaosMs} ms (delays ${delays.join(',')} ms), devices: ${DEVICES} x ${RATE_PER_DEVICE} msg/s, ` +
      `sent: ${sim.sent}, resent: ${sim.resent}, acked: ${sim.acked}, reconnects: ${sim.reconnects}, rows found buffered at restarts: ${bufferedAtRestart}`,
  );
  t.diagnostic(`Kafka records: ${report.records}, duplicates: ${report.duplicates} (bound ${bound}), missingAcked: ${report.missingAcked}, gaps: ${report.gaps}, outOfOrder: ${report.outOfOrder}`);

  assert.equal(sim.dropped, 0, 'no device overflowed its offline queue');
  assert.equal(sim.acked, sim.sent, 'in the end every message was PUBACKed');
  assert.ok(sim.reconnects >= KILLS, 'devices saw the crashes');
  assertNoLoss(report);
  assert.equal(report.records - report.duplicates, sim.sent, 'each message is in Kafka, once or more');
  assert.ok(report.duplicates <= bound, `duplicates ${report.duplicates} within ${bound}`);
});
