/**
 * The control room's Kafka link on @platformatic/kafka (interfaces in kafka-link.ts). It reaches
 * Kafka with the same `kafka` settings as the telemetry pipeline (brokers, timeouts, SASL, TLS)
 * but with its own clients and client id (`<kafka.clientId>-control`), so config and status
 * traffic never queues behind telemetry, and closing it leaves the pipeline untouched.
 * Each reader has its own client: closing one stops its long poll at once.
 */
import type { KafkaConfig } from '../config/kafka-schema.js';
import { readTlsClientOptions } from '../config/tls-files.js';
import { gatewayError } from '../errors.js';
import { kafkaClientOptions, type KafkaClientConnectionOptions } from '../lib/kafka-client-options.js';
import type { Logger } from '../lib/logger.js';
import { KafkaControlProducer } from './kafka-control-producer.js';
import type { ControlProducer, KafkaLink, TopicReader, TopicReaderOptions } from './kafka-link.js';
import { KafkaTopicReader } from './kafka-topic-reader.js';

export interface KafkaLinkOptions {
  kafka: KafkaConfig;
  /** Appended to the client id: `<kafka.clientId>-control-<suffix>`. */
  clientIdSuffix?: string;
  logger: Logger;
  /** Partition counts and leaders are asked for again after this long (default 60 s). */
  metadataMaxAgeMs?: number;
  /** Most bytes one fetch may return (default 1 MiB); one answer is handed over at a time. */
  fetchMaxBytes?: number;
  /** Status records queued or in flight per producer at most (default 100). */
  maxPendingSends?: number;
}

const DEFAULT_METADATA_MAX_AGE_MS = 60_000;
const DEFAULT_FETCH_MAX_BYTES = 1024 * 1024;
const DEFAULT_MAX_PENDING_SENDS = 100;
/** close() never waits longer for a client's sockets (see close-within.ts). */
const CLOSE_WAIT_MS = 2_000;

export function createKafkaLink(opts: KafkaLinkOptions): KafkaLink {
  const k = opts.kafka;
  const clientId = `${k.clientId}-control${opts.clientIdSuffix ? `-${opts.clientIdSuffix}` : ''}`;
  // Read once here: unreadable or unusable TLS files fail now, naming the field, like the pipeline.
  const tls = k.tls.enabled ? readTlsClientOptions('kafka.tls', k.tls) : undefined;
  const client: KafkaClientConnectionOptions = kafkaClientOptions({
    brokers: k.brokers,
    clientId,
    connectionTimeoutMs: k.connectionTimeoutMs,
    requestTimeoutMs: k.requestTimeoutMs,
    sasl: k.sasl,
    tls,
  });
  const metadataMaxAgeMs = opts.metadataMaxAgeMs ?? DEFAULT_METADATA_MAX_AGE_MS;
  const open = new Set<{ close(): Promise<void> }>();
  let closed = false;

  const assertOpen = (what: string): void => {
    if (closed) throw gatewayError('GW_ERR_CONTROL_KAFKA', `${what}: link closed`);
  };

  return {
    reader(r: TopicReaderOptions): TopicReader {
      assertOpen(`read ${r.topic}`);
      const reader: KafkaTopicReader = new KafkaTopicReader({
        ...r,
        client,
        requestTimeoutMs: k.requestTimeoutMs,
        retryInitialMs: k.retryInitialMs,
        retryMaxMs: k.retryMaxMs,
        metadataMaxAgeMs,
        fetchMaxBytes: opts.fetchMaxBytes ?? DEFAULT_FETCH_MAX_BYTES,
        closeWaitMs: CLOSE_WAIT_MS,
        logger: opts.logger,
        onClosed: () => open.delete(reader),
      });
      open.add(reader);
      return reader;
    },
    producer(): ControlProducer {
      assertOpen('producer');
      const producer: KafkaControlProducer = new KafkaControlProducer({
        client,
        connectionTimeoutMs: k.connectionTimeoutMs,
        requestTimeoutMs: k.requestTimeoutMs,
        maxPending: opts.maxPendingSends ?? DEFAULT_MAX_PENDING_SENDS,
        metadataMaxAgeMs,
        closeWaitMs: CLOSE_WAIT_MS,
        logger: opts.logger,
        onClosed: () => open.delete(producer),
      });
      open.add(producer);
      return producer;
    },
    async close(): Promise<void> {
      closed = true;
      await Promise.all([...open].map((c) => c.close()));
    },
  };
}
