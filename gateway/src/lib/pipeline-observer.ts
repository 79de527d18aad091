/**
 * Timing hooks the hot path calls once per batch (never per message on the ingest side), for
 * the histograms a scrape cannot rebuild from counters. The control room supplies the
 * implementation (control/gateway-metrics.ts); stages see only this interface. Counters are NOT
 * observed here: each stage keeps its own, and metrics read them from its snapshot at scrape.
 */
export interface PipelineObserver {
  /** One group commit reached disk: its size and the transaction's duration (fsync included). */
  committed(records: number, seconds: number): void;
  /** Kafka acknowledged one send (acks=all) after `seconds`. */
  sent(seconds: number): void;
  /**
   * Kafka acknowledged these records at `ackedAtMs` (epoch ms): for the publish -> Kafka-ack
   * latency of each (its receivedAt is when the gateway read the publish).
   */
  acked(records: ReadonlyArray<{ receivedAt: number }>, ackedAtMs: number): void;
}
