/**
 * Codecs side by side: the same drain (N rows pre-buffered in SQLite -> Avro -> Kafka, as in
 * drain.ts) once per `kafka.compression`, against one broker, in one run. Per codec: drain rows/s,
 * the gateway process's CPU per 1,000 records (utime + stime from /proc, from listening until the
 * buffer is empty: SQLite, Avro, the codec and the Kafka client together; the codec's own share is
 * the difference to `none`), and bytes per record on the wire (the topic's log segments divided by
 * the rows: record batches as produced, headers included). The client compresses on the event
 * loop, so CPU here is also event-loop time taken from ingest.
 * Beside it, the codec alone (bench/lib/codec-cost.ts): the client's compressSync on one 5,000-record
 * batch, the event-loop time a send costs. Whole-process CPU is too coarse for that (none sends
 * 14x the bytes, and socket writes cost CPU too).
 * EG_TEST_GATEWAY_CMD runs another build (e.g. the binary, whose Node 24 has zstd); EG_BENCH_NODE
 * the Node that times the codec alone (default: this one).
 */
import { execFileSync } from 'node:child_process';
import { mkdtempSync, readFileSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { GatewayProcess } from '../../test/support/gateway-process.js';
import { snapshotBuffer } from '../../test/support/buffer-db.js';
import { batchCodecs, topicLogBytes } from '../../test/kafka/log-segments.js';
import { startBenchKafka } from '../lib/kafka-bench.js';
import { fmt, writeResult, type Row } from '../lib/report.js';
import { fillBuffer } from './drain.js';

const CODECS = ['none', 'gzip', 'snappy', 'lz4', 'zstd'] as const;
const CLK_TCK = 100; // Linux USER_HZ (getconf CLK_TCK)

/** CPU time (user + system) of a live process, in ms. */
function cpuMs(pid: number): number {
  const stat = readFileSync(`/proc/${pid}/stat`, 'utf8');
  const fields = stat.slice(stat.lastIndexOf(')') + 2).split(' ');
  return ((Number(fields[11]) + Number(fields[12])) * 1000) / CLK_TCK; // utime, stime (fields 14, 15)
}

interface CodecResult {
  codec: string;
  refused?: string;
  rowsPerSec?: number;
  seconds?: number;
  cpuMsPer1k?: number;
  bytesPerRecord?: number;
  batches?: Record<string, number>;
  node?: string;
}

async function drainWith(codec: string, rows: number, kafka: Awaited<ReturnType<typeof startBenchKafka>>, topic = `bench.codec.${codec}`): Promise<CodecResult> {
  const dir = mkdtempSync(join(tmpdir(), `eg-bench-codec-${codec}-`));
  try {
    fillBuffer(join(dir, 'buffer.db'), rows);
    const gw = new GatewayProcess({ dir, config: { log: { level: 'info' }, kafka: { brokers: kafka.brokers, topic, dlqTopic: 'bench.dlq', compression: codec } } });
    try {
      try {
        await gw.start();
      } catch (err) {
        const m = /kafka\.compression: ([^\n"]+)/.exec(`${(err as Error).message}\n${JSON.stringify(gw.logs)}`);
        if (m) return { codec, refused: m[1]! };
        throw err;
      }
      const cpu0 = cpuMs(gw.pid!);
      const t0 = performance.now();
      for (;;) {
        await new Promise((r) => setTimeout(r, 50));
        if (snapshotBuffer(gw.dbPath)?.rows === 0) break;
      }
      const seconds = (performance.now() - t0) / 1000;
      const cpu = cpuMs(gw.pid!) - cpu0;
      const node = String(gw.logs.find((l) => l.event === 'starting')?.['node'] ?? '?');
      await gw.stop();
      const stored = await batchCodecs(kafka.dataDir, topic);
      if (stored.records !== rows) throw new Error(`${codec}: broker holds ${stored.records} records, expected ${rows}`);
      return { codec, rowsPerSec: rows / seconds, seconds, cpuMsPer1k: (cpu / rows) * 1000, bytesPerRecord: topicLogBytes(kafka.dataDir, topic) / rows, batches: stored.batches, node };
    } finally {
      await gw.close();
    }
  } finally {
    rmSync(dir, { recursive: true, force: true });
  }
}

export async function run(args: { rows: number }): Promise<void> {
  const kafka = await startBenchKafka([...CODECS.map((c) => `bench.codec.${c}`), 'bench.codec.warmup', 'bench.dlq']);
  const results: CodecResult[] = [];
  try {
    // Warm-up drain (not reported): the first drain against a fresh broker pays its JIT and
    // segment creation, which would otherwise be charged to whichever codec runs first.
    await drainWith('lz4', Math.min(args.rows, 50_000), kafka, 'bench.codec.warmup');
    for (const codec of CODECS) {
      const r = await drainWith(codec, args.rows, kafka);
      process.stdout.write(`${JSON.stringify(r)}\n`);
      results.push(r);
    }
  } finally {
    await kafka.close();
  }
  const costNode = process.env['EG_BENCH_NODE'] ?? process.execPath;
  const cost = JSON.parse(execFileSync(costNode, [fileURLToPath(new URL('../lib/codec-cost.js', import.meta.url))], { encoding: 'utf8' })) as Record<string, { msPerBatch?: number; unavailable?: string } | string>;
  const compressCell = (codec: string): string => {
    const c = cost[codec];
    if (codec === 'none') return '0';
    if (typeof c !== 'object') return '-';
    return c.msPerBatch !== undefined ? fmt(c.msPerBatch, 2) : 'n/a';
  };
  const none = results.find((r) => r.codec === 'none');
  const rows: Row[] = results.map((r) =>
    r.refused
      ? { codec: r.codec, 'compress ms / 5k-record batch': compressCell(r.codec), 'drain rows/s': '-', 'gateway CPU ms / 1k records': '-', 'bytes / record on the wire': '-', 'vs none': `refused: ${r.refused}` }
      : {
          codec: r.codec,
          'compress ms / 5k-record batch': compressCell(r.codec),
          'drain rows/s': fmt(r.rowsPerSec!),
          'gateway CPU ms / 1k records': fmt(r.cpuMsPer1k!, 1),
          'bytes / record on the wire': fmt(r.bytesPerRecord!, 1),
          'vs none': none?.bytesPerRecord ? `${fmt((r.bytesPerRecord! / none.bytesPerRecord) * 100, 0)} % of the bytes` : '-',
        },
  );
  const node = results.find((r) => r.node)?.node ?? '?';
  writeResult('codecs', `Codecs: ${args.rows.toLocaleString('en')} buffered rows drained to Kafka per kafka.compression, side by side`, rows, { rows: args.rows, gatewayCmd: process.env['EG_TEST_GATEWAY_CMD'] ?? 'node build/gateway/src/main.js', results, codecAlone: cost }, [
    `gateway under test: ${process.env['EG_TEST_GATEWAY_CMD'] ? `\`${process.env['EG_TEST_GATEWAY_CMD']}\`` : '`node build/gateway/src/main.js`'} on Node ${node}; one single-node broker, 6 partitions, acks=all, idempotent, batchMaxRecords 5000 (default)`,
    'records: the Avro envelope of a 200-byte telemetry JSON payload, 100 devices; every batch checked with DumpLogSegments to carry the codec asked for',
    `compress ms / 5k-record batch: @platformatic/kafka's compressSync alone on one 5,000-record batch body (${typeof cost['gzip'] === 'object' && 'inBytes' in cost['gzip'] ? String((cost['gzip'] as { inBytes: number }).inBytes) : '?'} bytes), Node ${String(cost['node'])}, mean of 30 after warm-up: event-loop time per send`,
    'rows/s and CPU: from the gateway listening until the buffer is empty (polled every 50 ms); CPU = utime + stime of the gateway process (SQLite, Avro, codec, Kafka client, socket writes): whole-process CPU varies by about 1 ms / 1k between runs, more than the codecs differ; the codec column above is the codec alone',
    'bytes / record: the topic\'s log segments on the broker (record batches as produced, batch headers included) / rows',
  ]);
}
