// Integration test of the real-Kafka harness (needs Java 17 + Maven for the jars).
import assert from 'node:assert/strict';
import { test, type TestContext } from 'node:test';
import { Kafka, logLevel, Partitioners, type SASLOptions } from 'kafkajs';
import { startKafka } from './kafka-harness.js';
import { sharedKafka } from './shared-kafka.js';

const TOPIC = 'harness.check';
const VALUES = ['m1', 'm2', 'm3'];

function client(brokers: string[], sasl?: SASLOptions): Kafka {
  return new Kafka({ clientId: 'harness-test', brokers, logLevel: logLevel.NOTHING, ...(sasl ? { sasl } : {}) });
}

async function produce(t: TestContext, brokers: string[], topic: string, values: string[], sasl?: SASLOptions): Promise<void> {
  const producer = client(brokers, sasl).producer({ createPartitioner: Partitioners.DefaultPartitioner });
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
  assert.equal(broker.host, '127.0.0.1');
  assert.equal(broker.saslBootstrap, undefined);
  assert.equal(broker.saslPort, undefined);
  await assert.rejects(broker.addScramUser('u', 'p'), /started with `sasl`/);
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

/** 'ok', or the kafkajs error name of a SASL/SCRAM login + metadata request. */
async function scramLogin(brokers: string[], username: string, password: string): Promise<string> {
  const admin = new Kafka({
    clientId: 'harness-test-scram',
    brokers,
    logLevel: logLevel.NOTHING,
    connectionTimeout: 1000,
    retry: { retries: 0 },
    sasl: { mechanism: 'scram-sha-256', username, password },
  }).admin();
  try {
    await admin.connect();
    await admin.describeCluster();
    return 'ok';
  } catch (err) {
    return err instanceof Error ? err.name : String(err);
  } finally {
    await admin.disconnect().catch(() => undefined);
  }
}

test('startKafka({ host, sasl }): listeners on host, SCRAM users at format time and at runtime', { timeout: 180_000 }, async (t) => {
  // 127.0.0.2 is local on Linux (127/8 on lo) but not 127.0.0.1: proves bind + advertise use `host`.
  const broker = await startKafka({ host: '127.0.0.2', sasl: { mechanism: 'SCRAM-SHA-256', users: { alice: 'alice-secret' } } });
  t.after(() => broker.close());
  assert.equal(broker.host, '127.0.0.2');
  assert.equal(broker.bootstrap, `127.0.0.2:${broker.port}`);
  assert.ok(broker.saslPort !== undefined && broker.saslPort !== broker.port);
  assert.equal(broker.saslBootstrap, `127.0.0.2:${broker.saslPort}`);
  const sasl = [broker.saslBootstrap];

  const admin = client(broker.brokers).admin();
  await admin.connect();
  const cluster = await admin.describeCluster();
  await admin.disconnect();
  assert.deepEqual(cluster.brokers.map((b) => `${b.host}:${b.port}`), [broker.bootstrap], 'PLAINTEXT advertises host:port');

  assert.equal(await scramLogin(sasl, 'alice', 'alice-secret'), 'ok', 'user created at format time');
  assert.equal(await scramLogin(sasl, 'alice', 'wrong'), 'KafkaJSSASLAuthenticationError');
  assert.equal(await scramLogin(sasl, 'bob', 'bob-secret'), 'KafkaJSSASLAuthenticationError', 'unknown user refused');
  const t0 = Date.now();
  await broker.addScramUser('bob', 'bob-secret');
  t.diagnostic(`addScramUser: ${Date.now() - t0} ms`);
  assert.equal(await scramLogin(sasl, 'bob', 'bob-secret'), 'ok', 'user added at runtime');

  await broker.createTopics(['harness.sasl'], 1);
  await produce(t, sasl, 'harness.sasl', ['x1', 'x2'], { mechanism: 'scram-sha-256', username: 'bob', password: 'bob-secret' });
  assert.deepEqual(await readAll(t, broker.brokers, 'harness.sasl', 2, 'harness-sasl'), ['x1', 'x2']);

  await broker.stop();
  await broker.start();
  assert.equal(await scramLogin(sasl, 'bob', 'bob-secret'), 'ok', 'runtime user survives a restart');
});

test('sharedKafka: one broker per process, topics creatable', { timeout: 120_000 }, async (t) => {
  const a = await sharedKafka();
  const b = await sharedKafka();
  assert.equal(a, b);
  await a.createTopics(['harness.shared'], 1);
  await produce(t, a.brokers, 'harness.shared', ['s1']);
  assert.deepEqual(await readAll(t, a.brokers, 'harness.shared', 1, 'harness-shared'), ['s1']);
});
