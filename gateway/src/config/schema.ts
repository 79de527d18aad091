/**
 * The single source of truth for configuration: validation, the TypeScript type, defaults and
 * the documentation (descriptions feed `edge-gateway config --example`). Unknown keys are errors.
 */
import { hostname } from 'node:os';
import { z } from 'zod';
import { adminSchema } from './admin-schema.js';
import { bufferSchema } from './buffer-schema.js';
import { controlSchema } from './control-schema.js';
import { forwardSchema } from './forward-schema.js';
import { kafkaSchema } from './kafka-schema.js';
import { memorySchema } from './memory-schema.js';
import { mqttSchema } from './mqtt-schema.js';
import { live } from './schema-helpers.js';

export { ROUTE_DEVICE_PLACEHOLDER } from './schema-helpers.js';

export const configSchema = z.strictObject({
  gatewayId: z
    .string()
    .min(1)
    .max(255)
    .default(() => hostname())
    .describe('Identity of this gateway, written into every envelope (default: hostname)'),
  log: z
    .strictObject({
      level: live(z.enum(['trace', 'debug', 'info', 'warn', 'error', 'fatal', 'silent']).default('info')).describe('pino log level'),
      statsIntervalSecs: live(z.number().int().nonnegative().default(60)).describe('Log one `stats` line (buffer, flow, forward, memory) this often; 0 = never'),
    })
    .prefault({}),
  mqtt: mqttSchema,
  buffer: bufferSchema,
  kafka: kafkaSchema,
  forward: forwardSchema,
  control: controlSchema,
  admin: adminSchema,
  memory: memorySchema,
});

export type GatewayConfig = z.infer<typeof configSchema>;
export type { AdminConfig } from './admin-schema.js';
export type { BufferConfig } from './buffer-schema.js';
export type { ControlConfig } from './control-schema.js';
export type { ForwardConfig } from './forward-schema.js';
export type { KafkaConfig } from './kafka-schema.js';
export type { MemoryConfig } from './memory-schema.js';
export type { MqttConfig, RouteConfig } from './mqtt-schema.js';
