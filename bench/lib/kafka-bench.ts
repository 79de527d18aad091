/** A real Kafka for benchmarks (the test harness) with topics whose timestamps are broker time. */
import { Kafka, logLevel } from 'kafkajs';
import { startKafka, type KafkaBroker } from '../../test/kafka/kafka-harness.js';

export async function startBenchKafka(topics: string[], partitions = 6): Promise<KafkaBroker> {
  const kafka = await startKafka();
  const admin = new Kafka({ brokers: kafka.brokers, logLevel: logLevel.NOTHING }).admin();
  await admin.connect();
  try {
    // LogAppendTime: each record's timestamp is when the broker appended it, i.e. ~ its ack.
    await admin.createTopics({
      waitForLeaders: true,
      topics: topics.map((topic) => ({ topic, numPartitions: partitions, replicationFactor: 1, configEntries: [{ name: 'message.timestamp.type', value: 'LogAppendTime' }] })),
    });
  } finally {
    await admin.disconnect();
  }
  return kafka;
}
