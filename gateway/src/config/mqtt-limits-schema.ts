/**
 * The `mqtt.limits` section: every resource a network peer can make the broker hold is bounded
 * here. Names follow mosquitto 2.x where one exists (max_packet_size, max_connections,
 * max_keepalive, max_queued_messages, max_queued_bytes, max_inflight), so an operator's
 * mosquitto knowledge carries over. When a bound bites the gateway counts it (status
 * `ingest.limits`) and logs it, rate-limited.
 */
import { z } from 'zod';
import { durationMs } from './schema-helpers.js';

const count = (d: string) => z.number().int().nonnegative().describe(d);

export const mqttLimitsSchema = z
  .strictObject({
    maxPacketSizeBytes: z
      .number()
      .int()
      .min(0)
      .max(268_435_460)
      .refine((n) => n === 0 || n >= 64, { message: 'must be 0 (derived) or at least 64' })
      .default(0)
      .describe('Largest MQTT packet (fixed header included), checked from its declared length before the body is read; larger: the socket is closed (mosquitto max_packet_size). 0 = mqtt.maxPayloadBytes + 65,547 (room for the largest topic and header)'),
    maxConnections: count('Most open MQTT sockets; more are closed at once, counted and logged (mosquitto max_connections; 0 = unlimited)').default(10_000),
    maxConnectionsPerAddress: count('Most open MQTT sockets from one source IP address (0 = unlimited, the default: devices behind one NAT share an address, and a fleet reconnecting at once briefly holds old and new sockets)').default(0),
    maxKeepaliveSecs: z
      .number()
      .int()
      .min(0)
      .max(65_535)
      .default(65_535)
      .describe('Largest accepted CONNECT keepalive; a larger one, or keepalive 0 (never timed out), is refused with CONNACK 2 (mosquitto max_keepalive; 0 = no check)'),
    minKeepaliveSecs: z.number().int().min(0).max(65_535).default(0).describe('Smallest accepted non-zero CONNECT keepalive (refused with CONNACK 2 below it; 0 = no check)'),
    maxSubscriptionsPerClient: count('Most topic filters one client may hold; further SUBSCRIBEs get return code 0x80 (0 = unlimited)').default(100),
    maxQueuedMessages: count('Most QoS 1/2 messages queued for one persistent session (clean=false), online or offline; newer ones are dropped and counted (mosquitto max_queued_messages; 0 = unlimited)').default(1000),
    maxQueuedMessagesTotal: count('Most QoS 1/2 messages queued across all persistent sessions together (their number is otherwise unbounded); beyond it newer ones are dropped and counted (0 = unlimited)').default(100_000),
    maxQueuedBytes: z
      .number()
      .int()
      .min(1024)
      .default(1024 * 1024)
      .describe('Most bytes waiting in one subscriber\'s socket send buffer; messages beyond it are dropped for that subscriber and counted, so a subscriber that stops reading never holds up the broker (mosquitto max_queued_bytes)'),
    slowSubscriberTimeoutMs: durationMs('A subscriber whose send buffer stays over maxQueuedBytes this long is disconnected (aedes drainTimeout for blocked writes too)').default(30_000),
    maxRetainedMessages: count('Most retained messages stored (topics outside the telemetry routes only; routed topics never store retained messages); more are not retained, counted (0 = none retained)').default(1000),
    maxRetainedBytes: count('Most payload bytes of retained messages stored (0 = none retained)').default(10 * 1024 * 1024),
    maxInflightInbound: z
      .number()
      .int()
      .min(1)
      .max(65_535)
      .default(100)
      .describe('Most inbound QoS 2 messages one client may have awaiting PUBREL; one more closes the connection (aedes maxInflightInbound)'),
    maxStoredInboundPackets: count('Most inbound QoS 2 packet ids stored awaiting PUBREL across all sessions, disconnected ones included; a new one beyond it closes that connection (0 = unlimited)').default(100_000),
    maxPendingLogins: z
      .number()
      .int()
      .min(1)
      .default(256)
      .describe('Most username/password logins in progress at once (waiting out a failed-login delay or the secret check); one more is refused with CONNACK 3 (`busy`) and counted'),
    maxPublishesPerSec: count('Per-client PUBLISH rate limit, averaged over one second with a burst of the same size; beyond it the client\'s socket is not read until it is back under (0 = unlimited)').default(0),
    logFieldMaxChars: z.number().int().min(16).default(256).describe('Client-supplied strings (topics, client ids) longer than this are truncated in logs'),
    warnIntervalMs: durationMs('Repeated warnings of one kind from one source are logged once per interval, with the count suppressed').default(10_000),
  })
  .prefault({});

export type MqttLimitsConfig = z.infer<typeof mqttLimitsSchema>;
