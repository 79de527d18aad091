/**
 * The control room's Kafka link on a real broker. Proves: a reader given a key reads exactly the
 * partition Java's partitioner maps that key to (records our producer and kcat wrote there, in
 * offset order, nothing from other partitions), resolves caughtUp (at once on an empty
 * partition), then receives new records live; close() ends a long poll; a reader without a key
 * reads every partition; a reader started before its topic exists reads it once it is created
 * (and a send to it before then fails alone); a dead broker shows as connected=false with
 * lastError, and close() returns; a send to a dead broker rejects with GW_ERR_CONTROL_KAFKA, and
 * a full queue refuses at once; a position removed by retention restarts at the earliest offset;
 * a partition count change moves a keyed reader to its new partition; Kafka going away while
 * reading is reported and survived, and reading resumes where it stopped; no consumer group is
 * ever created.
 */
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { kafkaSchema, type KafkaConfig } from '../../gateway/src/config/kafka-schema.js';
import type { ControlRecord, KafkaLink } from '../../gateway/src/control/kafka-link.js';
import { createKafkaLink } from '../../gateway/src/control/kafka-link-impl.js';
import { partitionForKey } from '../../gateway/src/control/partition-for-key.js';
import { isGatewayError } from '../../gateway/src/errors.js';
import { createLogger } from '../../gateway/src/lib/logger.js';
import { quietKafka } from '../kafka/create-topics.js';
import { freePorts } from '../kafka/free-port.js';
import { startKafka } from '../kafka/kafka-harness.js';
import { sharedKafka } from '../kafka/shared-kafka.js';
import { waitFor } from '../support/wait.js';
import { captureLogger, createCompactedTopic, kcatConsume, kcatProduce } from '../support/control-kafka.js';
import { uniqueTopics } from '../support/topics.js';

const PARTITIONS = 6;

function kafkaConfig(brokers: string[], extra: Partial<Record<keyof KafkaConfig, unknown>> = {}): KafkaConfig {
  return kafkaSchema.parse({ brokers, clientId: 'eg-test', retryInitialMs: 50, retryMaxMs: 500, connectionTimeoutMs: 2000, requestTimeoutMs: 5000, ...extra });
}

/** Two keys of one partition and one key of each other partition (for PARTITIONS). */
function pickKeys(): { key: string; sameKey: string; partition: number; others: string[] } {
  const byPartition = new Map<number, string[]>();
  for (let i = 0; [...byPartition.values()].filter((l) => l.length >= 2).length < PARTITIONS; i++) {
    const k = `gw-${i}`;
    const p = partitionForKey(k, PARTITIONS);
    byPartition.set(p, [...(byPartition.get(p) ?? []), k]);
  }
  const partition = partitionForKey('gw-0', PARTITIONS);
  const [key, sameKey] = byPartition.get(partition)!;
  const others = [...byPartition].filter(([p]) => p !== partition).map(([, ks]) => ks[0]!);
  return { key: key!, sameKey: sameKey!, partition, others };
}

const view = (r: ControlRecord): [number, bigint, string | null, string | null] => [r.partition, r.offset, r.key, r.value?.toString('utf8') ?? null];

function newLink(t: { after(fn: () => Promise<void>): void }, kafka: KafkaConfig, extra: Partial<Parameters<typeof createKafkaLink>[0]> = {}): KafkaLink {
  const link = createKafkaLink({ kafka, clientIdSuffix: 'it', logger: createLogger('silent'), ...extra });
  t.after(() => link.close());
  return link;
}

test('a keyed reader gets exactly its partition in offset order, then caughtUp, then live records', async (t) => {
  const kafka = await sharedKafka();
  const broker = kafka.brokers[0]!;
  const { topic } = uniqueTopics('link-keyed');
  await createCompactedTopic(kafka.brokers, topic, PARTITIONS);
  const { key, sameKey, partition, others } = pickKeys();
  const otherPartition = partitionForKey(others[0]!, PARTITIONS);
  const link = newLink(t, kafkaConfig(kafka.brokers));
  const producer = link.producer();

  for (let round = 1; round <= 3; round++) {
    await Promise.all([key, sameKey, ...others].map((k) => producer.send(topic, k, `${k}#${round}`)));
  }
  await kcatProduce(broker, topic, partition, [[key, 'kcat-1'], [sameKey, 'kcat-2']]);
  await kcatProduce(broker, topic, otherPartition, [[others[0]!, 'kcat-other']]);

  // What an independent client (librdkafka) finds in the key's partition: our producer put
  // every record of `key` and `sameKey` there, and nothing of the other keys.
  const expected = await kcatConsume(broker, topic, partition);
  assert.deepEqual(expected.filter((r) => r.key === key).map((r) => r.value), [`${key}#1`, `${key}#2`, `${key}#3`, 'kcat-1']);
  assert.equal(expected.filter((r) => r.key === sameKey).length, 4);
  assert.equal(expected.length, 8);
  for (const other of others) {
    const inItsPartition = await kcatConsume(broker, topic, partitionForKey(other, PARTITIONS));
    assert.ok(inItsPartition.some((r) => r.key === other && r.value === `${other}#1`), `${other} is where Java's partitioner puts it`);
  }

  const got: ControlRecord[] = [];
  const reader = link.reader({ topic, key, maxWaitMs: 500, onRecords: (records) => void got.push(...records) });
  reader.start();
  await reader.caughtUp;
  assert.deepEqual(got.map(view), expected.map((r) => [partition, r.offset, r.key, r.value]), 'exactly the partition, in offset order');
  assert.ok(got.every((r) => r.topic === topic && Math.abs(r.timestamp - Date.now()) < 120_000));

  await producer.send(topic, key, 'live-1');
  await kcatProduce(broker, topic, partition, [[key, 'live-kcat']]);
  await waitFor('live records', () => got.length === expected.length + 2, 15_000);
  assert.deepEqual(got.slice(-2).map((r) => r.value?.toString()), ['live-1', 'live-kcat']);
  const offsets = got.map((r) => r.offset);
  assert.deepEqual(offsets, [...offsets].sort((a, b) => (a < b ? -1 : 1)));
  const state = reader.state();
  assert.equal(state.connected, true);
  assert.equal(state.lastError, null);
  assert.deepEqual(state.positions, { [partition]: String(got.at(-1)!.offset + 1n) });
  await reader.close();
  await reader.close(); // twice is safe
});

test('a reader without a key reads every partition; tombstones arrive as null values', async (t) => {
  const kafka = await sharedKafka();
  const { topic } = uniqueTopics('link-all');
  await createCompactedTopic(kafka.brokers, topic, PARTITIONS);
  const { key, others } = pickKeys();
  const link = newLink(t, kafkaConfig(kafka.brokers));
  const producer = link.producer();
  for (const k of [key, ...others]) await producer.send(topic, k, `v-${k}`);
  // A tombstone (null value) written by another client (kafkajs).
  const admin = quietKafka(kafka.brokers, 'eg-test-tombstone').producer();
  await admin.connect();
  await admin.send({ topic, messages: [{ key, value: null, partition: partitionForKey(key, PARTITIONS) }] });
  await admin.disconnect();

  const got: ControlRecord[] = [];
  const reader = link.reader({ topic, key: null, maxWaitMs: 500, onRecords: (records) => void got.push(...records) });
  reader.start();
  await reader.caughtUp;
  assert.equal(got.length, others.length + 2);
  assert.deepEqual(new Set(got.map((r) => r.partition)), new Set(Array.from({ length: PARTITIONS }, (_, p) => p)));
  for (const r of got) assert.equal(r.partition, partitionForKey(r.key!, PARTITIONS));
  const ofKey = got.filter((r) => r.key === key);
  assert.deepEqual(ofKey.map((r) => r.value?.toString() ?? null), [`v-${key}`, null]);
  assert.equal(Object.keys(reader.state().positions).length, PARTITIONS);
});

test('a reader started before its topic exists waits, then reads it once it is created', async (t) => {
  const kafka = await sharedKafka();
  const { topic } = uniqueTopics('link-late');
  const link = newLink(t, kafkaConfig(kafka.brokers));
  const got: ControlRecord[] = [];
  const reader = link.reader({ topic, key: 'gw-late', maxWaitMs: 500, onRecords: (records) => void got.push(...records) });
  reader.start();
  const missing = await waitFor('the missing topic reported', () => reader.state().lastError, 15_000);
  t.diagnostic(`while missing: ${missing.message}`);
  assert.equal(missing.code, 'GW_ERR_CONTROL_KAFKA');
  assert.match(missing.message, /topic does not exist/);
  assert.equal(reader.state().connected, false);

  // A send to the missing topic fails alone: records for another topic queued with it go through.
  const producer = link.producer();
  const { topic: other } = uniqueTopics('link-late-other');
  await createCompactedTopic(kafka.brokers, other, 1);
  const [toMissing, toOther] = await Promise.allSettled([producer.send(topic, 'gw-late', 'early'), producer.send(other, 'gw-late', 'fine')]);
  assert.ok(toMissing.status === 'rejected' && isGatewayError(toMissing.reason, 'GW_ERR_CONTROL_KAFKA') && /topic does not exist/.test(toMissing.reason.message));
  assert.equal(toOther.status, 'fulfilled');

  await createCompactedTopic(kafka.brokers, topic, 3);
  await producer.send(topic, 'gw-late', 'hello');
  await reader.caughtUp;
  await waitFor('the record', () => got.length === 1, 15_000);
  assert.equal(got[0]!.value?.toString(), 'hello');
  assert.equal(got[0]!.partition, partitionForKey('gw-late', 3));
  assert.equal(reader.state().connected, true);
});

test('caughtUp resolves on an empty partition; close() ends a long poll', async (t) => {
  const kafka = await sharedKafka();
  const { topic } = uniqueTopics('link-empty');
  await createCompactedTopic(kafka.brokers, topic, 2);
  const link = newLink(t, kafkaConfig(kafka.brokers));
  const reader = link.reader({ topic, key: 'gw-empty', maxWaitMs: 30_000, onRecords: () => assert.fail('the topic is empty') });
  reader.start();
  await reader.caughtUp;
  assert.deepEqual(reader.state().positions, { [partitionForKey('gw-empty', 2)]: '0' });
  await new Promise((r) => setTimeout(r, 300)); // now inside a 30 s long poll
  const started = Date.now();
  await reader.close();
  t.diagnostic(`closed during a long poll in ${Date.now() - started} ms`);
  assert.equal(reader.state().connected, false);
});

test('a dead broker: the reader reports it and closes; a send rejects with GW_ERR_CONTROL_KAFKA', async (t) => {
  const [port] = await freePorts(1);
  const link = newLink(t, kafkaConfig([`127.0.0.1:${port}`]));
  const reader = link.reader({ topic: 'edge.gateway.config', key: 'gw-1', maxWaitMs: 5000, onRecords: () => assert.fail('no records from a dead broker') });
  reader.start();
  const err = await waitFor('an error', () => reader.state().lastError, 15_000);
  t.diagnostic(`dead broker: ${err.message}`);
  assert.equal(err.code, 'GW_ERR_CONTROL_KAFKA');
  assert.equal(reader.state().connected, false);
  assert.deepEqual(reader.state().positions, {});

  await assert.rejects(link.producer().send('edge.gateway.status', 'gw-1', '{}'), (e: unknown) => {
    assert.ok(isGatewayError(e, 'GW_ERR_CONTROL_KAFKA'), String(e));
    t.diagnostic(`send: ${e.message}`);
    return true;
  });
  const started = Date.now();
  await reader.close();
  t.diagnostic(`reader closed in ${Date.now() - started} ms`);
});

test('the send queue is bounded: beyond maxPendingSends a send is refused at once', async (t) => {
  const [port] = await freePorts(1);
  const link = newLink(t, kafkaConfig([`127.0.0.1:${port}`]), { maxPendingSends: 10 });
  const producer = link.producer();
  const sends = Array.from({ length: 10 }, (_, i) => producer.send('edge.gateway.status', `gw-${i}`, 'x'));
  await assert.rejects(producer.send('edge.gateway.status', 'gw-over', 'x'), (e: unknown) => isGatewayError(e, 'GW_ERR_CONTROL_KAFKA') && /queue full/.test(e.message));
  const settled = await Promise.allSettled(sends);
  for (const s of settled) assert.ok(s.status === 'rejected' && isGatewayError(s.reason, 'GW_ERR_CONTROL_KAFKA'));
  // Room again once they are settled; close rejects what is still queued.
  const again = producer.send('edge.gateway.status', 'gw-again', 'x');
  await producer.close();
  await assert.rejects(again, (e: unknown) => isGatewayError(e, 'GW_ERR_CONTROL_KAFKA'));
  await assert.rejects(producer.send('edge.gateway.status', 'gw-late', 'x'), /producer closed/);
});

test('a position that retention removed restarts the partition at its earliest offset', async (t) => {
  const kafka = await sharedKafka();
  const { topic } = uniqueTopics('link-oor');
  await createCompactedTopic(kafka.brokers, topic, 1, 'compact,delete');
  const captured = captureLogger();
  // fetchMaxBytes 1: each fetch returns one batch (a broker always returns the first one whole).
  const link = newLink(t, kafkaConfig(kafka.brokers), { fetchMaxBytes: 1, logger: captured.logger });
  const producer = link.producer();
  for (let i = 0; i < 5; i++) await producer.send(topic, `k-${i}`, `v-${i}`);

  const got: ControlRecord[] = [];
  let release!: () => void;
  const held = new Promise<void>((resolve) => (release = resolve));
  t.after(() => release());
  const reader = link.reader({
    topic,
    key: null,
    maxWaitMs: 500,
    onRecords: async (records) => {
      got.push(...records);
      if (got.length === 1) await held; // backpressure: no fetch while the handler runs
    },
  });
  reader.start();
  await waitFor('the first record', () => got.length === 1, 15_000);
  const admin = quietKafka(kafka.brokers, 'eg-test-delete-records').admin();
  await admin.connect();
  await admin.fetchTopicMetadata({ topics: [topic] }); // kafkajs needs it loaded first
  await admin.deleteTopicRecords({ topic, partitions: [{ partition: 0, offset: '3' }] });
  await admin.disconnect();
  release();
  await reader.caughtUp;
  assert.deepEqual(got.map((r) => r.offset), [0n, 3n, 4n]);
  assert.equal(captured.events('control_offset_out_of_range').length, 1);
});

test('a partition count change moves a keyed reader to the key\'s new partition', async (t) => {
  const kafka = await sharedKafka();
  const { topic } = uniqueTopics('link-grow');
  await createCompactedTopic(kafka.brokers, topic, 3);
  let key = 'gw-0';
  for (let i = 1; partitionForKey(key, 3) === partitionForKey(key, 6); i++) key = `gw-${i}`;
  const captured = captureLogger();
  const link = newLink(t, kafkaConfig(kafka.brokers), { metadataMaxAgeMs: 300, logger: captured.logger });
  const producer = link.producer();
  await producer.send(topic, key, 'before');
  const got: ControlRecord[] = [];
  const reader = link.reader({ topic, key, maxWaitMs: 200, onRecords: (records) => void got.push(...records) });
  reader.start();
  await reader.caughtUp;
  assert.deepEqual(got.map((r) => [r.partition, r.value?.toString()]), [[partitionForKey(key, 3), 'before']]);

  const admin = quietKafka(kafka.brokers, 'eg-test-partitions').admin();
  await admin.connect();
  await admin.createPartitions({ topicPartitions: [{ topic, count: 6 }] });
  await admin.disconnect();
  await waitFor('the change logged', () => captured.events('control_topic_partitions_changed').length > 0, 15_000);
  // The producer learns the count within its metadata age too; then the record lands where the reader now is.
  await new Promise((r) => setTimeout(r, 600));
  await producer.send(topic, key, 'after');
  await waitFor('the record in the new partition', () => got.length === 2, 15_000);
  assert.deepEqual(got.map((r) => [r.partition, r.value?.toString()]), [[partitionForKey(key, 3), 'before'], [partitionForKey(key, 6), 'after']]);
  assert.deepEqual(Object.keys(reader.state().positions), [String(partitionForKey(key, 6))]);
});

test('reading creates no consumer group on the broker', async (t) => {
  const kafka = await sharedKafka();
  const { topic } = uniqueTopics('link-nogroup');
  await createCompactedTopic(kafka.brokers, topic, 2);
  const link = newLink(t, kafkaConfig(kafka.brokers));
  await link.producer().send(topic, 'gw-1', 'x');
  const got: ControlRecord[] = [];
  const reader = link.reader({ topic, key: null, maxWaitMs: 200, onRecords: (records) => void got.push(...records) });
  reader.start();
  await reader.caughtUp;
  await new Promise((r) => setTimeout(r, 1000)); // a few long polls
  assert.equal(got.length, 1);
  const admin = quietKafka(kafka.brokers, 'eg-test-groups').admin();
  await admin.connect();
  try {
    const { groups } = await admin.listGroups();
    assert.deepEqual(groups.filter((g) => g.groupId.startsWith('eg-test-control')), [], 'no group of ours');
    const { groups: described } = await admin.describeGroups(['eg-test-control-it-ungrouped']);
    assert.equal(described[0]?.state, 'Dead', 'the id the client was constructed with was never used');
    assert.deepEqual(described[0]?.members, []);
  } finally {
    await admin.disconnect();
  }
});

test('Kafka going away while reading: reported, retried, and reading resumes where it stopped', async (t) => {
  // Its own broker: this test stops and starts it.
  const broker = await startKafka();
  t.after(() => broker.close());
  const { topic } = uniqueTopics('link-outage');
  await createCompactedTopic(broker.brokers, topic, 3);
  const link = newLink(t, kafkaConfig(broker.brokers, { connectionTimeoutMs: 1000, requestTimeoutMs: 3000 }));
  const producer = link.producer();
  await producer.send(topic, 'gw-1', 'one');
  const got: ControlRecord[] = [];
  const reader = link.reader({ topic, key: 'gw-1', maxWaitMs: 500, onRecords: (records) => void got.push(...records) });
  reader.start();
  await reader.caughtUp;
  assert.equal(got.length, 1);

  await broker.stop();
  const down = await waitFor('the outage reported', () => (reader.state().connected ? null : reader.state().lastError), 30_000);
  t.diagnostic(`while down: ${down.message}`);
  assert.equal(down.code, 'GW_ERR_CONTROL_KAFKA');
  await assert.rejects(producer.send(topic, 'gw-1', 'lost'), (e: unknown) => isGatewayError(e, 'GW_ERR_CONTROL_KAFKA'));

  await broker.start();
  // The producer's send is not retried by the link (status records are replaceable): retry here.
  for (let attempt = 1; ; attempt++) {
    try {
      await producer.send(topic, 'gw-1', 'two');
      break;
    } catch (err) {
      if (attempt >= 60) throw err;
      await new Promise((r) => setTimeout(r, 500));
    }
  }
  await waitFor('the record after the outage', () => got.length >= 2, 30_000);
  assert.deepEqual(got.map((r) => [r.offset, r.value?.toString()]), [[0n, 'one'], [1n, 'two']], 'no record twice, none skipped');
  assert.equal(reader.state().connected, true);
});
