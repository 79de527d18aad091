/** The `mqtt` section: listeners, routes, identity and limits of the embedded broker. */
import { z } from 'zod';
import { aclRuleSchema, DEFAULT_ACL } from './acl-schema.js';
import { listenerSchema, type ListenerConfig } from './mqtt-listener-schema.js';
import { mqttLimitsSchema } from './mqtt-limits-schema.js';
import { durationMs, live, ROUTE_DEVICE_PLACEHOLDER } from './schema-helpers.js';

/** What a typed route does with JSON fields its schema does not declare (encode/unknown-fields.ts). */
export const UNKNOWN_FIELDS_MODES = ['drop', 'reject', 'extra'] as const;

export const routeSchema = z.strictObject({
  topic: z
    .string()
    .min(1)
    .refine((t) => t.split('/').filter((l) => l === ROUTE_DEVICE_PLACEHOLDER).length === 1, {
      message: `must contain exactly one "${ROUTE_DEVICE_PLACEHOLDER}" level`,
    })
    .refine((t) => !t.includes('#') && !t.includes('+'), { message: 'wildcards are not allowed; use {deviceId}' })
    .describe('MQTT topic pattern; one level is "{deviceId}", e.g. devices/{deviceId}/telemetry'),
  valueSchema: z
    .union([z.string().min(1), z.record(z.string(), z.unknown())])
    .optional()
    .describe('Optional Avro record schema (inline object or path to an .avsc file). JSON payloads matching it are encoded as that record; others go to the dead-letter topic'),
  kafkaTopic: z.string().min(1).optional().describe('Kafka topic for this route (default: kafka.topic)'),
  // Default drop: the wire schema and fingerprint of an existing typed route stay as they were,
  // and a firmware that adds a field ahead of the schema keeps flowing (Avro's own rule: a reader
  // ignores fields it does not know); the drop is counted and logged, never silent.
  unknownFields: live(z.enum(UNKNOWN_FIELDS_MODES).default('drop')).describe(
    'Typed routes: JSON fields the valueSchema does not declare. drop = send the record without them, counted (gateway_forward_unknown_fields_dropped_total) and logged; reject = the record goes to the dead-letter topic (GW_ERR_ENCODE_UNKNOWN_FIELD); extra = every record type of the schema gains a field `extra` (map of string, default {}) holding each unknown field as name -> JSON text (changes the schema and its fingerprint)',
  ),
});

export const mqttSchema = z
  .strictObject({
    host: z.string().min(1).optional().describe('Shorthand for one plain TCP listener when `listeners` is not set (default 127.0.0.1: with nothing configured only this machine can connect, as in mosquitto 2)'),
    port: z.number().int().min(0).max(65535).optional().describe('Port of the shorthand listener (default 1883; 0 = any free port)'),
    listeners: z.array(listenerSchema).min(1).optional().describe('MQTT listeners (TCP or TLS), each with its own anonymous policy; replaces host/port'),
    maxPayloadBytes: z.number().int().positive().max(256 * 1024 * 1024).default(256 * 1024).describe('Largest accepted PUBLISH payload; larger ones are rejected and the connection closed'),
    connectTimeoutMs: durationMs('Time a new socket has to send CONNECT').default(30_000),
    maxClientIdLength: z
      .number()
      .int()
      .min(23)
      .max(65_535)
      .default(128)
      .describe('Longest client id accepted from an MQTT 3.1 (protocol level 3) client, refused with CONNACK 2 beyond it (aedes maxClientsIdLength; MQTT 3.1.1 and 5 clients are not limited by it). At least 23, the length MQTT 3.1 allows'),
    routes: live(
      z
        .array(routeSchema)
        .min(1)
        .default([{ topic: 'devices/{deviceId}/telemetry', unknownFields: 'drop' }]),
    ).describe('Topic routes, first match wins; a device publishes only on routes carrying its own id'),
    unrouted: live(z.enum(['reject', 'local']).default('reject')).describe('A publish on a topic that matches no route: reject (close the connection, counted) or local (ordinary broker traffic between local clients, governed by the ACL, never forwarded to Kafka)'),
    acl: live(z.array(aclRuleSchema).default(DEFAULT_ACL)).describe('Who may subscribe to (read) and publish on unrouted topics (write); denied subscriptions get SUBACK 0x80'),
    sysTopics: live(z.boolean().default(false)).describe('Allow subscriptions to $SYS/# at all (then only where an ACL rule allows)'),
    limits: mqttLimitsSchema,
  })
  .prefault({})
  .refine((m) => m.listeners === undefined || (m.host === undefined && m.port === undefined), {
    message: 'set either mqtt.host/mqtt.port or mqtt.listeners, not both',
    path: ['listeners'],
  });

/** The listeners to open: `listeners`, else one TCP listener from host/port (loopback default). */
export function effectiveListeners(m: MqttConfig): ListenerConfig[] {
  if (m.listeners !== undefined) return [...m.listeners];
  return [{ host: m.host ?? '127.0.0.1', port: m.port ?? 1883 }];
}

export type MqttConfig = z.infer<typeof mqttSchema>;
export type RouteConfig = z.infer<typeof routeSchema>;
