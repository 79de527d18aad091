/**
 * Proves the keystone path end to end with real components: 50 simulated devices (MQTT.js, one
 * connection each) x 200 QoS1 messages -> gateway process (aedes -> SQLite -> Avro) -> real Kafka.
 * The auditor reads all 10,000 back, decodes the Avro envelopes, and every field equals what the
 * devices sent (payload bytes captured by an independent MQTT subscriber on the gateway's broker),
 * key = device id, per-device order kept, zero gaps, zero duplicates.
 */
import { test } from 'node:test';
import assert from 'node:assert/strict';
import mqtt from 'mqtt';
import { runSimulation } from '../../firmware-sim/src/load-generator.js';
import { sharedKafka } from '../kafka/shared-kafka.js';
import { GatewayProcess } from '../support/gateway-process.js';
import { uniqueTopics } from '../support/topics.js';
import { auditTopic } from '../support/audit.js';
import { assertNoLoss } from '../support/audit-assertions.js';

test('50 devices x 200 QoS1 messages arrive in Kafka complete, decoded, keyed and in order', async (t) => {
  const kafka = await sharedKafka();
  const { topic, dlqTopic } = uniqueTopics('fleet');
  await kafka.createTopics([topic, dlqTopic], 3);
  // The observer is a local dashboard: the ACL lets it (and only it) read every device's telemetry.
  const acl = [
    { topic: 'devices/%c/config', access: 'read' },
    { anonymous: true, topic: 'devices/+/telemetry', access: 'read' },
  ];
  const gw = new GatewayProcess({ config: { gatewayId: 'gw-fleet', mqtt: { acl }, kafka: { brokers: kafka.brokers, topic, dlqTopic } } });
  t.after(() => gw.close());
  await gw.start();

  // An independent observer of what the devices put on the wire.
  const sentPayloads = new Map<string, Buffer>();
  const observer = await mqtt.connectAsync(gw.url, { clientId: 'observer', clean: true });
  t.after(() => observer.endAsync());
  observer.on('message', (topicName, payload) => {
    const seq = (JSON.parse(payload.toString()) as { seq: number }).seq;
    sentPayloads.set(`${topicName.split('/')[1]}#${seq}`, Buffer.from(payload));
  });
  await observer.subscribeAsync('devices/+/telemetry', { qos: 0 });

  const sim = await runSimulation({ url: gw.url, devices: 50, qos: 1, messagesPerDevice: 200, inflightWindow: 32 });
  assert.equal(sim.acked, 10_000, 'every publish was PUBACKed');
  assert.equal(sim.errors, 0);
  // The observer's QoS0 copies may still be in flight when the devices' acks are in: wait, bounded.
  for (let i = 0; i < 200 && sentPayloads.size < 10_000; i++) await new Promise((r) => setTimeout(r, 50));
  assert.equal(sentPayloads.size, 10_000, 'observer saw every publish');

  const decoded: Array<{ key: string | null; deviceId: string; topic: string; qos: number; gatewayId: string; receivedAt: number; payload: Buffer }> = [];
  const report = await auditTopic({
    brokers: kafka.brokers,
    topic,
    dlqTopic,
    sim,
    timeoutMs: 60_000,
    onRecord: (env, meta) => decoded.push({ key: meta.key, deviceId: env.deviceId, topic: env.topic, qos: env.qos, gatewayId: env.gatewayId, receivedAt: env.receivedAt, payload: env.payload as Buffer }),
  });

  assert.equal(report.records, 10_000);
  assert.equal(report.devices, 50);
  assertNoLoss(report);
  assert.equal(report.duplicates, 0);
  assert.equal(report.dlq.records, 0);
  assert.equal(report.ok, true);

  const now = Date.now();
  for (const r of decoded) {
    assert.equal(r.key, r.deviceId);
    assert.equal(r.topic, `devices/${r.deviceId}/telemetry`);
    assert.equal(r.qos, 1);
    assert.equal(r.gatewayId, 'gw-fleet');
    assert.ok(r.receivedAt > now - 300_000 && r.receivedAt <= now, 'receivedAt is a recent epoch ms');
    const body = JSON.parse(r.payload.toString()) as { deviceId: string; seq: number };
    assert.equal(body.deviceId, r.deviceId);
    assert.deepEqual(r.payload, sentPayloads.get(`${r.deviceId}#${body.seq}`), `payload of ${r.deviceId}#${body.seq} is byte-identical`);
  }
});
