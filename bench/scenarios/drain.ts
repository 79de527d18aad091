/**
 * Drain: N rows already buffered in SQLite are forwarded to Kafka; rows/s, beside Kafka's own
 * ProducerPerformance (kafka-tools) with the same record size, acks=all, gzip and idempotence,
 * against the same broker, in the same run.
 */
import { execFile } from 'node:child_process';
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { promisify } from 'node:util';
import { closeBufferDatabase, createSqliteBuffer, openBufferDatabase } from '../../gateway/src/buffer/sqlite-buffer.js';
import { createAvroEncoder } from '../../gateway/src/encode/avro-encoder.js';
import type { IngestRecord } from '../../gateway/src/record.js';
import { makeTelemetry } from '../../firmware-sim/src/telemetry.js';
import { createRng } from '../../firmware-sim/src/rng.js';
import { ensureKafkaJars } from '../../test/kafka/fetch-jars.js';
import { GatewayProcess } from '../../test/support/gateway-process.js';
import { snapshotBuffer } from '../../test/support/buffer-db.js';
import { startBenchKafka } from '../lib/kafka-bench.js';
import type { KafkaBroker } from '../../test/kafka/kafka-harness.js';
import { fmt, writeResult } from '../lib/report.js';

const execFileAsync = promisify(execFile);

/** Writes `rows` telemetry rows (100 devices, 200-byte JSON payloads) into a fresh buffer file. */
export function fillBuffer(path: string, rows: number): number {
  const db = openBufferDatabase({ path, synchronous: 'NORMAL' });
  const buffer = createSqliteBuffer(db, { deadLetterMaxRows: 10 });
  const rng = createRng(7);
  const batch: IngestRecord[] = [];
  let payloadBytes = 0;
  for (let i = 0; i < rows; i++) {
    const deviceId = `dev-${String(i % 100).padStart(5, '0')}`;
    const payload = Buffer.from(makeTelemetry(deviceId, Math.floor(i / 100) + 1, i / 100, rng, { payloadBytes: 200 }));
    payloadBytes = payload.length;
    batch.push({ deviceId, topic: `devices/${deviceId}/telemetry`, qos: 1, receivedAt: Date.now(), payload });
    if (batch.length === 10_000) {
      buffer.append(batch);
      batch.length = 0;
    }
  }
  if (batch.length) buffer.append(batch);
  buffer.close();
  closeBufferDatabase(db);
  return payloadBytes;
}

/** Gateway drain of `rows` pre-buffered rows into a fresh Kafka; EG_TEST_GATEWAY_CMD picks the build. */
export async function runGatewayDrain(rows: number, kafka?: KafkaBroker, kafkaConfig: Record<string, unknown> = {}): Promise<{ rowsPerSec: number; seconds: number; recordSize: number }> {
  const dir = mkdtempSync(join(tmpdir(), 'eg-bench-drain-'));
  const own = kafka ?? (await startBenchKafka(['bench.drain', 'bench.dlq']));
  try {
    fillBuffer(join(dir, 'buffer.db'), rows);
    const gw = new GatewayProcess({ dir, config: { log: { level: 'info' }, kafka: { brokers: own.brokers, topic: 'bench.drain', dlqTopic: 'bench.dlq', ...kafkaConfig } }, env: { GATEWAY_LOG_LEVEL: 'info' } });
    let seconds = Number.NaN;
    try {
      const start = Date.now();
      await gw.start();
      for (;;) {
        await new Promise((r) => setTimeout(r, 200));
        if (snapshotBuffer(gw.dbPath)?.rows === 0) break;
      }
      seconds = (Date.now() - start) / 1000;
      await gw.stop();
    } finally {
      await gw.close();
    }
    return { rowsPerSec: rows / seconds, seconds, recordSize: sampleRecordSize() };
  } finally {
    if (!kafka) await own.close();
    rmSync(dir, { recursive: true, force: true });
  }
}

function sampleRecordSize(): number {
  return createAvroEncoder({ gatewayId: 'vm', defaultTopic: 'x', routes: [{ topic: 'devices/{deviceId}/telemetry' }] }).encodeRaw({
    deviceId: 'dev-00001', topic: 'devices/dev-00001/telemetry', qos: 1, receivedAt: Date.now(), seq: 1,
    payload: Buffer.from(makeTelemetry('dev-00001', 1, 1, createRng(1), { payloadBytes: 200 })),
  }).length;
}

/** Kafka's own Java producer: same broker, record size, acks=all, gzip, idempotence. */
export async function runProducerPerformance(kafka: KafkaBroker, rows: number, recordSize: number): Promise<{ rowsPerSec: number; line: string }> {
  const libs = await ensureKafkaJars();
  const { stdout } = await execFileAsync('java', [
    '-Xmx1g', '-cp', `${libs}/*`, 'org.apache.kafka.tools.ProducerPerformance',
    '--topic', 'bench.perf', '--num-records', String(rows), '--record-size', String(recordSize), '--throughput', '-1',
    '--producer-props', `bootstrap.servers=${kafka.bootstrap}`, 'acks=all', 'compression.type=gzip', 'enable.idempotence=true',
  ], { maxBuffer: 64 * 1024 * 1024 });
  const line = stdout.trim().split('\n').at(-1) ?? '';
  const m = /([\d.]+) records\/sec/.exec(line);
  return { rowsPerSec: m ? Number(m[1]) : Number.NaN, line };
}

export async function run(args: { rows: number }): Promise<void> {
  const kafka = await startBenchKafka(['bench.drain', 'bench.dlq', 'bench.perf']);
  try {
    const gw = await runGatewayDrain(args.rows, kafka);
    const pp = await runProducerPerformance(kafka, args.rows, gw.recordSize);
    writeResult('drain', `Drain: ${args.rows.toLocaleString('en')} buffered rows -> Kafka, beside Kafka's ProducerPerformance`, [
      { producer: 'edge-gateway drain (SQLite -> Avro -> @platformatic/kafka)', 'rows/s': fmt(gw.rowsPerSec), 'ratio vs ProducerPerformance': fmt(gw.rowsPerSec / pp.rowsPerSec, 2), seconds: fmt(gw.seconds, 1) },
      { producer: 'Kafka ProducerPerformance (Java)', 'rows/s': fmt(pp.rowsPerSec), 'ratio vs ProducerPerformance': '1.00', seconds: fmt(args.rows / pp.rowsPerSec, 1) },
    ], { rows: args.rows, gateway: gw, producerPerformance: pp }, [
      `record size ${gw.recordSize} bytes (the Avro envelope of a 200-byte telemetry payload); acks=all, gzip, idempotent, same single-node broker, 6 partitions`,
      'gateway timing: process start until the buffer is empty (includes start-up and Kafka connect)',
    ]);
  } finally {
    await kafka.close();
  }
}
