/**
 * Reads a telemetry topic (and its dead-letter topic) back from Kafka, decodes every
 * single-object Avro record by its fingerprint, and feeds the audit ledger.
 *
 * It reads with kafkajs on purpose: the gateway writes with @platformatic/kafka, so the check
 * does not share a client (its framing, partitioner or decoding) with what it checks.
 */
import { randomUUID } from 'node:crypto';
import type { ConnectionOptions as TlsOptions } from 'node:tls';
import { Kafka, logLevel, type SASLOptions } from 'kafkajs';
import type avro from 'avsc';
import type { DecodedEnvelope } from '../encode/envelope-schema.js';
import { readSchemaId, REGISTRY_HEADER_BYTES } from '../encode/registry-subject.js';
import { readFingerprint, SINGLE_OBJECT_HEADER_BYTES, type SingleObjectCodec } from '../encode/single-object.js';
import { AuditLedger, deviceSeqOf, type AuditReport, type DeviceExpectation } from './audit-report.js';

export interface KafkaAuditOptions {
  brokers: readonly string[];
  topic: string;
  dlqTopic?: string | null;
  codecs: readonly SingleObjectCodec[];
  /** Schema Registry format (00 + id): the reader type of a schema id, null if the registry does not know it. */
  schemaById?: ((id: number) => Promise<avro.Type | null>) | undefined;
  expect?: Readonly<Record<string, DeviceExpectation>>;
  /**
   * Without `expect`: read up to the end offsets taken at start. With `expect`: keep reading
   * until every acknowledged seq is accounted for, or the timeout passes.
   */
  timeoutMs: number;
  /** Called for every decoded telemetry record (tests compare payloads with what was sent). */
  onRecord?: (env: DecodedEnvelope, meta: { key: string | null; partition: number; offset: string; timestamp: number }) => void;
  onDeadLetter?: (env: DecodedEnvelope, headers: Record<string, string>) => void;
  /** Entries of the gateway's drop log (deliberate drops), read with readDropLog(). */
  drops?: readonly DropLogEntry[];
  /** TLS client options (config/tls-files.ts); absent = plaintext. */
  tls?: TlsOptions | undefined;
  sasl?: { mechanism: 'plain' | 'scram-sha-256' | 'scram-sha-512'; username: string; password: string } | undefined;
}

export interface DropLogEntry {
  deviceId: string;
  reason: string;
  payloadHead: Buffer;
}

/** Distinct registry schema ids the audit resolves; records with further ids count as undecodable. */
const MAX_SCHEMA_IDS = 256;

export async function auditKafka(opts: KafkaAuditOptions): Promise<AuditReport> {
  const byFingerprint = new Map<bigint, SingleObjectCodec>(opts.codecs.map((c) => [c.fingerprint, c]));
  const ledger = new AuditLedger();
  for (const d of opts.drops ?? []) ledger.addDeliberateDrop(d.deviceId, deviceSeqOf(d.payloadHead), d.reason);
  const kafka = new Kafka({
    clientId: 'edge-gateway-audit',
    brokers: [...opts.brokers],
    logLevel: logLevel.NOTHING,
    retry: { retries: 5 },
    ...(opts.tls ? { ssl: { ...opts.tls } } : {}),
    // Same three mechanism names as kafkajs; its type is a union per mechanism.
    ...(opts.sasl ? { sasl: { ...opts.sasl } as SASLOptions } : {}),
  });
  const topics = [opts.topic, ...(opts.dlqTopic ? [opts.dlqTopic] : [])];

  const admin = kafka.admin();
  await admin.connect();
  const targets = new Map<string, bigint>(); // "topic/partition" -> end offset at start
  try {
    for (const t of topics) {
      for (const p of await admin.fetchTopicOffsets(t)) targets.set(`${t}/${p.partition}`, BigInt(p.high));
    }
  } finally {
    await admin.disconnect();
  }
  const reached = new Map<string, bigint>();
  const doneReading = () => [...targets].every(([tp, end]) => (reached.get(tp) ?? 0n) >= end);

  const byId = new Map<number, avro.Type | null>();
  const decode = async (value: Buffer | null): Promise<DecodedEnvelope | null> => {
    if (!value) return null;
    const id = opts.schemaById === undefined ? null : readSchemaId(value);
    if (id !== null) {
      // A topic of garbage starting with 00 must not turn into one registry request per record.
      if (!byId.has(id)) {
        if (byId.size >= MAX_SCHEMA_IDS) return null;
        byId.set(id, await opts.schemaById!(id).catch(() => null));
      }
      try {
        return (byId.get(id)?.fromBuffer(value.subarray(REGISTRY_HEADER_BYTES)) as DecodedEnvelope | undefined) ?? null;
      } catch {
        return null;
      }
    }
    const fp = readFingerprint(value);
    const codec = fp === null ? undefined : byFingerprint.get(fp);
    if (!codec) return null;
    try {
      // exactType: a long beyond 2^53 in a typed payload reads as BigInt (avsc's own long throws).
      return codec.exactType.fromBuffer(value.subarray(SINGLE_OBJECT_HEADER_BYTES)) as DecodedEnvelope;
    } catch {
      return null;
    }
  };

  const consumer = kafka.consumer({ groupId: `edge-gateway-audit-${randomUUID()}`, maxWaitTimeInMs: 250, sessionTimeout: 10_000 });
  await consumer.connect();
  try {
    for (const t of topics) await consumer.subscribe({ topic: t, fromBeginning: true });
    await consumer.run({
      autoCommit: false,
      eachBatch: async ({ batch }) => {
        const isDlq = batch.topic === opts.dlqTopic;
        for (const m of batch.messages) {
          const env = await decode(m.value);
          const key = m.key ? m.key.toString('utf8') : null;
          if (env === null) {
            ledger.undecodable++;
          } else if (isDlq) {
            const headers: Record<string, string> = {};
            for (const [k, v] of Object.entries(m.headers ?? {})) if (v !== undefined) headers[k] = Buffer.isBuffer(v) ? v.toString('utf8') : String(v);
            ledger.addDeadLetter(env.deviceId, deviceSeqOf(env.payload), headers['x-dlq-code'] ?? 'unknown');
            opts.onDeadLetter?.(env, headers);
          } else {
            ledger.add({ key, deviceId: env.deviceId, deviceSeq: deviceSeqOf(env.payload), partition: batch.partition });
            opts.onRecord?.(env, { key, partition: batch.partition, offset: m.offset, timestamp: Number(m.timestamp) });
          }
          reached.set(`${batch.topic}/${batch.partition}`, BigInt(m.offset) + 1n);
        }
      },
    });
    const deadline = Date.now() + opts.timeoutMs;
    for (;;) {
      await new Promise((r) => setTimeout(r, 250));
      const complete = opts.expect ? ledger.report(opts.topic, opts.expect).missingAcked === 0 && doneReading() : doneReading();
      if (complete || Date.now() > deadline) break;
    }
  } finally {
    await consumer.disconnect();
  }
  return ledger.report(opts.topic, opts.expect);
}
