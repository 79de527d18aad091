/**
 * One owner for every counter of the MQTT limits (status `ingest.limits`, the `stats` line).
 * Each bound increments its own field when it bites; `snapshot()` copies them for readers.
 */
export interface LimitCounters {
  /** Sockets closed because a packet declared a length over maxPacketSizeBytes. */
  packetTooLargeTotal: number;
  /** Sockets closed because a fixed header was malformed, or the first packet was not CONNECT. */
  malformedFrameTotal: number;
  /** Sockets refused over maxConnections. */
  connectionsRefusedTotal: number;
  /** Sockets refused over maxConnectionsPerAddress. */
  connectionsRefusedPerAddressTotal: number;
  /** CONNECTs refused for their keepalive (0, or outside min..max). */
  keepaliveRefusedTotal: number;
  /** SUBSCRIBE filters refused over maxSubscriptionsPerClient. */
  subscriptionsRefusedTotal: number;
  /** Messages not queued for a persistent session over maxQueuedMessages. */
  queuedDroppedTotal: number;
  /** Messages not delivered to a subscriber whose send buffer was over maxQueuedBytes. */
  slowSubscriberDroppedTotal: number;
  /** Subscribers disconnected after slowSubscriberTimeoutMs over maxQueuedBytes. */
  slowSubscriberDisconnectedTotal: number;
  /** Retained messages on telemetry routes (never stored: the record goes to Kafka). */
  retainedIgnoredRoutedTotal: number;
  /** Retained messages not stored over maxRetainedMessages / maxRetainedBytes. */
  retainedDroppedTotal: number;
  /** Inbound QoS 2 packets refused over maxStoredInboundPackets (connection closed). */
  qos2RefusedTotal: number;
  /** Publishes held back by maxPublishesPerSec. */
  publishesThrottledTotal: number;
}

export interface LimitGauges {
  connections: number;
  retainedMessages: number;
  retainedBytes: number;
  /** Device configurations (devices/+/config), outside the retained caps. */
  retainedExemptMessages: number;
  retainedExemptBytes: number;
  queuedMessages: number;
  storedQos2Packets: number;
}

export type LimitsSnapshot = LimitCounters & LimitGauges;

export function createLimitCounters(): LimitCounters {
  return {
    packetTooLargeTotal: 0,
    malformedFrameTotal: 0,
    connectionsRefusedTotal: 0,
    connectionsRefusedPerAddressTotal: 0,
    keepaliveRefusedTotal: 0,
    subscriptionsRefusedTotal: 0,
    queuedDroppedTotal: 0,
    slowSubscriberDroppedTotal: 0,
    slowSubscriberDisconnectedTotal: 0,
    retainedIgnoredRoutedTotal: 0,
    retainedDroppedTotal: 0,
    qos2RefusedTotal: 0,
    publishesThrottledTotal: 0,
  };
}
