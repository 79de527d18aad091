/**
 * kcat (Debian's librdkafka client) as an independent Kafka peer in tests: reads a topic from the
 * beginning to its current end, and produces a record to a chosen partition with a chosen key.
 */
import { execFile } from 'node:child_process';
import { promisify } from 'node:util';

const run = promisify(execFile);

export interface KcatRecord {
  partition: number;
  offset: number;
  key: string;
  value: string;
}

const SEP = '\u001f';

/** Every record of `topic` (all partitions) up to the end offsets at the time of the call. */
export async function kcatRead(brokers: readonly string[], topic: string): Promise<KcatRecord[]> {
  const { stdout } = await run('kcat', ['-C', '-b', brokers.join(','), '-t', topic, '-o', 'beginning', '-e', '-q', '-f', `%p${SEP}%o${SEP}%k${SEP}%s\n`], { maxBuffer: 256 * 1024 * 1024 });
  const out: KcatRecord[] = [];
  for (const line of stdout.split('\n')) {
    if (line.length === 0) continue;
    const [p, o, k, ...v] = line.split(SEP);
    out.push({ partition: Number(p), offset: Number(o), key: k ?? '', value: v.join(SEP) });
  }
  return out;
}

/** Produces one record (key, value) to `partition` and waits for the ack. */
export async function kcatProduce(brokers: readonly string[], topic: string, partition: number, key: string, value: string): Promise<void> {
  const child = run('kcat', ['-P', '-b', brokers.join(','), '-t', topic, '-p', String(partition), '-k', key, '-X', 'acks=all']);
  child.child.stdin!.end(value);
  await child;
}
