// "Some Kafka" for tests that do not stop/start the broker. When a test runner
// started one broker for the whole suite it exports EG_TEST_KAFKA_BROKERS
// ("host:port[,host:port...]"); otherwise this process starts a private broker,
// which the harness SIGKILLs (and deletes) when the process exits.
// Tests that stop/start/kill Kafka must use startKafka() instead.
import { createTopicsOn } from './create-topics.js';
import { startKafka } from './kafka-harness.js';

export const SHARED_KAFKA_ENV = 'EG_TEST_KAFKA_BROKERS';

export interface SharedKafka {
  brokers: string[];
  createTopics(topics: string[], partitions?: number): Promise<void>;
}

let shared: Promise<SharedKafka> | undefined;

/** Same instance for every caller in this process. */
export function sharedKafka(): Promise<SharedKafka> {
  shared ??= openShared().catch((err: unknown) => {
    shared = undefined;
    throw err;
  });
  return shared;
}

async function openShared(): Promise<SharedKafka> {
  const fromEnv = (process.env[SHARED_KAFKA_ENV] ?? '')
    .split(',')
    .map((s) => s.trim())
    .filter((s) => s.length > 0);
  if (fromEnv.length > 0) {
    return { brokers: fromEnv, createTopics: (topics, partitions) => createTopicsOn(fromEnv, topics, partitions) };
  }
  const broker = await startKafka();
  return { brokers: broker.brokers, createTopics: (topics, partitions) => broker.createTopics(topics, partitions) };
}
