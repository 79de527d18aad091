/** The `mqtt` section: listeners, routes, identity and limits of the embedded broker. */
import { z } from 'zod';
import { mqttLimitsSchema } from './mqtt-limits-schema.js';
import { durationMs, ROUTE_DEVICE_PLACEHOLDER } from './schema-helpers.js';

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
});

export const mqttSchema = z
  .strictObject({
    host: z.string().min(1).default('0.0.0.0').describe('Address the MQTT listener binds'),
    port: z.number().int().min(0).max(65535).default(1883).describe('MQTT TCP port (0 = any free port)'),
    maxPayloadBytes: z.number().int().positive().max(256 * 1024 * 1024).default(256 * 1024).describe('Largest accepted PUBLISH payload; larger ones are rejected and the connection closed'),
    connectTimeoutMs: durationMs('Time a new socket has to send CONNECT').default(30_000),
    routes: z
      .array(routeSchema)
      .min(1)
      .default([{ topic: 'devices/{deviceId}/telemetry' }])
      .describe('Topic routes, first match wins; unrouted publishes are rejected'),
    limits: mqttLimitsSchema,
  })
  .prefault({});

export type MqttConfig = z.infer<typeof mqttSchema>;
export type RouteConfig = z.infer<typeof routeSchema>;
