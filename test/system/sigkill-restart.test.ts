/**
 * Proves "nothing acknowledged is lost" across a process crash: the gateway is SIGKILLed
 * mid-stream while Kafka is unreachable (so rows are certainly still buffered), restarted on the
 * same SQLite file, and every message the devices got a PUBACK for arrives in Kafka. Devices
 * re-send what was not acknowledged when the connection dropped, so duplicates are allowed
 * (counted in the report) but gaps are not.
 */
import { test } from 'node:test';
import assert from 'node:assert/strict';
import Database from 'better-sqlite3';
import { runSimulation } from '../../firmware-sim/src/load-generator.js';
import { sharedKafka } from '../kafka/shared-kafka.js';
import { GatewayProcess } from '../support/gateway-process.js';
import { uniqueTopics } from '../support/topics.js';
import { auditTopic } from '../support/audit.js';
import { assertNoLoss } from '../support/audit-assertions.js';

test('SIGKILL mid-stream with rows buffered: every PUBACKed message arrives after restart', async (t) => {
  const kafka = await sharedKafka();
  const { topic, dlqTopic } = uniqueTopics('kill');
  await kafka.createTopics([topic, dlqTopic], 3);

  // First life: Kafka address unreachable, so everything acknowledged sits in SQLite.
  const first = new GatewayProcess({ config: { kafka: { brokers: ['127.0.0.1:1'], topic, dlqTopic } } });
  t.after(() => first.close());
  await first.start();
  const port = first.port;

  const simDone = runSimulation({ url: first.url, devices: 20, qos: 1, messagesPerDevice: 300, inflightWindow: 16, reconnectBaseMs: 100, reconnectMaxMs: 1000, drainTimeoutMs: 60_000 }, {
    onProgress: () => undefined,
  });
  // Let traffic flow, then pull the plug.
  const db = () => new Database(first.dbPath, { readonly: true, fileMustExist: true });
  for (let i = 0; i < 200; i++) {
    await new Promise((r) => setTimeout(r, 50));
    try {
      const conn = db();
      const n = (conn.prepare('SELECT count(*) AS n FROM records').get() as { n: number }).n;
      conn.close();
      if (n >= 1500) break;
    } catch {
      // database not created yet
    }
  }
  await first.kill();
  const conn = db();
  const bufferedAtKill = (conn.prepare('SELECT count(*) AS n FROM records').get() as { n: number }).n;
  conn.close();
  assert.ok(bufferedAtKill > 0, 'rows were still buffered when the gateway died');

  // Second life: same directory and SQLite file, same port, Kafka reachable now.
  const second = new GatewayProcess({ dir: first.dir, config: { mqtt: { port }, kafka: { brokers: kafka.brokers, topic, dlqTopic } } });
  t.after(() => second.close());
  await second.start();
  const sim = await simDone;
  assert.equal(sim.acked, 6000, 'devices eventually got every message acknowledged');
  assert.ok(sim.reconnects > 0, 'devices noticed the crash and reconnected');

  const report = await auditTopic({ brokers: kafka.brokers, topic, dlqTopic, sim, timeoutMs: 60_000 });
  t.diagnostic(`buffered at kill: ${bufferedAtKill}, records: ${report.records}, duplicates: ${report.duplicates}, resent by devices: ${sim.resent}`);
  assertNoLoss(report);
  assert.ok(report.records >= 6000);
  assert.equal(report.records - report.duplicates, 6000);
  assert.ok(report.duplicates <= sim.resent, 'duplicates are bounded by what devices re-sent');
});
