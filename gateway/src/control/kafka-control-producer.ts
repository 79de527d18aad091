/**
 * Writes the control room's status records: acks=all, idempotent, one request in flight (the
 * order of two writes of one key holds, so compaction keeps the later one), each record on the
 * partition Java's partitioner picks for its key (partitionForKey, explicit in the request),
 * so Java tools, kcat and our own readers find it where they look.
 *
 * Bounded: at most `maxPending` records queued or in flight; beyond that send() rejects at once
 * with "queue full" (status records are replaceable: the next heartbeat carries the news). A
 * send rejects within `connectionTimeoutMs + requestTimeoutMs` of being taken from the queue,
 * whatever the client does meanwhile. After a failed send the producer is dropped and the next
 * send makes a new one: a fresh producer id cannot inherit a sequence gap from a half-answered
 * request (as in forward/kafka-sink.ts).
 */
import { Producer } from '@platformatic/kafka';
import { gatewayError, type GatewayError } from '../errors.js';
import type { KafkaClientConnectionOptions } from '../lib/kafka-client-options.js';
import type { Logger } from '../lib/logger.js';
import { closeWithin } from './close-within.js';
import type { ControlProducer } from './kafka-link.js';
import { controlKafkaError } from './kafka-link-errors.js';
import { partitionForKey } from './partition-for-key.js';

export interface KafkaControlProducerOptions {
  /** Brokers, client id, timeouts, SASL, TLS (lib/kafka-client-options.ts). */
  client: KafkaClientConnectionOptions;
  connectionTimeoutMs: number;
  requestTimeoutMs: number;
  /** Records queued or in flight at most; more are refused at once. */
  maxPending: number;
  /** Partition counts are asked for again after this long. */
  metadataMaxAgeMs: number;
  logger: Logger;
  /** Longest a dropped client's close is waited for. */
  closeWaitMs: number;
  /** Called once, when close() is done. */
  onClosed?: () => void;
}

interface PendingSend {
  topic: string;
  key: string;
  value: Buffer;
  resolve(): void;
  reject(err: GatewayError): void;
}

type BufferProducer = Producer<Buffer, Buffer, Buffer, Buffer>;

export class KafkaControlProducer implements ControlProducer {
  private readonly queue: PendingSend[] = [];
  private inFlight = 0;
  /** Set and cleared synchronously by drain(): a send resolved by it may call send() before drain()'s promise settles. */
  private draining = false;
  private drained: Promise<void> = Promise.resolve();
  private producer: BufferProducer | null = null;
  private closed = false;
  private closing: Promise<void> | null = null;

  constructor(private readonly o: KafkaControlProducerOptions) {}

  send(topic: string, key: string, value: string | Buffer): Promise<void> {
    if (this.closed) return Promise.reject(gatewayError('GW_ERR_CONTROL_KAFKA', `send to ${topic}: producer closed`));
    if (this.queue.length + this.inFlight >= this.o.maxPending) {
      return Promise.reject(gatewayError('GW_ERR_CONTROL_KAFKA', `send to ${topic}: queue full (${this.o.maxPending} pending)`, { details: { topic } }));
    }
    return new Promise<void>((resolve, reject) => {
      this.queue.push({ topic, key, value: typeof value === 'string' ? Buffer.from(value, 'utf8') : value, resolve, reject });
      if (!this.draining) this.drained = this.drain();
    });
  }

  close(): Promise<void> {
    this.closing ??= this.shutDown();
    return this.closing;
  }

  private async shutDown(): Promise<void> {
    this.closed = true;
    for (const p of this.queue.splice(0)) p.reject(gatewayError('GW_ERR_CONTROL_KAFKA', `send to ${p.topic}: producer closed`));
    // Force-closing fails a request in flight at once; its batch is rejected by drain().
    await this.dropProducer();
    await this.drained;
    this.o.onClosed?.();
  }

  /**
   * One batch in flight at a time: everything queued for the topic at the head of the queue
   * goes in one request (per topic, so a missing topic fails only its own records).
   */
  private async drain(): Promise<void> {
    this.draining = true;
    try {
      while (this.queue.length > 0 && !this.closed) {
        const batch = this.takeBatch();
        this.inFlight = batch.length;
        try {
          await this.sendBatch(batch);
          for (const p of batch) p.resolve();
        } catch (err) {
          const e = controlKafkaError(`send to ${batch[0]!.topic}`, err);
          this.o.logger.debug({ event: 'control_send_failed', code: e.code, reason: e.message, records: batch.length }, 'control record send failed; producer will be recreated');
          for (const p of batch) p.reject(e);
          await this.dropProducer();
        } finally {
          this.inFlight = 0;
        }
      }
    } finally {
      // Cleared in the same tick the loop ends, before any resolved sender runs again.
      this.draining = false;
    }
  }

  /** The queued records of the head's topic, in queue order; the others stay queued. */
  private takeBatch(): PendingSend[] {
    const topic = this.queue[0]!.topic;
    const batch: PendingSend[] = [];
    let kept = 0;
    for (const p of this.queue) {
      if (p.topic === topic) batch.push(p);
      else this.queue[kept++] = p;
    }
    this.queue.length = kept;
    return batch;
  }

  private async sendBatch(batch: PendingSend[]): Promise<void> {
    const producer = (this.producer ??= this.newProducer());
    const topic = batch[0]!.topic;
    const limitMs = this.o.connectionTimeoutMs + this.o.requestTimeoutMs;
    const work = (async () => {
      // Cached by the client for metadataMaxAgeMs; a partition count change is seen within that.
      const count = (await producer.metadata({ topics: [topic] })).topics.get(topic)?.partitionsCount;
      if (count === undefined) throw gatewayError('GW_ERR_CONTROL_KAFKA', `send to ${topic}: topic does not exist`);
      await producer.send({ messages: batch.map((p) => ({ topic, key: Buffer.from(p.key, 'utf8'), value: p.value, partition: partitionForKey(p.key, count) })) });
    })();
    let timer: NodeJS.Timeout | undefined;
    const deadline = new Promise<never>((_, reject) => {
      timer = setTimeout(() => reject(gatewayError('GW_ERR_CONTROL_KAFKA', `send to ${topic}: no answer within ${limitMs} ms`)), limitMs);
    });
    // The work may settle after the deadline (dropProducer() then fails it): never unhandled.
    work.catch(() => undefined);
    try {
      await Promise.race([work, deadline]);
    } finally {
      clearTimeout(timer);
    }
  }

  private newProducer(): BufferProducer {
    return new Producer<Buffer, Buffer, Buffer, Buffer>({
      ...this.o.client,
      // The broker's own wait for the in-sync replicas, inside one produce request.
      timeout: this.o.requestTimeoutMs,
      // Idempotent (acks=all, one request in flight, the library's choice for idempotence).
      // Two quick inner retries; more than one, because the library turns retries <= 1 into
      // "forever" for an idempotent producer. The deadline above bounds the whole send anyway.
      idempotent: true,
      acks: -1,
      retries: 2,
      retryDelay: 100,
      autocreateTopics: false,
      metadataMaxAge: this.o.metadataMaxAgeMs,
    });
  }

  private async dropProducer(): Promise<void> {
    const p = this.producer;
    this.producer = null;
    if (p) await closeWithin(p, this.o.closeWaitMs);
  }
}
