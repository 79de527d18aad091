// Idempotent topic creation against any broker list, waiting until every
// partition has a leader. Shared by kafka-harness.ts and shared-kafka.ts.
import { Kafka, logLevel, type Admin } from 'kafkajs';

const LEADER_WAIT_MS = 30_000;

export function quietKafka(brokers: string[], clientId = 'eg-kafka-harness'): Kafka {
  return new Kafka({ clientId, brokers, logLevel: logLevel.NOTHING });
}

/** Creates topics (RF 1, default 3 partitions); existing topics are left as they are. */
export async function createTopicsOn(brokers: string[], topics: string[], partitions = 3): Promise<void> {
  if (topics.length === 0) return;
  const unique = [...new Set(topics)];
  const admin = quietKafka(brokers).admin();
  await admin.connect();
  try {
    // Resolves false (no throw) when every error is TOPIC_ALREADY_EXISTS.
    await admin.createTopics({
      topics: unique.map((topic) => ({ topic, numPartitions: partitions, replicationFactor: 1 })),
      waitForLeaders: false,
    });
    await waitForLeaders(admin, unique, LEADER_WAIT_MS);
  } finally {
    await admin.disconnect();
  }
}

/** Polls metadata until each topic exists and all its partitions have a leader. */
export async function waitForLeaders(admin: Admin, topics: string[], timeoutMs: number): Promise<void> {
  if (topics.length === 0) return;
  const deadline = Date.now() + timeoutMs;
  let last = 'no metadata yet';
  for (;;) {
    try {
      const { topics: meta } = await admin.fetchTopicMetadata({ topics });
      const missing = topics.filter((name) => {
        const t = meta.find((m) => m.name === name);
        return t === undefined || t.partitions.length === 0 || t.partitions.some((p) => p.leader < 0);
      });
      if (missing.length === 0) return;
      last = `no leader yet for: ${missing.join(', ')}`;
    } catch (err) {
      last = err instanceof Error ? err.message : String(err);
    }
    if (Date.now() >= deadline) {
      throw new Error(`kafka harness: topics not ready after ${timeoutMs} ms (${last})`);
    }
    await new Promise((r) => setTimeout(r, 100));
  }
}
