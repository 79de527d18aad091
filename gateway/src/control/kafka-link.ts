/**
 * The control room's own link to Kafka, separate from the telemetry pipeline's producer: it reads
 * the compacted control topics (gateway config, device config) without a consumer group, and
 * writes status records. Interfaces here; `kafka-link-impl.ts` builds them on @platformatic/kafka.
 */

/** One record read from a control topic. `value` null is a tombstone. */
export interface ControlRecord {
  topic: string;
  partition: number;
  offset: bigint;
  key: string | null;
  value: Buffer | null;
  /** Record timestamp, ms since the epoch. */
  timestamp: number;
}

export interface TopicReaderOptions {
  topic: string;
  /**
   * Read only the partition this key maps to, with the producer's partitioner (Java-compatible
   * murmur2, `control/partition-for-key.ts`), so a gateway never reads the fleet's other configs.
   * null: every partition.
   */
  key: string | null;
  /** Longest wait of one fetch (long poll). */
  maxWaitMs: number;
  /**
   * Records in offset order per partition, from the beginning of the partition, then new ones as
   * they arrive. The next fetch waits for the returned promise (backpressure); a throw is logged
   * and the same records are not handed over again.
   */
  onRecords(records: ControlRecord[]): Promise<void> | void;
}

export interface TopicReaderState {
  connected: boolean;
  /** Partitions read and the next offset of each. */
  positions: Record<number, string>;
  lastError: { code: string; message: string; at: number } | null;
}

export interface TopicReader {
  start(): void;
  /** Resolves once every record that existed when the reader first reached Kafka was handed over. */
  readonly caughtUp: Promise<void>;
  state(): TopicReaderState;
  /** Stops fetching; safe to call twice. */
  close(): Promise<void>;
}

export interface ControlProducer {
  /** acks=all; rejects with a GatewayError GW_ERR_CONTROL_KAFKA when Kafka does not take it. */
  send(topic: string, key: string, value: string | Buffer): Promise<void>;
  close(): Promise<void>;
}

export interface KafkaLink {
  reader(opts: TopicReaderOptions): TopicReader;
  producer(): ControlProducer;
  /** Closes every reader and producer it made. */
  close(): Promise<void>;
}
