/**
 * The MQTT limits, composed from `mqtt.limits` into the few hooks the listener wires: aedes
 * options, one call per accepted socket, one call once the broker exists, and one snapshot of
 * every limit counter (status `ingest.limits`). Each bound lives in its own file.
 */
import type { Socket } from 'node:net';
import type { Aedes, AedesOptions } from 'aedes';
import type { MqttLimitsConfig } from '../config/mqtt-limits-schema.js';
import type { Logger } from '../lib/logger.js';
import { createRateLimitedLog, type RateLimitedLog } from '../lib/rate-limited-log.js';
import { openFileSoftLimit } from '../lib/open-file-limit.js';
import { boundPersistence, type BoundedPersistenceGauges } from './bounded-persistence.js';
import { createConnectionLimits } from './connection-limits.js';
import { FrameVerdict, guardSocketFrames } from './frame-guard.js';
import { createKeepalivePolicy } from './keepalive-policy.js';
import { createLimitCounters, type LimitsSnapshot } from './limit-counters.js';
import { rateLimitPublish, type AuthorizePublishFn } from './publish-rate-limit.js';
import { createSlowSubscriberGuard, raiseWriteHighWaterMark, trampolineEmitter } from './slow-subscriber.js';
import { createSubscriptionCap } from './subscription-cap.js';

export interface IngestLimitsOptions {
  limits: MqttLimitsConfig;
  /** Used for the default packet cap. */
  maxPayloadBytes: number;
  /** Topics of the telemetry routes: retained messages on them are never stored. */
  isRoutedTopic: (topic: string) => boolean;
  /** Retained messages outside the retained caps (device configurations, written by the gateway). */
  exemptRetained?: ((topic: string) => boolean) | undefined;
  logger: Logger;
}

export interface IngestLimits {
  /** Merge into the aedes options (drainTimeout, maxInflightInbound and the hooks). */
  readonly aedesOptions: Pick<AedesOptions, 'drainTimeout' | 'maxInflightInbound' | 'preConnect' | 'authorizeForward' | 'authorizeSubscribe'>;
  wrapAuthorizePublish(fn: AuthorizePublishFn): AuthorizePublishFn;
  /** Once, right after the broker is created (before any client connects). */
  attachBroker(broker: Aedes): void;
  /** For each accepted TCP socket (before any TLS handshake); false = refused (already destroyed). */
  admitSocket(socket: Socket): boolean;
  /** For the socket that carries MQTT (the TLS socket on TLS listeners), before broker.handle(). */
  guardMqttSocket(socket: Socket): void;
  /** Rate-limited warnings for the other ingest stages (publish gate). */
  readonly warnLog: RateLimitedLog;
  readonly logFieldMaxChars: number;
  snapshot(): LimitsSnapshot;
}

/** Descriptors kept for everything but device sockets: SQLite (db, WAL, shm), Kafka, logs, Node. */
const FD_RESERVE = 128;

/**
 * maxConnections, lowered to fit under the open-file limit so that the cap (counted, logged)
 * bites before the kernel limit (silent). 0 (unlimited) becomes the fd bound when one is known.
 */
export function effectiveMaxConnections(maxConnections: number, fdSoftLimit: number | null): number {
  if (fdSoftLimit === null) return maxConnections;
  const fit = Math.max(1, fdSoftLimit - FD_RESERVE);
  return maxConnections === 0 ? fit : Math.min(maxConnections, fit);
}

/** Largest topic (65,535) + its length prefix (2) + message id (2) + fixed header (<= 5) + slack. */
const PACKET_HEADROOM_BYTES = 65_547;

export function maxPacketBytes(limits: MqttLimitsConfig, maxPayloadBytes: number): number {
  return limits.maxPacketSizeBytes > 0 ? limits.maxPacketSizeBytes : maxPayloadBytes + PACKET_HEADROOM_BYTES;
}

export function createIngestLimits(o: IngestLimitsOptions): IngestLimits {
  const L = o.limits;
  const counters = createLimitCounters();
  const warnLog = createRateLimitedLog(o.logger, L.warnIntervalMs);
  const packetCap = maxPacketBytes(L, o.maxPayloadBytes);
  const logFieldMaxChars = L.logFieldMaxChars;
  const fdLimit = openFileSoftLimit();
  const maxConnections = effectiveMaxConnections(L.maxConnections, fdLimit);
  if (maxConnections !== L.maxConnections) {
    o.logger.warn({ event: 'max_connections_lowered', configured: L.maxConnections, effective: maxConnections, openFileLimit: fdLimit }, `maxConnections lowered to ${maxConnections} to fit the open-file limit (raise LimitNOFILE / ulimit -n)`);
  }
  const connections = createConnectionLimits({ maxConnections, maxConnectionsPerAddress: L.maxConnectionsPerAddress, counters, log: warnLog });
  const subscriptions = createSubscriptionCap({ maxSubscriptions: L.maxSubscriptionsPerClient, counters, log: warnLog, logFieldMaxChars });
  let gauges: () => BoundedPersistenceGauges = () => ({ retainedMessages: 0, retainedBytes: 0, retainedExemptMessages: 0, retainedExemptBytes: 0, queuedMessages: 0, storedQos2Packets: 0 });

  function onFrameReject(socket: Socket, verdict: number, declaredBytes: number): void {
    const address = socket.remoteAddress ?? 'unknown';
    if (verdict === FrameVerdict.tooLarge) {
      counters.packetTooLargeTotal++;
      warnLog.warn(`packet_too_large:${address}`, { event: 'packet_too_large', address, declaredBytes, limitBytes: packetCap }, 'packet over maxPacketSizeBytes; connection closed before reading it');
    } else {
      counters.malformedFrameTotal++;
      const reason = verdict === FrameVerdict.notConnect ? 'first packet is not CONNECT' : 'malformed remaining length';
      warnLog.warn(`malformed_frame:${address}`, { event: 'malformed_frame', address, reason }, 'malformed MQTT frame; connection closed');
    }
  }

  return {
    aedesOptions: {
      drainTimeout: L.slowSubscriberTimeoutMs,
      maxInflightInbound: L.maxInflightInbound,
      preConnect: createKeepalivePolicy({ maxKeepaliveSecs: L.maxKeepaliveSecs, minKeepaliveSecs: L.minKeepaliveSecs, counters, log: warnLog, logFieldMaxChars }),
      authorizeForward: createSlowSubscriberGuard({ maxQueuedBytes: L.maxQueuedBytes, timeoutMs: L.slowSubscriberTimeoutMs, counters, log: warnLog, logFieldMaxChars }),
      authorizeSubscribe: subscriptions.authorizeSubscribe,
    },
    wrapAuthorizePublish: (fn) => rateLimitPublish(L.maxPublishesPerSec, counters, fn),
    attachBroker(broker) {
      const b = broker as unknown as { persistence: object; mq: unknown };
      const bounded = boundPersistence(b.persistence, {
        isRoutedTopic: o.isRoutedTopic,
        exemptRetained: o.exemptRetained,
        maxRetainedMessages: L.maxRetainedMessages,
        maxRetainedBytes: L.maxRetainedBytes,
        maxQueuedMessages: L.maxQueuedMessages,
        maxQueuedMessagesTotal: L.maxQueuedMessagesTotal,
        maxStoredInboundPackets: L.maxStoredInboundPackets,
        stripInboundPayloads: true,
        counters,
        log: warnLog,
        logFieldMaxChars,
      });
      b.persistence = bounded.persistence;
      gauges = bounded.gauges;
      trampolineEmitter(b.mq);
      broker.on('unsubscribe', (topics: string[], client) => subscriptions.released(client, topics));
    },
    admitSocket(socket) {
      return connections.admit(socket);
    },
    guardMqttSocket(socket) {
      guardSocketFrames(socket, packetCap, (verdict, declared) => onFrameReject(socket, verdict, declared));
      // One packet over the queued-bytes bound must still fit under the mark (see slow-subscriber).
      raiseWriteHighWaterMark(socket, L.maxQueuedBytes + packetCap);
    },
    warnLog,
    logFieldMaxChars,
    snapshot() {
      return { ...counters, connections: connections.open, ...gauges() };
    },
  };
}
