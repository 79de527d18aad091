/**
 * The gateway's in-process status (what the admin API and metrics will expose) tells the truth:
 * buffered rows/bytes/oldest age while Kafka cannot take data, ingest counters and rejections
 * by code, Kafka up/down, backpressure state, and drained counters once Kafka takes the data.
 */
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import mqtt from 'mqtt';
import { validateConfig } from '../../gateway/src/config/load-config.js';
import { createGateway } from '../../gateway/src/gateway.js';
import { createLogger } from '../../gateway/src/lib/logger.js';
import { sharedKafka } from '../kafka/shared-kafka.js';
import { uniqueTopics } from '../support/topics.js';
import { waitFor } from '../support/wait.js';

test('status reports buffer, ingest, flow and forward state truthfully', async (t) => {
  const kafka = await sharedKafka();
  const { topic, dlqTopic } = uniqueTopics('status');
  await kafka.createTopics([dlqTopic], 3); // telemetry topic missing: rows stay buffered
  const dir = mkdtempSync(join(tmpdir(), 'eg-status-'));
  t.after(() => rmSync(dir, { recursive: true, force: true }));
  const config = validateConfig({
    mqtt: { host: '127.0.0.1', port: 0 },
    buffer: { path: join(dir, 'buffer.db') },
    kafka: { brokers: kafka.brokers, topic, dlqTopic, retryInitialMs: 50, retryMaxMs: 200 },
    log: { level: 'silent' },
  });
  const gw = createGateway(config, { logger: createLogger('silent') });
  const { port } = await gw.start();
  t.after(() => gw.close({ forwardGraceMs: 1000 }));

  const dev = await mqtt.connectAsync(`mqtt://127.0.0.1:${port}`, { clientId: 'dev-1' });
  for (let i = 1; i <= 25; i++) await dev.publishAsync('devices/dev-1/telemetry', JSON.stringify({ seq: i }), { qos: 1 });
  await dev.endAsync();
  const intruder = await mqtt.connectAsync(`mqtt://127.0.0.1:${port}`, { clientId: 'dev-2', reconnectPeriod: 0 });
  intruder.publish('devices/dev-1/telemetry', '{"seq":1}', { qos: 1 });
  await new Promise<void>((r) => intruder.once('close', () => r()));
  intruder.end(true);

  const held = await waitFor('a forward error', () => {
    const s = gw.status();
    return s.forward.lastError ? s : null;
  }, 30_000);
  t.diagnostic(`forward error while the topic is missing: ${held.forward.lastError?.message}`);
  assert.equal(held.buffer.rows, 25);
  assert.ok(held.buffer.bytes >= 25 * (9 + 'devices/dev-1/telemetry'.length + 5 + 64));
  assert.ok(held.buffer.oldestAgeMs !== null && held.buffer.oldestAgeMs >= 0);
  assert.equal(held.ingest.acceptedTotal, 25);
  assert.equal(held.ingest.rejectedTotal['GW_ERR_INGEST_IDENTITY'], 1, 'publishing as another device is rejected and counted');
  assert.equal(held.flow.state, 'open');
  assert.equal(held.forward.kafkaUp, false, 'forwarding is down while the topic is missing');
  assert.equal(held.forward.lastError?.code, 'GW_ERR_FORWARD_TOPIC_MISSING');

  await kafka.createTopics([topic], 3);
  const drained = await waitFor('drained', () => {
    const s = gw.status();
    return s.buffer.rows === 0 ? s : null;
  }, 30_000);
  assert.equal(drained.buffer.ackedTotal, 25);
  assert.equal(drained.buffer.oldestAgeMs, null);
  assert.equal(drained.buffer.bytes, 0);
  assert.equal(drained.forward.kafkaUp, true);
  assert.ok(drained.forward.sentTotal >= 25);
});
