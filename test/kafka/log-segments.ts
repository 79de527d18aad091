/**
 * What the broker actually stored for a topic, read from its log directory (the harness's
 * `dataDir`): the codec of every record batch, by Kafka's own kafka.tools.DumpLogSegments, and
 * the bytes of the log segments (record batches as produced: the broker keeps the producer's
 * compression when the topic's compression.type is `producer`, the default).
 */
import { readdirSync, statSync } from 'node:fs';
import { join } from 'node:path';
import { ensureKafkaJars } from './fetch-jars.js';
import { runKafkaTool } from './kafka-tool.js';

function segmentFiles(dataDir: string, topic: string): string[] {
  const dirs = readdirSync(dataDir).filter((d) => d.startsWith(`${topic}-`) && /^\d+$/.test(d.slice(topic.length + 1)));
  return dirs.flatMap((d) => readdirSync(join(dataDir, d)).filter((f) => f.endsWith('.log')).map((f) => join(dataDir, d, f)));
}

/** Record batches per codec name as DumpLogSegments prints it ("none", "gzip", "snappy", "lz4", "zstd"). */
export async function batchCodecs(dataDir: string, topic: string): Promise<{ batches: Record<string, number>; records: number }> {
  const files = segmentFiles(dataDir, topic);
  if (files.length === 0) throw new Error(`no log segments of ${topic} under ${dataDir}`);
  const out = await runKafkaTool(await ensureKafkaJars(), 'kafka.tools.DumpLogSegments', ['--files', files.join(',')], `DumpLogSegments ${topic}`);
  const batches: Record<string, number> = {};
  let records = 0;
  for (const line of out.split('\n')) {
    const codec = / compresscodec: (\w+)/.exec(line)?.[1];
    const count = / count: (\d+)/.exec(line)?.[1];
    if (!codec || !count) continue;
    batches[codec.toLowerCase()] = (batches[codec.toLowerCase()] ?? 0) + 1;
    records += Number(count);
  }
  return { batches, records };
}

/** Bytes of every log segment of `topic` (all partitions): record batches with their headers. */
export function topicLogBytes(dataDir: string, topic: string): number {
  return segmentFiles(dataDir, topic).reduce((sum, f) => sum + statSync(f).size, 0);
}
