/**
 * Proves the admin HTTP listener on the real gateway process with real Kafka:
 * 1. /healthz and /readyz answer 200; /metrics (parsed by the Prometheus reference parser, the
 *    Python client's) follows a firmware-sim's publishes (accepted, group commits, Kafka records
 *    and the publish -> Kafka-ack histogram) and a Kafka outage (kafka_up 1 -> 0 -> 1, errors by
 *    code, rows buffered then drained) while /readyz stays 200 (Kafka is not required); /status
 *    (the status page's snapshot, admin-status.ts) agrees with the heartbeat record the gateway
 *    writes to its status topic.
 * 2. A really full filesystem (SQLITE_FULL) turns /readyz to 503 (bufferWritable false) and the
 *    flow state metric to diskError; freeing space turns it back to 200.
 * 3. A non-loopback admin bind without a token is refused at config load (the process exits);
 *    with a token (GATEWAY_ADMIN_TOKEN), requests without it get 401 and /healthz stays open.
 */
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { runSimulation } from '../../firmware-sim/src/load-generator.js';
import type { AdminStatus } from '../../gateway/src/control/admin-status.js';
import type { GatewayStatusRecord } from '../../gateway/src/control/status-record.js';
import { startKafka } from '../kafka/kafka-harness.js';
import { sharedKafka } from '../kafka/shared-kafka.js';
import { createCompactedTopic } from '../support/control-kafka.js';
import { GatewayProcess } from '../support/gateway-process.js';
import { kcatRead } from '../support/kcat.js';
import { mountSmallFilesystem } from '../support/small-filesystem.js';
import { parsePrometheusText, sampleValue, type PromFamily } from '../support/prometheus-text.js';
import { uniqueTopics } from '../support/topics.js';
import { sleep } from '../support/wait.js';

const MiB = 1024 * 1024;
async function adminBase(gw: GatewayProcess): Promise<string> {
  await gw.waitForEvent('admin_listening', 20_000);
  return `http://127.0.0.1:${gw.adminPort}`;
}

async function metrics(base: string, headers: Record<string, string> = {}): Promise<PromFamily[]> {
  const res = await fetch(`${base}/metrics`, { headers });
  assert.equal(res.status, 200);
  assert.match(res.headers.get('content-type') ?? '', /^text\/plain; version=0\.0\.4/);
  return parsePrometheusText(await res.text());
}

/** Polls /metrics until `pred` holds; returns that scrape. */
async function metricsUntil(base: string, what: string, pred: (m: PromFamily[]) => boolean, timeoutMs = 60_000): Promise<PromFamily[]> {
  const deadline = Date.now() + timeoutMs;
  for (;;) {
    const m = await metrics(base);
    if (pred(m)) return m;
    if (Date.now() > deadline) throw new Error(`metrics: ${what} not within ${timeoutMs} ms`);
    await sleep(250);
  }
}

const v = (m: PromFamily[], name: string, labels: Record<string, string> = {}): number => sampleValue(m, name, labels) ?? NaN;

test('healthz, readyz, status and metrics follow a publishing sim and a Kafka outage', async (t) => {
  const kafka = await startKafka();
  t.after(() => kafka.close());
  const { topic, dlqTopic } = uniqueTopics('admin');
  await kafka.createTopics([topic, dlqTopic], 3);
  const control = { status: `${topic}.gw-status`, config: `${topic}.dev-config`, deviceStatus: `${topic}.dev-status` };
  for (const c of Object.values(control)) await createCompactedTopic(kafka.brokers, c, 1);

  const gw = new GatewayProcess({
    config: {
      gatewayId: 'gw-admin',
      kafka: { brokers: kafka.brokers, topic, dlqTopic, retryInitialMs: 100, retryMaxMs: 1000, connectionTimeoutMs: 1000, requestTimeoutMs: 5000 },
      // Device configuration on: the control room then writes heartbeats, which /status must match.
      control: { status: { topic: control.status, heartbeatIntervalSecs: 1 }, deviceConfig: { enabled: true, topic: control.config, statusTopic: control.deviceStatus } },
    },
  });
  t.after(() => gw.close());
  await gw.start();
  const base = await adminBase(gw);

  const health = await fetch(`${base}/healthz`);
  assert.equal(health.status, 200);
  assert.equal(((await health.json()) as { status: string }).status, 'ok');
  await metricsUntil(base, 'kafka_up 1', (m) => v(m, 'gateway_forward_kafka_up') === 1);
  const ready = await fetch(`${base}/readyz`);
  assert.equal(ready.status, 200);
  assert.deepEqual(await ready.json(), { ready: true, checks: { pipeline: true, listening: true, bufferWritable: true }, kafkaUp: true, flowState: 'open' });

  const m0 = await metrics(base);
  const family = (name: string) => m0.find((f) => f.name === name);
  assert.equal(family('gateway_ingest_publishes_accepted')?.type, 'counter');
  assert.equal(family('gateway_buffer_commit_duration_seconds')?.type, 'histogram');
  assert.equal(family('gateway_forward_publish_ack_latency_seconds')?.type, 'histogram');
  assert.equal(family('gateway_nodejs_eventloop_lag_seconds')?.type, 'gauge');
  assert.ok(v(m0, 'gateway_process_resident_memory_bytes') > 0);
  assert.equal(v(m0, 'gateway_info', { gateway_id: 'gw-admin', config_source: 'file' }), 1);

  // 1. A sim publishes 5 x 100 QoS 1 messages: every count moves, from its one owner.
  const sim = await runSimulation({ url: gw.url, devices: 5, qos: 1, messagesPerDevice: 100, ratePerDevice: 200, payloadBytes: 100 });
  assert.equal(sim.acked, 500);
  const m1 = await metricsUntil(base, '500 records acknowledged by Kafka', (m) => v(m, 'gateway_forward_records_total') - v(m0, 'gateway_forward_records_total') >= 500);
  const delta = (name: string, labels: Record<string, string> = {}) => v(m1, name, labels) - v(m0, name, labels);
  assert.equal(delta('gateway_ingest_publishes_accepted_total'), 500);
  assert.equal(delta('gateway_buffer_appended_total'), 500);
  assert.equal(delta('gateway_buffer_acked_total'), 500);
  assert.ok(delta('gateway_buffer_commit_size_records_count') >= 1, 'group commits observed');
  assert.equal(delta('gateway_buffer_commit_size_records_sum'), 500, 'every accepted record in exactly one commit');
  assert.ok(delta('gateway_buffer_commit_duration_seconds_count') >= 1);
  assert.ok(delta('gateway_forward_batches_total') >= 1);
  assert.ok(delta('gateway_forward_bytes_total') > 500 * 100, 'Avro values at least as long as the payloads');
  assert.equal(delta('gateway_forward_send_duration_seconds_count'), delta('gateway_forward_batches_total'));
  assert.equal(delta('gateway_forward_publish_ack_latency_seconds_count'), 500, 'one latency per record');
  assert.ok(delta('gateway_ingest_auth_accepted_total', { method: 'anonymous' }) >= 5);
  assert.equal(v(m1, 'gateway_buffer_rows'), 0);
  assert.equal(v(m1, 'gateway_buffer_flow_state', { state: 'open' }), 1);

  // /status (the status page's snapshot) agrees with the heartbeat the status topic holds.
  const status = (await (await fetch(`${base}/status`)).json()) as AdminStatus;
  assert.equal(status.kind, 'edge-gateway-admin-status');
  assert.equal(status.gatewayId, 'gw-admin');
  assert.equal(status.kafka.up, true);
  let heartbeat: GatewayStatusRecord | undefined;
  for (let i = 0; i < 60 && heartbeat === undefined; i++) {
    const records = await kcatRead(kafka.brokers, control.status);
    const last = records.filter((r) => r.key === 'gw-admin').at(-1);
    if (last) heartbeat = JSON.parse(last.value) as GatewayStatusRecord;
    else await sleep(500);
  }
  assert.ok(heartbeat, 'a heartbeat in the status topic');
  assert.equal(status.config.hash, heartbeat.config.hash);
  assert.equal(status.config.source, heartbeat.config.source);
  assert.equal(status.binaryVersion, heartbeat.heartbeat.binaryVersion);

  // 2. Kafka down: kafka_up 0, errors by code, rows buffered; still ready (useful offline).
  // The forwarder learns that Kafka is gone at its next send (an idle producer's connection
  // looks fine until used): the offline publishes are that send.
  await kafka.stop();
  const offline = await runSimulation({ url: gw.url, devices: 2, qos: 1, messagesPerDevice: 50, ratePerDevice: 200, payloadBytes: 100 });
  assert.equal(offline.acked, 100, 'devices are acknowledged from disk while Kafka is down');
  const down = await metricsUntil(base, 'kafka_up 0', (m) => v(m, 'gateway_forward_kafka_up') === 0);
  const errors = down.flatMap((f) => f.samples).filter((s) => s.name === 'gateway_forward_errors_total');
  assert.ok(errors.length > 0 && errors.every((s) => /^GW_ERR_FORWARD_/.test(s.labels['code'] ?? '')), `errors by code: ${JSON.stringify(errors)}`);
  const buffered = await metricsUntil(base, '100 rows buffered', (m) => v(m, 'gateway_buffer_rows') >= 100);
  assert.ok(v(buffered, 'gateway_buffer_oldest_age_seconds') > 0);
  assert.ok(v(buffered, 'gateway_buffer_fill_ratio') > 0);
  const offReady = await fetch(`${base}/readyz`);
  assert.equal(offReady.status, 200, 'Kafka is reported, not required');
  assert.equal(((await offReady.json()) as { kafkaUp: boolean }).kafkaUp, false);
  const offStatus = (await (await fetch(`${base}/status`)).json()) as AdminStatus;
  assert.equal(offStatus.kafka.up, false);
  assert.ok(offStatus.buffer.rows >= 100);

  // 3. Kafka back: kafka_up 1 and the backlog drains.
  await kafka.start();
  const back = await metricsUntil(base, 'kafka_up 1 and drained', (m) => v(m, 'gateway_forward_kafka_up') === 1 && v(m, 'gateway_buffer_rows') === 0, 90_000);
  assert.equal(v(back, 'gateway_forward_records_total') - v(m0, 'gateway_forward_records_total'), 600);
  assert.ok(v(back, 'gateway_forward_publish_ack_latency_seconds_bucket', { le: '+Inf' }) >= 600);
});

test('readyz turns 503 on a really full disk and back to 200 when space returns', async (t) => {
  const fs = mountSmallFilesystem(8 * MiB);
  t.after(() => fs.unmount());
  const kafka = await sharedKafka();
  const { topic, dlqTopic } = uniqueTopics('adminfull');
  await kafka.createTopics([dlqTopic], 3); // the telemetry topic is missing: rows stay on disk
  const gw = new GatewayProcess({
    dir: fs.dir,
    config: { buffer: { maxSizeBytes: 1024 * MiB }, kafka: { brokers: kafka.brokers, topic, dlqTopic, retryInitialMs: 100, retryMaxMs: 500 } },
  });
  t.after(() => gw.close());
  await gw.start();
  const base = await adminBase(gw);
  assert.equal((await fetch(`${base}/readyz`)).status, 200);
  fs.fill('filler', Math.max(0, fs.freeBytes() - 1.5 * MiB));

  const simDone = runSimulation({ url: gw.url, devices: 10, qos: 1, messagesPerDevice: 500, payloadBytes: 200, reconnectBaseMs: 200, reconnectMaxMs: 2000, drainTimeoutMs: 120_000 });
  await gw.waitForEvent('disk_error', 60_000);
  const full = await fetch(`${base}/readyz`);
  assert.equal(full.status, 503);
  assert.deepEqual(((await full.json()) as { checks: unknown }).checks, { pipeline: true, listening: true, bufferWritable: false });
  assert.equal((await fetch(`${base}/healthz`)).status, 200, 'alive, though not ready');
  const m = await metrics(base);
  assert.equal(v(m, 'gateway_buffer_flow_state', { state: 'diskError' }), 1);

  fs.remove('filler');
  await kafka.createTopics([topic], 3);
  await gw.waitForEvent('disk_recovered', 60_000);
  const deadline = Date.now() + 30_000;
  let status = 0;
  while (Date.now() < deadline && (status = (await fetch(`${base}/readyz`)).status) !== 200) await sleep(200);
  assert.equal(status, 200, 'ready again once the disk takes commits');
  assert.equal((await simDone).acked, 5000);
});

test('a non-loopback bind needs a token: refused at config load without one, 401 without it', async (t) => {
  const refused = new GatewayProcess({ config: { admin: { host: '0.0.0.0', port: 0 }, kafka: { brokers: ['127.0.0.1:1'] } } });
  t.after(() => refused.close());
  await assert.rejects(refused.start(), /admin\.token: a non-loopback admin host needs a token/);

  const token = 'system-test-admin-token-0123456789';
  const gw = new GatewayProcess({ config: { admin: { host: '0.0.0.0', port: 0 }, kafka: { brokers: ['127.0.0.1:1'] } }, env: { GATEWAY_ADMIN_TOKEN: token } });
  t.after(() => gw.close());
  await gw.start();
  const base = await adminBase(gw);
  assert.equal((await gw.waitForEvent('admin_listening'))['auth'], 'token');
  assert.ok(!JSON.stringify(gw.logs).includes(token), 'the token never reaches the log');
  assert.equal((await fetch(`${base}/healthz`)).status, 200);
  for (const path of ['/readyz', '/status', '/metrics']) {
    assert.equal((await fetch(`${base}${path}`)).status, 401, `${path} without a token`);
    assert.equal((await fetch(`${base}${path}`, { headers: { authorization: 'Bearer not-the-token-not-the-token' } })).status, 401);
  }
  const m = await metrics(base, { authorization: `Bearer ${token}` });
  assert.equal(v(m, 'gateway_forward_kafka_up'), 0);
});
