/**
 * kafkajs-backed sink: idempotent producer, acks=all, one request in flight (so per-partition
 * order holds across retries), gzip. kafkajs 2.2.4 is unmaintained, which is why it sits behind
 * the TelemetrySink interface. After any failed send the producer is recreated: a fresh producer
 * id avoids the stuck OUT_OF_ORDER_SEQUENCE state a timed-out idempotent batch can leave behind.
 */
import { CompressionTypes, Kafka, logLevel, type LogEntry, type Message, type Producer, type SASLOptions } from 'kafkajs';
import type { Logger } from '../lib/logger.js';
import { classifyKafkaError } from './kafka-errors.js';
import type { OutMessage, SinkState, TelemetrySink } from './sink.js';

export interface KafkaSinkOptions {
  brokers: readonly string[];
  clientId: string;
  compression: 'none' | 'gzip';
  connectionTimeoutMs: number;
  requestTimeoutMs: number;
  allowAutoTopicCreation: boolean;
  sasl?: { mechanism: 'plain' | 'scram-sha-256' | 'scram-sha-512'; username: string; password: string } | undefined;
  ssl?: boolean;
  logger: Logger;
}

const KAFKAJS_LEVELS: Record<number, 'error' | 'warn' | 'info' | 'debug'> = {
  [logLevel.ERROR]: 'debug', // kafkajs logs every failed attempt as ERROR; the pump logs state changes itself
  [logLevel.WARN]: 'debug',
  [logLevel.INFO]: 'debug',
  [logLevel.DEBUG]: 'debug',
};

export class KafkaSink implements TelemetrySink {
  private readonly kafka: Kafka;
  private producer: Producer | null = null;
  /** A producer still connecting, so close() can abort it (its socket would keep us alive). */
  private connecting: Producer | null = null;
  private closed = false;
  private connected = false;
  private lastError: SinkState['lastError'] = null;
  private readonly compression: CompressionTypes;

  constructor(private readonly opts: KafkaSinkOptions) {
    const log = opts.logger.child({ component: 'kafkajs' });
    this.kafka = new Kafka({
      clientId: opts.clientId,
      brokers: [...opts.brokers],
      connectionTimeout: opts.connectionTimeoutMs,
      requestTimeout: opts.requestTimeoutMs,
      enforceRequestTimeout: true,
      ...(opts.sasl ? { sasl: { ...opts.sasl } as SASLOptions } : {}),
      ...(opts.ssl ? { ssl: true } : {}),
      // Short inner retries: the pump owns the long, jittered, capped retry loop.
      retry: { retries: 2, initialRetryTime: 100, maxRetryTime: 1000 },
      logLevel: logLevel.WARN,
      logCreator:
        () =>
        ({ level, log: entry }: LogEntry) => {
          const { message, ...rest } = entry;
          log[KAFKAJS_LEVELS[level] ?? 'debug'](rest, message);
        },
    });
    this.compression = opts.compression === 'gzip' ? CompressionTypes.GZIP : CompressionTypes.None;
  }

  async connect(): Promise<void> {
    if (this.producer && this.connected) return;
    const producer = (this.connecting = this.kafka.producer({
      idempotent: true,
      maxInFlightRequests: 1,
      allowAutoTopicCreation: this.opts.allowAutoTopicCreation,
      // kafkajs requires >= 1 retry for an idempotent producer; the pump owns the real retry
      // loop, so keep this at the minimum: a silent outage is noticed after ~2 x requestTimeoutMs.
      retry: { retries: 1, initialRetryTime: 100, maxRetryTime: 1000 },
    }));
    try {
      await producer.connect();
    } catch (err) {
      this.connecting = null;
      await producer.disconnect().catch(() => undefined);
      const e = classifyKafkaError(err, 'connect');
      this.lastError = { code: e.code, message: e.message, at: Date.now() };
      throw e;
    }
    producer.on(producer.events.DISCONNECT, () => {
      if (this.producer === producer) this.connected = false;
    });
    this.connecting = null;
    if (this.closed) {
      await producer.disconnect().catch(() => undefined);
      throw classifyKafkaError(new Error('sink closed'), 'connect');
    }
    this.producer = producer;
    this.connected = true;
  }

  async send(messages: readonly OutMessage[]): Promise<void> {
    if (!this.producer || !this.connected) await this.connect();
    const producer = this.producer!;
    // Group by topic, keeping arrival order inside each topic (and so per key).
    const byTopic = new Map<string, Message[]>();
    for (const m of messages) {
      let list = byTopic.get(m.topic);
      if (!list) byTopic.set(m.topic, (list = []));
      list.push(m.headers ? { key: m.key, value: m.value, headers: m.headers } : { key: m.key, value: m.value });
    }
    try {
      await producer.sendBatch({
        acks: -1,
        timeout: this.opts.requestTimeoutMs,
        compression: this.compression,
        topicMessages: [...byTopic].map(([topic, msgs]) => ({ topic, messages: msgs })),
      });
    } catch (err) {
      const e = classifyKafkaError(err, 'send');
      this.lastError = { code: e.code, message: e.message, at: Date.now() };
      await this.resetProducer();
      throw e;
    }
  }

  private async resetProducer(): Promise<void> {
    const p = this.producer;
    this.producer = null;
    this.connected = false;
    if (p) await p.disconnect().catch(() => undefined);
  }

  state(): SinkState {
    return { connected: this.connected, lastError: this.lastError };
  }

  async close(): Promise<void> {
    this.closed = true;
    const c = this.connecting;
    this.connecting = null;
    if (c) await c.disconnect().catch(() => undefined);
    await this.resetProducer();
  }
}

export function createKafkaSink(opts: KafkaSinkOptions): KafkaSink {
  return new KafkaSink(opts);
}
