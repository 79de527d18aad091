/**
 * A pushed config must not strand the gateway: a push that points the control room's own link at
 * a config topic it cannot read (a typo, a topic not created yet) is applied to the pipeline,
 * which stays healthy, so only the control link shows the damage. Proves that such a push is
 * rolled back inside its health window and that the next push, on the topic the gateway read
 * before, is still received and applied.
 */
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { signConfigDocument } from '../../gateway/src/control/config-document.js';
import { partitionForKey } from '../../gateway/src/control/partition-for-key.js';
import type { GatewayStatusRecord } from '../../gateway/src/control/status-record.js';
import { startKafka, type KafkaBroker } from '../kafka/kafka-harness.js';
import { freePorts } from '../kafka/free-port.js';
import { GatewayProcess } from '../support/gateway-process.js';
import { signingKeyPair, waitForGatewayStatus } from '../support/gateway-status-topic.js';
import { kcatProduce } from '../support/kcat.js';
import { uniqueTopics } from '../support/topics.js';

const GW = 'gw-strand-1';
const CONFIG_PARTITIONS = 3;

const waitStatus = (kafka: KafkaBroker, topic: string, what: string, pred: (s: GatewayStatusRecord) => boolean, timeoutMs?: number) =>
  waitForGatewayStatus(kafka.brokers, topic, GW, what, pred, timeoutMs);

test('a push that cuts the control link off its config topic is rolled back; the next push still arrives', { timeout: 240_000 }, async (t) => {
  const kafka = await startKafka();
  t.after(() => kafka.close());
  const { topic, dlqTopic } = uniqueTopics('strand');
  const configTopic = `${topic}.config`;
  const statusTopic = `${topic}.status`;
  await kafka.createTopics([topic, dlqTopic, statusTopic], 1);
  await kafka.createTopics([configTopic], CONFIG_PARTITIONS);
  const partition = partitionForKey(GW, CONFIG_PARTITIONS);
  const { privateKeyPem, publicKey } = signingKeyPair();
  const [mqttPort] = await freePorts(1);
  const base = {
    gatewayId: GW,
    log: { level: 'info', statsIntervalSecs: 0 },
    mqtt: { host: '127.0.0.1', port: mqttPort },
    kafka: { brokers: kafka.brokers, topic, dlqTopic, retryInitialMs: 100, retryMaxMs: 1000, connectionTimeoutMs: 1000, requestTimeoutMs: 5000 },
    control: {
      trustedKeys: [{ kid: 'ops-1', publicKey }],
      remoteConfig: { enabled: true, topic: configTopic, healthWindowMs: 5000, pollIntervalMs: 500 },
      status: { topic: statusTopic, heartbeatIntervalSecs: 1 },
    },
  };
  const gw = new GatewayProcess({ config: base });
  t.after(() => gw.close());
  (base as Record<string, unknown>)['buffer'] = { path: gw.dbPath };
  await gw.start();
  await waitStatus(kafka, statusTopic, 'the first heartbeat', (s) => s.heartbeat.kafka.up);

  const push = async (version: number, remoteTopic: string) => {
    const config = structuredClone(base);
    config.control.remoteConfig.topic = remoteTopic;
    const jws = await signConfigDocument({ privateKeyPem, kid: 'ops-1', gatewayId: GW, version, config: config as unknown as Record<string, unknown> });
    await kcatProduce(kafka.brokers, configTopic, partition, GW, jws);
  };

  // 1. The control link is pointed at a topic that does not exist: rolled back, with the reason.
  await push(1, `${configTopic}.typo`);
  const s1 = await waitStatus(kafka, statusTopic, 'v1 settled', (s) => s.config.lastResult?.version === 1 && s.config.lastResult.state !== 'pending');
  assert.equal(s1.config.lastResult!.state, 'rolled_back', 'a push whose control link cannot read its config topic is not confirmed');
  assert.equal(s1.config.lastResult!.code, 'GW_ERR_CONTROL_UNHEALTHY');
  assert.match(s1.config.lastResult!.reason!, /typo/);
  assert.equal(s1.config.source, 'file');

  // 2. The gateway is still reachable: the next push on the original topic is applied.
  await push(2, configTopic);
  const s2 = await waitStatus(kafka, statusTopic, 'v2 applied', (s) => s.config.version === 2 && s.config.lastResult?.state === 'applied');
  assert.equal(s2.config.source, 'pushed');
  assert.ok(gw.running);
});
