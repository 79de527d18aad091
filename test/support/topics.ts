import { randomBytes } from 'node:crypto';

/** Unique topic names per test so tests sharing one broker never see each other's records. */
export function uniqueTopics(label: string): { topic: string; dlqTopic: string } {
  const id = `${label}.${randomBytes(4).toString('hex')}`;
  return { topic: `t.${id}`, dlqTopic: `dlq.${id}` };
}
