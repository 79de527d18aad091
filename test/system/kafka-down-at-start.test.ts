/**
 * Proves that ingest does not depend on Kafka: the gateway starts while Kafka is down, logs that
 * it is buffering, PUBACKs 2,000 messages (committed to SQLite), and when Kafka comes up all
 * 2,000 arrive with zero gaps and per-device order kept.
 */
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { runSimulation } from '../../firmware-sim/src/load-generator.js';
import { startKafka } from '../kafka/kafka-harness.js';
import { GatewayProcess } from '../support/gateway-process.js';
import { uniqueTopics } from '../support/topics.js';
import { auditTopic } from '../support/audit.js';
import { assertNoLoss } from '../support/audit-assertions.js';

test('messages PUBACKed while Kafka is down all arrive once it is up', async (t) => {
  const kafka = await startKafka();
  t.after(() => kafka.close());
  const { topic, dlqTopic } = uniqueTopics('down');
  await kafka.createTopics([topic, dlqTopic], 3);
  await kafka.stop();

  const gw = new GatewayProcess({
    config: { kafka: { brokers: kafka.brokers, topic, dlqTopic, retryInitialMs: 100, retryMaxMs: 1000, connectionTimeoutMs: 1000 } },
  });
  t.after(() => gw.close());
  await gw.start();
  const down = await gw.waitForEvent('kafka_down');
  assert.match(String(down.msg), /buffering/);

  const sim = await runSimulation({ url: gw.url, devices: 20, qos: 1, messagesPerDevice: 100 });
  assert.equal(sim.acked, 2000, 'all PUBACKed with Kafka down');
  assert.equal(gw.logs.some((l) => l.event === 'kafka_up'), false, 'Kafka really was down while devices published');

  await kafka.start();
  await gw.waitForEvent('kafka_up', 60_000);
  const report = await auditTopic({ brokers: kafka.brokers, topic, dlqTopic, sim, timeoutMs: 60_000 });
  assert.equal(report.records, 2000);
  assertNoLoss(report);
  assert.equal(report.duplicates, 0);
  assert.equal(report.ok, true);
});
