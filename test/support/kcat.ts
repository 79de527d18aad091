/**
 * kcat (Debian's librdkafka client) as an independent Kafka peer in tests: reads a topic from the
 * beginning to its current end (as text, or as raw bytes for binary values), and produces a
 * record to a chosen partition with a chosen key. librdkafka decodes every record-batch codec
 * (gzip, snappy, lz4, zstd), where kafkajs (the auditor's client) decodes only gzip natively.
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

export interface KcatRawRecord {
  partition: number;
  offset: number;
  key: string | null;
  value: Buffer | null;
}

/**
 * Every record of `topic` up to the current end offsets, values as raw bytes (Avro is binary:
 * newlines and separators may occur in it). Each record is a text line "partition offset
 * keyLength", then the key's bytes, then the value's length as a big-endian int32 (%R) and the
 * value's bytes; a length of -1 is a null key or value.
 */
export async function kcatReadRaw(brokers: readonly string[], topic: string): Promise<KcatRawRecord[]> {
  const { stdout } = await run('kcat', ['-C', '-b', brokers.join(','), '-t', topic, '-o', 'beginning', '-e', '-q', '-f', '%p %o %K\n%k%R%s'], {
    encoding: 'buffer',
    maxBuffer: 512 * 1024 * 1024,
  });
  const out: KcatRawRecord[] = [];
  let i = 0;
  while (i < stdout.length) {
    const nl = stdout.indexOf(0x0a, i);
    if (nl < 0) throw new Error(`kcatReadRaw: truncated record header at byte ${i}`);
    const [p, o, kl] = stdout.subarray(i, nl).toString('latin1').split(' ').map(Number) as [number, number, number];
    i = nl + 1;
    const key = kl < 0 ? null : stdout.subarray(i, i + kl).toString('utf8');
    i += Math.max(kl, 0);
    const vl = stdout.readInt32BE(i);
    i += 4;
    const value = vl < 0 ? null : Buffer.from(stdout.subarray(i, i + vl));
    i += Math.max(vl, 0);
    out.push({ partition: p, offset: o, key, value });
  }
  return out;
}

/** Produces one record (key, value) to `partition` and waits for the ack. */
export async function kcatProduce(brokers: readonly string[], topic: string, partition: number, key: string, value: string): Promise<void> {
  const child = run('kcat', ['-P', '-b', brokers.join(','), '-t', topic, '-p', String(partition), '-k', key, '-X', 'acks=all']);
  child.child.stdin!.end(value);
  await child;
}
