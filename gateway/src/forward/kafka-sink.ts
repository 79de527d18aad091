/**
 * Kafka sink on @platformatic/kafka: idempotent producer, acks=all, the configured codec, one request in flight
 * (the library forces that for idempotence, so per-partition order holds across retries).
 *
 * Why this client and not kafkajs: in the drain benchmark kafkajs spent a third of the gateway's
 * CPU on per-record objects and a quadratic per-partition grouping; this one builds the record
 * batch directly. Same machine, same run: drain 26.9k -> 46.3k rows/s, e2e 16.5k -> 21.7k msgs/s
 * (bench/results/compare-kafkajs-sink.md). Its gzip runs on the event loop (kafkajs used the
 * thread pool): ~11 ms per 5,000-record batch of telemetry JSON here.
 *
 * Partitions: `compatibilityPartitioner` (cached per device) is Java's (and kafkajs's) murmur2 of the key, so a device
 * keeps the partition it had before this client was swapped in (tested against kafkajs's own
 * partitioner). After any failed send the producer is closed and a new one is made on the next
 * send: a fresh producer id cannot inherit a sequence gap from a half-acknowledged request.
 */
import { compatibilityPartitioner, Producer, stringSerializer, type MessageToProduce } from '@platformatic/kafka';
import type { ConnectionOptions as TlsOptions } from 'node:tls';
import { kafkaClientOptions } from '../lib/kafka-client-options.js';
import type { Logger } from '../lib/logger.js';
import type { GatewayError } from '../errors.js';
import { classifyKafkaError } from './kafka-errors.js';
import type { OutMessage, SinkState, TelemetrySink } from './sink.js';

export interface KafkaSinkOptions {
  brokers: readonly string[];
  clientId: string;
  /** Record-batch codec; the client compresses synchronously, on the event loop (bench/results/codecs.md). */
  compression: 'none' | 'gzip' | 'snappy' | 'lz4' | 'zstd';
  connectionTimeoutMs: number;
  requestTimeoutMs: number;
  allowAutoTopicCreation: boolean;
  sasl?: { mechanism: 'plain' | 'scram-sha-256' | 'scram-sha-512'; username: string; password: string } | undefined;
  /** TLS client options (CA, client cert/key, servername), already read from files; absent = plaintext. */
  tls?: TlsOptions | undefined;
  logger: Logger;
}

type TelemetryProducer = Producer<string, Buffer, string, string>;
type OutRecord = MessageToProduce<string, Buffer, string, string>;

/** Values are already Avro bytes; keys and header fields are strings. */
const passBuffer = (data?: Buffer): Buffer | undefined => data;

/**
 * Device keys repeat on every record: their bytes and murmur2 hash are computed once per device
 * (the drain profile showed both per record). Bounded: a fleet larger than the cap just clears it.
 */
class DeviceKeyCache {
  private readonly map = new Map<string, { bytes: Buffer; hash: number }>();
  constructor(private readonly cap = 100_000) {}
  private entry(key: string): { bytes: Buffer; hash: number } {
    let e = this.map.get(key);
    if (!e) {
      if (this.map.size >= this.cap) this.map.clear();
      const bytes = Buffer.from(key);
      e = { bytes, hash: compatibilityPartitioner(undefined as never, bytes) };
      this.map.set(key, e);
    }
    return e;
  }
  readonly serialize = (key?: string): Buffer | undefined => (key === undefined ? undefined : this.entry(key).bytes);
  readonly partition = (message: OutRecord): number => this.entry(message.key!).hash;
}

/** Force-closes (in-flight requests fail) and never throws: used only on the way out. */
function closeQuietly(p: TelemetryProducer): Promise<void> {
  return new Promise((resolve) => p.close(true, () => resolve()));
}

export class KafkaSink implements TelemetrySink {
  private producer: TelemetryProducer | null = null;
  private closed = false;
  private connected = false;
  private lastError: SinkState['lastError'] = null;
  private readonly keys = new DeviceKeyCache();

  /** Last error a broker connection reported after connecting (see classify()). */
  private transportError: unknown = null;

  constructor(private readonly opts: KafkaSinkOptions) {}

  private newProducer(): TelemetryProducer {
    const producer = this.createProducer();
    // A TLS alert after the handshake (TLS 1.3: the broker refusing a missing client
    // certificate) reaches the client only as the connection's 'error' event; the request
    // itself just fails with "Connection closed". Keep it so the failure can be named.
    producer.on('client:broker:connect', (ev: { connection?: { on(event: 'error', fn: (err: unknown) => void): unknown } }) => {
      ev.connection?.on('error', (err: unknown) => {
        this.transportError = err;
      });
    });
    return producer;
  }

  /** Classifies a failed connect/send; a TLS error seen on a connection meanwhile wins. */
  private classify(err: unknown, during: 'connect' | 'send'): GatewayError {
    const transport = this.transportError;
    this.transportError = null;
    const e = classifyKafkaError(err, during);
    if (transport === null || (e.code !== 'GW_ERR_FORWARD_CONNECT' && e.code !== 'GW_ERR_FORWARD_SEND')) return e;
    const both = classifyKafkaError(new AggregateError([transport, err], 'Kafka connection failed'), during);
    return both.code === 'GW_ERR_FORWARD_TLS' ? both : e;
  }

  private createProducer(): TelemetryProducer {
    const o = this.opts;
    return new Producer<string, Buffer, string, string>({
      // Brokers, client id, connect/request timeouts, SASL and TLS (shared with the control room).
      ...kafkaClientOptions(o),
      // The broker's own wait for the in-sync replicas, inside one produce request.
      timeout: o.requestTimeoutMs,
      // Two quick inner retries of retriable errors (a dropped connection, a leader move): they
      // reuse the producer id and sequence numbers, so the broker drops a batch it already has.
      // A timeout is not retried inside: the pump owns the long, jittered, capped retry loop, so
      // a silent outage is noticed after one request timeout. (The library turns retries <= 1
      // into "forever" for an idempotent producer, which would hang a send on a missing topic.)
      retries: 2,
      retryDelay: 100,
      idempotent: true,
      acks: -1,
      compression: o.compression,
      autocreateTopics: o.allowAutoTopicCreation,
      partitioner: this.keys.partition,
      serializers: { key: this.keys.serialize, value: passBuffer, headerKey: stringSerializer, headerValue: stringSerializer },
    });
  }

  async connect(): Promise<void> {
    if (this.producer && this.connected) return;
    if (this.closed) throw classifyKafkaError(new Error('sink closed'), 'connect');
    if (!this.producer) this.transportError = null;
    const producer = (this.producer ??= this.newProducer());
    try {
      // Connects, authenticates and obtains the producer id: everything a send needs first.
      await producer.initIdempotentProducer({});
    } catch (err) {
      if (this.producer === producer) this.producer = null;
      await closeQuietly(producer);
      const e = this.classify(err, 'connect');
      this.lastError = { code: e.code, message: e.message, at: Date.now() };
      throw e;
    }
    if (this.closed || this.producer !== producer) {
      await closeQuietly(producer);
      throw classifyKafkaError(new Error('sink closed'), 'connect');
    }
    this.connected = true;
  }

  async send(messages: readonly OutMessage[]): Promise<void> {
    if (!this.producer || !this.connected) await this.connect();
    const producer = this.producer!;
    try {
      // An OutMessage already is a record the client takes (it reads them, never changes them).
      const records: OutRecord[] = Array.from(messages);
      await producer.send({ messages: records });
    } catch (err) {
      const e = this.classify(err, 'send');
      this.lastError = { code: e.code, message: e.message, at: Date.now() };
      this.opts.logger.debug({ err, code: e.code }, 'kafka send failed; producer will be recreated');
      await this.resetProducer();
      throw e;
    }
  }

  private async resetProducer(): Promise<void> {
    const p = this.producer;
    this.producer = null;
    this.connected = false;
    if (p) await closeQuietly(p);
  }

  state(): SinkState {
    return { connected: this.connected, lastError: this.lastError };
  }

  async close(): Promise<void> {
    this.closed = true;
    await this.resetProducer();
  }
}

export function createKafkaSink(opts: KafkaSinkOptions): KafkaSink {
  return new KafkaSink(opts);
}
