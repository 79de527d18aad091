/**
 * Proves that refused Kafka credentials are reported as such and cost nothing: the gateway
 * logs in with SASL/SCRAM-SHA-256 as a user the broker does not know yet, says kafka_down with
 * code GW_ERR_FORWARD_AUTH (not "unreachable"), and keeps PUBACKing devices: 500 QoS1 messages
 * go to disk. Once the user is created on the broker, the gateway's own retry logs in
 * (kafka_up) without a restart, and the auditor finds all 500 in Kafka with zero gaps.
 */
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { runSimulation } from '../../firmware-sim/src/load-generator.js';
import { startKafka } from '../kafka/kafka-harness.js';
import { GatewayProcess } from '../support/gateway-process.js';
import { uniqueTopics } from '../support/topics.js';
import { auditTopic } from '../support/audit.js';
import { assertNoLoss } from '../support/audit-assertions.js';

const USER = 'gw';
const PASSWORD = 'gw-secret';

test('unknown SASL user: kafka_down GW_ERR_FORWARD_AUTH, devices still acked, all delivered once the user exists', { timeout: 120_000 }, async (t) => {
  const testStart = Date.now();
  const kafka = await startKafka({ sasl: { mechanism: 'SCRAM-SHA-256' } });
  t.after(() => kafka.close());
  const { topic, dlqTopic } = uniqueTopics('auth');
  await kafka.createTopics([topic, dlqTopic], 3); // over PLAINTEXT: the harness is not the user under test
  assert.ok(kafka.saslBootstrap !== undefined);

  const gw = new GatewayProcess({
    config: {
      gatewayId: 'gw-auth',
      kafka: {
        brokers: [kafka.saslBootstrap],
        topic,
        dlqTopic,
        sasl: { mechanism: 'scram-sha-256', username: USER, password: PASSWORD },
        connectionTimeoutMs: 2000,
        retryInitialMs: 200,
        retryMaxMs: 1000,
      },
    },
  });
  t.after(() => gw.close());
  await gw.start();
  const down = await gw.waitForEvent('kafka_down', 30_000);
  t.diagnostic(`kafka_down: ${String(down['code'])}: ${String(down['reason'])}`);
  assert.equal(down['code'], 'GW_ERR_FORWARD_AUTH', 'a refused login is reported as an auth problem');

  const sim = await runSimulation({ url: gw.url, devices: 10, qos: 1, messagesPerDevice: 50 });
  assert.equal(sim.acked, 500, 'all PUBACKed while Kafka refuses the credentials');
  assert.equal(sim.errors, 0);
  assert.equal(gw.logs.some((l) => l.event === 'kafka_up'), false, 'the gateway really was locked out while devices published');
  const authDowns = gw.logs.filter((l) => l.event === 'kafka_down').map((l) => String(l['code']));
  assert.deepEqual([...new Set(authDowns)], ['GW_ERR_FORWARD_AUTH'], 'no other failure reason was reported');

  const t0 = Date.now();
  await kafka.addScramUser(USER, PASSWORD);
  const userAt = Date.now();
  const up = await gw.waitForEvent('kafka_up', 30_000);
  const upAt = Date.now();
  const report = await auditTopic({ brokers: kafka.brokers, topic, dlqTopic, sim, timeoutMs: 60_000 });

  t.diagnostic(`addScramUser took ${userAt - t0} ms; kafka_up ${upAt - userAt} ms later (bufferedRows ${String(up['bufferedRows'])})`);
  t.diagnostic(`audit: records ${report.records}, duplicates ${report.duplicates}, gaps ${report.gaps}; wall time ${((Date.now() - testStart) / 1000).toFixed(1)} s`);
  assert.equal(up['bufferedRows'], 500, 'the 500 rows waited on disk for the login');
  assert.equal(report.records, 500);
  assertNoLoss(report);
  assert.equal(report.duplicates, 0, 'nothing was sent before the login succeeded, so nothing twice');
  assert.equal(report.ok, true);
});
