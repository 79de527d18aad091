/**
 * Proves the two overflow policies at the buffer's hard cap, with Kafka unable to take the data
 * (the topic does not exist yet, so nothing drains):
 *  - block (default): devices are slowed then held (acks withheld, sockets not read); the buffer
 *    never exceeds its cap; nothing is dropped; once Kafka takes data again everything arrives.
 *    Also measures the gateway's RSS while 1,000 devices are held.
 *  - dropOldest: the oldest unsent rows are evicted to make room, every eviction is in the drop
 *    log, and the auditor matches them: Kafka records + deliberate drops = everything acked,
 *    and no dropped record was delivered.
 */
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { runSimulation } from '../../firmware-sim/src/load-generator.js';
import { sharedKafka } from '../kafka/shared-kafka.js';
import { GatewayProcess } from '../support/gateway-process.js';
import { uniqueTopics } from '../support/topics.js';
import { auditTopic } from '../support/audit.js';
import { rssBytes, snapshotBuffer } from '../support/buffer-db.js';
import { waitFor } from '../support/wait.js';
import { readDropLog } from '../../gateway/src/audit/drop-log.js';
import { assertNoLoss } from '../support/audit-assertions.js';

const MiB = 1024 * 1024;

test('block: 1,000 devices held at the cap, buffer within its cap, nothing dropped, all delivered later', async (t) => {
  const kafka = await sharedKafka();
  const { topic, dlqTopic } = uniqueTopics('block');
  await kafka.createTopics([dlqTopic], 3); // telemetry topic created later: until then nothing drains
  const gw = new GatewayProcess({
    config: {
      buffer: { maxSizeBytes: MiB, highWatermark: 0.7, lowWatermark: 0.5, overflowPolicy: 'block', maxAckDelayMs: 200 },
      kafka: { brokers: kafka.brokers, topic, dlqTopic, retryInitialMs: 100, retryMaxMs: 500 },
    },
  });
  t.after(() => gw.close());
  await gw.start();

  const simDone = runSimulation({ url: gw.url, devices: 1000, qos: 1, messagesPerDevice: 8, payloadBytes: 200, inflightWindow: 8, connectSpreadMs: 2000, drainTimeoutMs: 120_000 });
  await gw.waitForEvent('backpressure_on', 60_000);
  await gw.waitForEvent('buffer_full', 60_000);
  // Held: sample the buffer and the process while devices wait.
  const rss: number[] = [];
  let maxBytes = 0;
  for (let i = 0; i < 10; i++) {
    await new Promise((r) => setTimeout(r, 300));
    const snap = snapshotBuffer(gw.dbPath);
    if (snap) maxBytes = Math.max(maxBytes, snap.accountedBytes);
    const r = gw.pid ? rssBytes(gw.pid) : null;
    if (r) rss.push(r);
  }
  const held = snapshotBuffer(gw.dbPath)!;
  t.diagnostic(`held at cap: rows=${held.rows} bytes=${held.accountedBytes} (cap ${MiB}); gateway RSS while 1,000 devices held: ${(Math.max(...rss) / MiB).toFixed(1)} MiB`);
  assert.ok(maxBytes <= MiB, `buffer stayed within its cap (${maxBytes} <= ${MiB})`);
  assert.ok(held.rows < 8000, 'devices are being held: not everything got in');
  assert.equal(held.dropLogRows, 0, 'block drops nothing');

  await kafka.createTopics([topic], 3);
  await gw.waitForEvent('backpressure_off', 120_000);
  const sim = await simDone;
  assert.equal(sim.acked, 8000, 'every device eventually got all its messages acknowledged');
  assert.equal(sim.dropped, 0);

  const report = await auditTopic({ brokers: kafka.brokers, topic, dlqTopic, sim, timeoutMs: 60_000 });
  assert.equal(report.records - report.duplicates, 8000);
  assertNoLoss(report);
  assert.equal(report.deliberateDrops.records, 0);
  assert.equal(report.ok, true);
});

test('dropOldest: evictions are logged, counted exactly, and matched by the auditor', async (t) => {
  const kafka = await sharedKafka();
  const { topic, dlqTopic } = uniqueTopics('dropold');
  await kafka.createTopics([dlqTopic], 3);
  const gw = new GatewayProcess({
    config: {
      buffer: { maxSizeBytes: MiB, highWatermark: 0.7, lowWatermark: 0.5, overflowPolicy: 'dropOldest', maxAckDelayMs: 50 },
      kafka: { brokers: kafka.brokers, topic, dlqTopic, retryInitialMs: 100, retryMaxMs: 500 },
    },
  });
  t.after(() => gw.close());
  await gw.start();

  // ~ 6,000 x 330 accounted bytes = 2 MiB into a 1 MiB buffer: about half must be evicted.
  const sim = await runSimulation({ url: gw.url, devices: 20, qos: 1, messagesPerDevice: 300, payloadBytes: 200, drainTimeoutMs: 120_000 });
  assert.equal(sim.acked, 6000, 'dropOldest keeps accepting: every publish acknowledged');
  const snap = snapshotBuffer(gw.dbPath)!;
  assert.ok(snap.accountedBytes <= MiB, 'buffer within its cap');
  assert.ok(snap.dropLogRows > 0, 'oldest rows were evicted');
  assert.equal(snap.rows + snap.dropLogRows, 6000, 'every acknowledged row is either buffered or in the drop log');

  await kafka.createTopics([topic], 3);
  await waitFor('buffer drained', () => snapshotBuffer(gw.dbPath)?.rows === 0, 60_000);
  await gw.stop();
  const drops = readDropLog(gw.dbPath);
  assert.ok(drops.every((d) => d.reason === 'overflow'));
  const report = await auditTopic({ brokers: kafka.brokers, topic, dlqTopic, sim, drops, timeoutMs: 30_000 });
  t.diagnostic(`delivered ${report.records}, deliberately dropped ${report.deliberateDrops.records}`);
  assert.equal(report.deliberateDrops.records, snap.dropLogRows);
  assert.equal(report.deliberateDrops.alsoDelivered, 0, 'no evicted record reached Kafka');
  assert.equal(report.records + report.deliberateDrops.records, 6000, 'delivered + deliberately dropped = acknowledged');
  assertNoLoss(report, { checkGaps: false });
  assert.equal(report.ok, true);
});
