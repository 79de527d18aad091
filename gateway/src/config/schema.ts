/**
 * The single source of truth for configuration: validation, the TypeScript type, defaults and
 * the documentation (descriptions feed `edge-gateway config --example`). Unknown keys are errors.
 */
import { hostname } from 'node:os';
import { z } from 'zod';

const durationMs = (d: string) => z.number().int().nonnegative().describe(d);

export const ROUTE_DEVICE_PLACEHOLDER = '{deviceId}';

const routeSchema = z.strictObject({
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

export const configSchema = z.strictObject({
  gatewayId: z
    .string()
    .min(1)
    .max(255)
    .default(() => hostname())
    .describe('Identity of this gateway, written into every envelope (default: hostname)'),
  log: z
    .strictObject({
      level: z.enum(['trace', 'debug', 'info', 'warn', 'error', 'fatal', 'silent']).default('info').describe('pino log level'),
      statsIntervalSecs: z.number().int().nonnegative().default(60).describe('Log one `stats` line (buffer, flow, forward, memory) this often; 0 = never'),
    })
    .prefault({}),
  mqtt: z
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
    })
    .prefault({}),
  buffer: z
    .strictObject({
      path: z.string().min(1).default('./data/buffer.db').describe('SQLite buffer file (WAL mode)'),
      synchronous: z
        .enum(['FULL', 'NORMAL', 'EXTRA'])
        .default('FULL')
        .describe('SQLite synchronous level. FULL: a PUBACKed message survives power loss. NORMAL: survives process crash, but the last commits may be lost on power loss'),
      maxSizeBytes: z.number().int().min(1024 * 1024).default(1024 * 1024 * 1024).describe('Hard cap on buffered payload bytes'),
      maxAgeSecs: z.number().int().nonnegative().default(0).describe('Expire buffered rows older than this (0 = never); expired rows are counted'),
      highWatermark: z.number().gt(0).lte(1).default(0.9).describe('Fraction of maxSizeBytes above which devices are slowed'),
      lowWatermark: z.number().gt(0).lt(1).default(0.8).describe('Fraction of maxSizeBytes below which devices resume'),
      overflowPolicy: z.enum(['block', 'dropOldest']).default('block').describe('At the hard cap: block (hold devices, drop nothing) or dropOldest (evict oldest rows, counted)'),
      maxAckDelayMs: durationMs('Longest ack delay while slowing devices between the watermarks and the cap').default(1000),
      dropLogMaxRows: z.number().int().nonnegative().default(1_000_000).describe('Rows kept in the drop log (deliberate drops the auditor can match)'),
      commitMaxRecords: z.number().int().positive().default(4096).describe('Most publishes sharing one SQLite transaction (group commit)'),
      commitLingerMs: durationMs('Longest a publish waits for its group commit').default(2),
      ackSliceRecords: z
        .number()
        .int()
        .positive()
        .default(128)
        .describe('Most acknowledgements of a commit released per event-loop turn; smaller keeps new connections and timers served while devices publish flat out, larger gives a little more peak ingest'),
      deadLetterMaxRows: z.number().int().nonnegative().default(100_000).describe('Rows kept in the local dead-letter table (oldest removed first)'),
    })
    .prefault({})
    .refine((b) => b.lowWatermark < b.highWatermark, { message: 'lowWatermark must be below highWatermark', path: ['lowWatermark'] }),
  kafka: z
    .strictObject({
      brokers: z.array(z.string().regex(/^[^:\s]+:\d+$/, 'must be host:port')).min(1).default(['127.0.0.1:9092']).describe('Bootstrap brokers'),
      clientId: z.string().min(1).default('edge-gateway'),
      topic: z.string().min(1).default('telemetry.raw').describe('Default telemetry topic'),
      dlqTopic: z.string().min(1).default('telemetry.dlq').describe('Dead-letter topic; the reason is in the "x-dlq-reason" header'),
      compression: z.enum(['none', 'gzip']).default('gzip'),
      batchMaxRecords: z.number().int().positive().default(5000).describe('Most buffered records in one Kafka send'),
      batchMaxBytes: z.number().int().positive().default(4 * 1024 * 1024).describe('Most payload bytes in one Kafka send'),
      lingerMs: durationMs('Wait for more records before a partial batch is sent').default(5),
      connectionTimeoutMs: durationMs('TCP connect timeout to a broker').default(5000),
      requestTimeoutMs: durationMs('Time Kafka has to answer one produce request; after a timeout the pump backs off and sends again').default(30_000),
      retryInitialMs: durationMs('First retry delay after a failed send').min(10).default(200),
      retryMaxMs: durationMs('Cap on the jittered exponential retry delay').default(30_000),
      allowAutoTopicCreation: z.boolean().default(false).describe('Let the broker create missing topics (needs auto.create.topics.enable)'),
      sasl: z
        .strictObject({
          mechanism: z.enum(['plain', 'scram-sha-256', 'scram-sha-512']).describe('SASL mechanism'),
          username: z.string().min(1),
          password: z.string().min(1).describe('Secret; prefer the GATEWAY_KAFKA_SASL_PASSWORD env var'),
        })
        .optional()
        .describe('SASL authentication to Kafka (off by default)'),
      ssl: z.boolean().default(false).describe('TLS to Kafka using the system trust store'),
    })
    .prefault({}),
});

export type GatewayConfig = z.infer<typeof configSchema>;
export type RouteConfig = GatewayConfig['mqtt']['routes'][number];
export type BufferConfig = GatewayConfig['buffer'];
export type KafkaConfig = GatewayConfig['kafka'];
export type MqttConfig = GatewayConfig['mqtt'];
