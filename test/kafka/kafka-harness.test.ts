// Integration test of the real-Kafka harness (needs Java 17 + Maven for the jars).
import assert from 'node:assert/strict';
import { test, type TestContext } from 'node:test';
import { Kafka, logLevel, Partitioners } from 'kafkajs';
import { startKafka } from './kafka-harness.js';
import { sharedKafka } from './shared-kafka.js';

const TOPIC = 'harness.check';
const VALUES = ['m1', 'm2', 'm3'];

function client(brokers: string[]): Kafka {
  return new Kafka({ clientId: 'harness-test', brokers, logLevel: logLevel.NOTHING });
}

async function produce(t: TestContext, brokers: string[], topic: string, values: string[]): Promise<void> {
  const producer = client(brokers).producer({ createPartitioner: Partitioners.DefaultPartitioner });
  t.after(() => producer.disconnect());
  await producer.connect();
  await producer.send({ topic, acks: -1, messages: values.map((value, i) => ({ key: `k${i}`, value })) });
  await producer.disconnect();
}

/** Reads `count` messages from the beginning with a fresh consumer group; values sorted. */
async function readAll(t: TestContext, brokers: string[], topic: string, count: number, groupId: string): Promise<string[]> {
  const consumer = client(brokers).consumer({ groupId });
  t.after(() => consumer.disconnect());
  await consumer.connect();
  try {
    await consumer.subscribe({ topics: [topic], fromBeginning: true });
    const seen: string[] = [];
    await new Promise<void>((resolve, reject) => {
      const timer = setTimeout(() => reject(new Error(`only ${seen.length}/${count} messages within 30 s`)), 30_000);
      consumer
        .run({
          eachMessage: async ({ message }) => {
            seen.push(message.value?.toString('utf8') ?? '<null>');
            if (seen.length >= count) {
              clearTimeout(timer);
              resolve();
            }
          },
        })
        .catch(reject);
    });
    return seen.sort();
  } finally {
    await consumer.disconnect();
  }
}

async function canConnect(brokers: string[]): Promise<boolean> {
  const admin = new Kafka({
    clientId: 'harness-test-probe',
    brokers,
    logLevel: logLevel.NOTHING,
    connectionTimeout: 1000,
    retry: { retries: 0 },
  }).admin();
  try {
    await admin.connect();
    await admin.describeCluster();
    return true;
  } catch {
    return false;
  } finally {
    await admin.disconnect().catch(() => undefined);
  }
}

test('startKafka: produce/consume, stop + start and kill + start keep the data', { timeout: 240_000 }, async (t) => {
  const startedAt = Date.now();
  const broker = await startKafka();
  t.after(() => broker.close());
  t.diagnostic(`cold start: ${Date.now() - startedAt} ms (${broker.bootstrap})`);

  assert.match(broker.bootstrap, /^127\.0\.0\.1:\d+$/);
  assert.equal(broker.bootstrap, `127.0.0.1:${broker.port}`);
  assert.deepEqual(broker.brokers, [broker.bootstrap]);
  assert.ok(broker.isRunning());

  await broker.createTopics([TOPIC], 3);
  await broker.createTopics([TOPIC], 3); // idempotent
  const admin = client(broker.brokers).admin();
  await admin.connect();
  const { topics } = await admin.fetchTopicMetadata({ topics: [TOPIC] });
  await admin.disconnect();
  assert.equal(topics[0]?.partitions.length, 3);

  await produce(t, broker.brokers, TOPIC, VALUES);
  assert.deepEqual(await readAll(t, broker.brokers, TOPIC, 3, 'harness-g1'), VALUES);

  await broker.stop();
  assert.equal(broker.isRunning(), false);
  assert.equal(await canConnect(broker.brokers), false, 'admin connected to a stopped broker');

  let t0 = Date.now();
  await broker.start();
  t.diagnostic(`restart after stop: ${Date.now() - t0} ms`);
  assert.ok(broker.isRunning());
  assert.deepEqual(await readAll(t, broker.brokers, TOPIC, 3, 'harness-g2'), VALUES);

  await broker.kill();
  assert.equal(broker.isRunning(), false);
  t0 = Date.now();
  await broker.start();
  t.diagnostic(`restart after kill: ${Date.now() - t0} ms`);
  assert.deepEqual(await readAll(t, broker.brokers, TOPIC, 3, 'harness-g3'), VALUES);

  await broker.close();
  await broker.close(); // safe twice
  assert.equal(broker.isRunning(), false);
});

test('sharedKafka: one broker per process, topics creatable', { timeout: 120_000 }, async (t) => {
  const a = await sharedKafka();
  const b = await sharedKafka();
  assert.equal(a, b);
  await a.createTopics(['harness.shared'], 1);
  await produce(t, a.brokers, 'harness.shared', ['s1']);
  assert.deepEqual(await readAll(t, a.brokers, 'harness.shared', 1, 'harness-shared'), ['s1']);
});
