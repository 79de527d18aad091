/**
 * Proves Kafka errors other than "broker unreachable" are handled as the README promises:
 *
 * a. Missing topic (broker auto-create off, gateway allowAutoTopicCreation false): the gateway
 *    reports kafka_down with GW_ERR_FORWARD_TOPIC_MISSING, devices keep getting PUBACKs (rows
 *    wait in SQLite), and once an operator creates the topic every message arrives, no gaps.
 * b. Permanent rejection (poison record): a 200 KB incompressible payload on a topic whose
 *    max.message.bytes is 100,000 is isolated by the pump and dead-lettered with
 *    GW_ERR_FORWARD_REJECTED and Kafka's reason: a cloud consumer (kafkajs, the auditor) reads a
 *    DLQ record keyed by the device with x-dlq-* headers (code, reason, seq, source topic, refused
 *    size, truncated) whose raw envelope holds the payload's first ~64 KiB (kafka.dlqMaxValueBytes);
 *    the local dead_letters table keeps it whole; gateway_forward_dlq_records_total counts it.
 *    The gateway stays up, every other record from the same device arrives in order (the poison
 *    seq is accounted for by the DLQ, so no gap), and the queue moves on: records published after
 *    the poison, and after it was dead-lettered, are delivered.
 * c. The DLQ topic refuses the dead letter too (its max.message.bytes is 10,000): the record is
 *    kept in the local table only (reason says so), counted by
 *    gateway_forward_dlq_undeliverable_total, tried once, and the queue still moves on in order.
 */
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { randomBytes } from 'node:crypto';
import Database from 'better-sqlite3';
import mqtt, { type MqttClient } from 'mqtt';
import { runSimulation } from '../../firmware-sim/src/load-generator.js';
import { quietKafka, waitForLeaders } from '../kafka/create-topics.js';
import { sharedKafka } from '../kafka/shared-kafka.js';
import { GatewayProcess } from '../support/gateway-process.js';
import { uniqueTopics } from '../support/topics.js';
import { auditTopic } from '../support/audit.js';
import { BufferProbe, waitForEventSince, watchDrain, within } from '../support/outage-probes.js';
import { parsePrometheusText, sampleValue } from '../support/prometheus-text.js';
import type { DecodedEnvelope } from '../../gateway/src/encode/envelope-schema.js';
import { assertNoLoss } from '../support/audit-assertions.js';

const FAST_RETRY = { retryInitialMs: 200, retryMaxMs: 2000, connectionTimeoutMs: 1000, requestTimeoutMs: 5000 };

test('missing topic: kafka_down GW_ERR_FORWARD_TOPIC_MISSING, devices still acked, all arrives once the topic exists', { timeout: 120_000 }, async (t) => {
  const kafka = await sharedKafka();
  const { topic, dlqTopic } = uniqueTopics('missing');
  await kafka.createTopics([dlqTopic], 3); // the telemetry topic deliberately does not exist

  const gw = new GatewayProcess({ config: { kafka: { brokers: kafka.brokers, topic, dlqTopic, allowAutoTopicCreation: false, ...FAST_RETRY } } });
  t.after(() => gw.close());
  await gw.start();
  const probe = new BufferProbe(gw.dbPath);
  t.after(() => probe.close());

  const sim = await runSimulation({ url: gw.url, devices: 10, qos: 1, messagesPerDevice: 100 });
  assert.equal(sim.acked, 1000, 'devices got every PUBACK although the topic is missing');
  assert.equal(sim.errors, 0);

  const down = await gw.waitForEvent('kafka_down', 30_000);
  assert.equal(down['code'], 'GW_ERR_FORWARD_TOPIC_MISSING', `kafka_down reason: ${String(down['reason'])}`);
  assert.match(String(down['reason']), /UNKNOWN_TOPIC_OR_PARTITION|topic/i);
  assert.equal(probe.rows(), 1000, 'every acknowledged message waits in the buffer');

  const mark = gw.logs.length;
  const createdAt = Date.now();
  await kafka.createTopics([topic], 3);
  const up = await waitForEventSince(gw, mark, 'kafka_up', 60_000);
  t.diagnostic(`kafka_up ${Number(up['time']) - createdAt} ms after the topic creation was requested; first kafka_down: ${String(down['reason'])}`);

  const report = await auditTopic({ brokers: kafka.brokers, topic, dlqTopic, sim, timeoutMs: 60_000 });
  assert.equal(report.records, 1000);
  assertNoLoss(report);
  assert.equal(report.duplicates, 0);
  assert.equal(report.ok, true);
  const drained = await watchDrain(probe, { everyMs: 250, doneAtOrBelow: 0, timeoutMs: 10_000 });
  assert.ok(drained.drained, 'buffer empty after delivery');
});

const POISON_DEVICE = 'dev-poison';
const BYSTANDER = 'dev-bystander';
const POISON_SEQ = 100;
const FIRST_WAVE = 200; // seqs 1..200 from each device, seq 100 of dev-poison is the poison
const SECOND_WAVE = 20; // seqs 201..220, published after the poison was dead-lettered
/**
 * The topic's max.message.bytes: the broker checks it per record batch, so it must be well above
 * a batch of one device's good records (220 x ~130 B) and well below the poison (~200 KB).
 */
const MAX_MESSAGE_BYTES = 100_000;

async function createTopicWithMaxMessageBytes(brokers: string[], topic: string, maxMessageBytes: number): Promise<void> {
  const admin = quietKafka(brokers).admin();
  await admin.connect();
  try {
    await admin.createTopics({
      topics: [{ topic, numPartitions: 3, replicationFactor: 1, configEntries: [{ name: 'max.message.bytes', value: String(maxMessageBytes) }] }],
      waitForLeaders: false,
    });
    await waitForLeaders(admin, [topic], 30_000);
  } finally {
    await admin.disconnect();
  }
}

async function device(url: string, deviceId: string, t: { after: (fn: () => Promise<unknown>) => void }): Promise<MqttClient> {
  const c = await mqtt.connectAsync(url, { clientId: deviceId, clean: true, protocolVersion: 4, reconnectPeriod: 0 });
  t.after(() => c.endAsync(true));
  return c;
}

const goodPayload = (deviceId: string, seq: number): string => JSON.stringify({ deviceId, seq });

/** Publishes seqs from..to without waiting in between (QoS 1 keeps them in order); resolves when all are PUBACKed. */
function publishRange(c: MqttClient, deviceId: string, from: number, to: number, payloadOf: (seq: number) => string | Buffer): Promise<unknown> {
  const acks: Array<Promise<unknown>> = [];
  for (let seq = from; seq <= to; seq++) acks.push(c.publishAsync(`devices/${deviceId}/telemetry`, payloadOf(seq), { qos: 1 }));
  return Promise.all(acks);
}

/** The DLQ topic's max.message.bytes in case c: far below a 64 KiB dead letter. */
const TINY_DLQ_MAX_MESSAGE_BYTES = 10_000;
const DLQ_MAX_VALUE_BYTES = 64 * 1024;

async function scrapeCounter(gw: GatewayProcess, name: string, labels: Record<string, string>): Promise<number | undefined> {
  const res = await fetch(`http://127.0.0.1:${gw.adminPort}/metrics`);
  assert.equal(res.status, 200);
  return sampleValue(await parsePrometheusText(await res.text()), name, labels);
}

/**
 * Runs the poison scenario (two devices, two waves, one 200 KB record) and checks what holds in
 * both cases: the queue moved on, every other record arrived once in order, the gateway stayed up
 * and the local dead_letters table has the poison whole. Returns what differs for the case to check.
 */
async function poisonScenario(t: { after: (fn: () => Promise<unknown> | unknown) => void; diagnostic: (s: string) => void }, label: string, dlqMaxMessageBytes?: number) {
  const kafka = await sharedKafka();
  const { topic, dlqTopic } = uniqueTopics(label);
  await createTopicWithMaxMessageBytes(kafka.brokers, topic, MAX_MESSAGE_BYTES);
  if (dlqMaxMessageBytes === undefined) await kafka.createTopics([dlqTopic], 3);
  else await createTopicWithMaxMessageBytes(kafka.brokers, dlqTopic, dlqMaxMessageBytes);

  const gw = new GatewayProcess({
    config: {
      mqtt: { maxPayloadBytes: 1024 * 1024 },
      // No compression: the batch size the broker checks is the raw size, so the rejection does not
      // depend on how well the payload compresses.
      kafka: { brokers: kafka.brokers, topic, dlqTopic, compression: 'none', dlqMaxValueBytes: DLQ_MAX_VALUE_BYTES, ...FAST_RETRY },
    },
  });
  t.after(() => gw.close());
  await gw.start();
  await gw.waitForEvent('kafka_up', 30_000);
  await gw.waitForEvent('admin_listening', 20_000);
  const probe = new BufferProbe(gw.dbPath);
  t.after(() => probe.close());

  // 150,000 random bytes as base64: ~200 KB that no codec can shrink below 100,000.
  const poison = Buffer.from(JSON.stringify({ deviceId: POISON_DEVICE, seq: POISON_SEQ, blob: randomBytes(150_000).toString('base64') }));
  const poisonDev = await device(gw.url, POISON_DEVICE, t);
  const bystander = await device(gw.url, BYSTANDER, t);
  await within(30_000, 'PUBACKs of the first wave', Promise.all([
    publishRange(poisonDev, POISON_DEVICE, 1, FIRST_WAVE, (s) => (s === POISON_SEQ ? poison : goodPayload(POISON_DEVICE, s))),
    publishRange(bystander, BYSTANDER, 1, FIRST_WAVE, (s) => goodPayload(BYSTANDER, s)),
  ]));
  const firstDrain = await watchDrain(probe, { everyMs: 250, doneAtOrBelow: 0, timeoutMs: 60_000 });
  assert.ok(firstDrain.drained, `the queue moved past the poison record (rows left: ${probe.rows()})`);

  // The gateway is still up and forwarding: a second wave after the poison was dead-lettered.
  await within(30_000, 'PUBACKs of the second wave', Promise.all([
    publishRange(poisonDev, POISON_DEVICE, FIRST_WAVE + 1, FIRST_WAVE + SECOND_WAVE, (s) => goodPayload(POISON_DEVICE, s)),
    publishRange(bystander, BYSTANDER, FIRST_WAVE + 1, FIRST_WAVE + SECOND_WAVE, (s) => goodPayload(BYSTANDER, s)),
  ]));
  const secondDrain = await watchDrain(probe, { everyMs: 250, doneAtOrBelow: 0, timeoutMs: 60_000 });
  assert.ok(secondDrain.drained, 'records published after the poison are forwarded too');

  const seen = new Map<string, number[]>([[POISON_DEVICE, []], [BYSTANDER, []]]);
  const dlqRecords: Array<{ env: DecodedEnvelope; headers: Record<string, string> }> = [];
  const report = await auditTopic({
    brokers: kafka.brokers,
    topic,
    dlqTopic,
    timeoutMs: 60_000,
    onRecord: (env) => seen.get(env.deviceId)?.push((JSON.parse((env.payload as Buffer).toString()) as { seq: number }).seq),
    onDeadLetter: (env, headers) => dlqRecords.push({ env, headers }),
  });
  const last = FIRST_WAVE + SECOND_WAVE;
  const expectedPoisonDev = Array.from({ length: last }, (_, i) => i + 1).filter((s) => s !== POISON_SEQ);
  const firstSightings = (seqs: number[]) => seqs.filter((s, i) => seqs.indexOf(s) === i);
  assert.deepEqual(firstSightings(seen.get(POISON_DEVICE)!), expectedPoisonDev, 'every good record of the poisoned device, in order, the poison excepted');
  assert.deepEqual(firstSightings(seen.get(BYSTANDER)!), Array.from({ length: last }, (_, i) => i + 1), 'the bystander is complete and in order');
  assert.equal(report.outOfOrder, 0);
  assert.equal(report.keyMismatches, 0);
  assert.equal(report.undecodable, 0);
  assert.equal(report.records - report.duplicates, 2 * last - 1);

  const rejectedLogs = gw.logs.filter((l) => l.event === 'record_rejected');
  assert.equal(rejectedLogs.length, 1, 'exactly one record was isolated and dead-lettered');
  assert.equal(rejectedLogs[0]!['deviceId'], POISON_DEVICE);
  const metric = async (name: string) => (await scrapeCounter(gw, name, { code: 'GW_ERR_FORWARD_REJECTED' })) ?? 0;
  const counters = { dlqRecords: await metric('gateway_forward_dlq_records_total'), dlqUndeliverable: await metric('gateway_forward_dlq_undeliverable_total'), deadLettered: await metric('gateway_buffer_dead_lettered_total') };

  assert.equal(await within(30_000, 'graceful stop', gw.stop()), 0, 'the gateway stayed up and shut down cleanly');
  assert.ok(gw.logs.some((l) => l.event === 'shutdown_complete'));
  assert.equal(gw.logs.filter((l) => l.level >= 60).length, 0, 'no fatal log');
  probe.close();
  const db = new Database(gw.dbPath, { readonly: true });
  t.after(() => db.close());
  const dead = db.prepare('SELECT seq, device_id, code, reason, payload FROM dead_letters').all() as Array<{ seq: number; device_id: string; code: string; reason: string; payload: Buffer }>;
  assert.equal(dead.length, 1);
  assert.equal(dead[0]!.device_id, POISON_DEVICE);
  assert.equal(dead[0]!.code, 'GW_ERR_FORWARD_REJECTED');
  assert.match(dead[0]!.reason, /MESSAGE_TOO_LARGE|RECORD_LIST_TOO_LARGE|too large/i, 'the reason carries the Kafka error');
  assert.ok(dead[0]!.payload.equals(poison), 'the dead letter keeps the original payload byte for byte');
  assert.equal((db.prepare('SELECT count(*) AS n FROM records').get() as { n: number }).n, 0, 'nothing left behind in the buffer');

  t.diagnostic(`dead letter reason: ${dead[0]!.reason}`);
  t.diagnostic(
    `audit: records ${report.records}, duplicates ${report.duplicates} (${report.problems.map((p) => `${p.deviceId}: ${p.duplicates}`).join(', ')}); ` +
      `first wave drained in ${firstDrain.end!.atMs - firstDrain.samples[0]!.atMs} ms`,
  );
  return { report, dlqRecords, dead: dead[0]!, poison, counters, logs: gw.logs, topic };
}

test('a record Kafka permanently rejects reaches the DLQ topic (truncated, with headers) and the local table; the rest arrives in order', { timeout: 120_000 }, async (t) => {
  const { report, dlqRecords, dead, poison, counters, topic } = await poisonScenario(t, 'poison');

  // What a cloud consumer of the DLQ topic sees.
  assert.equal(dlqRecords.length, 1, 'one DLQ record');
  const { env, headers } = dlqRecords[0]!;
  assert.equal(env.deviceId, POISON_DEVICE);
  assert.equal(headers['x-dlq-code'], 'GW_ERR_FORWARD_REJECTED');
  assert.match(headers['x-dlq-reason']!, /MESSAGE_TOO_LARGE|RECORD_LIST_TOO_LARGE|too large/i);
  assert.ok(headers['x-dlq-reason']!.length <= 200, 'the reason header is bounded');
  assert.equal(headers['x-gateway-seq'], String(dead.seq));
  assert.equal(headers['x-dlq-source-topic'], topic);
  assert.equal(headers['x-dlq-truncated'], 'true');
  assert.ok(Number(headers['x-dlq-original-bytes']) > poison.length, `refused size ${headers['x-dlq-original-bytes']} (the encoded record)`);
  const kept = env.payload as Buffer;
  assert.ok(kept.length > DLQ_MAX_VALUE_BYTES - 1024 && kept.length < DLQ_MAX_VALUE_BYTES, `payload cut to ${kept.length} bytes`);
  assert.ok(poison.subarray(0, kept.length).equals(kept), 'the DLQ payload is the head of the original, byte for byte');
  assert.deepEqual(report.dlq.byCode, { GW_ERR_FORWARD_REJECTED: 1 });
  // The auditor accounts for the poison seq through its DLQ record: no gap at all.
  assertNoLoss(report);

  assert.deepEqual(counters, { dlqRecords: 1, dlqUndeliverable: 0, deadLettered: 1 });
});

test('a dead letter the DLQ topic refuses too is kept locally only and counted; the queue still moves on', { timeout: 120_000 }, async (t) => {
  const { report, dlqRecords, dead, counters, logs } = await poisonScenario(t, 'poison-dlq', TINY_DLQ_MAX_MESSAGE_BYTES);

  assert.equal(dlqRecords.length, 0, 'nothing on the DLQ topic');
  assert.equal(report.dlq.records, 0);
  assert.deepEqual(
    report.problems.filter((p) => p.gaps.length > 0).map((p) => ({ deviceId: p.deviceId, gaps: p.gaps })),
    [{ deviceId: POISON_DEVICE, gaps: [POISON_SEQ] }],
    'the only gap is the poison seq (it exists only in the local table)',
  );
  assert.match(dead.reason, /DLQ topic refused it too: .*(MESSAGE_TOO_LARGE|RECORD_LIST_TOO_LARGE)/);
  const refused = logs.filter((l) => l.event === 'dlq_refused');
  assert.equal(refused.length, 1, 'one DLQ attempt, logged once: no loop');
  assert.equal(refused[0]!['deviceId'], POISON_DEVICE);
  assert.deepEqual(counters, { dlqRecords: 0, dlqUndeliverable: 1, deadLettered: 1 });
});
