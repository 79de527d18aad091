// Helpers for tests of the control room's Kafka link: compacted topics, kcat (librdkafka, a
// client independent of ours) to write and read partitions, and a logger whose lines a test reads.
import { execFile, spawn } from 'node:child_process';
import { Writable } from 'node:stream';
import { promisify } from 'node:util';
import { pino, type Logger } from 'pino';
import { quietKafka, waitForLeaders } from '../kafka/create-topics.js';

const execFileAsync = promisify(execFile);

/**
 * Creates a compacted topic (RF 1) and waits until every partition has a leader. Records can be
 * deleted (DeleteRecords, like retention does) only with `cleanupPolicy` 'compact,delete'.
 */
export async function createCompactedTopic(brokers: string[], topic: string, partitions: number, cleanupPolicy: 'compact' | 'compact,delete' = 'compact'): Promise<void> {
  const admin = quietKafka(brokers, 'eg-test-control').admin();
  await admin.connect();
  try {
    await admin.createTopics({
      topics: [{ topic, numPartitions: partitions, replicationFactor: 1, configEntries: [{ name: 'cleanup.policy', value: cleanupPolicy }] }],
      waitForLeaders: false,
    });
    await waitForLeaders(admin, [topic], 30_000);
  } finally {
    await admin.disconnect();
  }
}

/** Writes `key:value` lines to one partition with kcat (`-K:` splits key and value at the first colon). */
export async function kcatProduce(broker: string, topic: string, partition: number, records: ReadonlyArray<readonly [string, string]>): Promise<void> {
  const child = spawn('kcat', ['-P', '-b', broker, '-t', topic, '-p', String(partition), '-K:'], { stdio: ['pipe', 'ignore', 'pipe'] });
  let stderr = '';
  child.stderr.on('data', (d: Buffer) => (stderr += d.toString()));
  child.stdin.end(records.map(([k, v]) => `${k}:${v}\n`).join(''));
  const code = await new Promise<number | null>((resolve) => child.on('close', resolve));
  if (code !== 0) throw new Error(`kcat -P exited ${code}: ${stderr}`);
}

export interface KcatRecord {
  partition: number;
  offset: bigint;
  key: string;
  value: string;
}

/** Reads one partition from the beginning to its end with kcat. Keys and values must not hold tabs or newlines. */
export async function kcatConsume(broker: string, topic: string, partition: number): Promise<KcatRecord[]> {
  const { stdout } = await execFileAsync('kcat', ['-C', '-b', broker, '-t', topic, '-p', String(partition), '-o', 'beginning', '-e', '-q', '-f', '%p\t%o\t%k\t%s\n']);
  return stdout
    .split('\n')
    .filter((l) => l.length > 0)
    .map((l) => {
      const [p, o, k, v] = l.split('\t');
      return { partition: Number(p), offset: BigInt(o!), key: k!, value: v! };
    });
}

export interface CapturedLog {
  logger: Logger;
  /** Parsed log lines so far. */
  lines(): Array<Record<string, unknown>>;
  events(name: string): Array<Record<string, unknown>>;
}

/** A pino logger (debug level) that keeps its lines in memory. */
export function captureLogger(): CapturedLog {
  const lines: Array<Record<string, unknown>> = [];
  const sink = new Writable({
    write(chunk: Buffer, _enc, done) {
      for (const line of chunk.toString('utf8').split('\n')) if (line.length > 0) lines.push(JSON.parse(line) as Record<string, unknown>);
      done();
    },
  });
  const logger = pino({ level: 'debug' }, sink);
  return { logger, lines: () => lines, events: (name) => lines.filter((l) => l['event'] === name) };
}
