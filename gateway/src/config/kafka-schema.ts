/** The `kafka` section: where and how records are forwarded. */
import { z } from 'zod';
import { durationMs, live, secret } from './schema-helpers.js';
import { schemaRegistrySchema } from './schema-registry-schema.js';

/** How a record value is framed on the wire (README: wire formats). */
export const VALUE_FORMATS = ['single-object', 'registry'] as const;
export type ValueFormat = (typeof VALUE_FORMATS)[number];

/** Record-batch codecs the Kafka client can write (and every Kafka >= 2.1 broker and consumer reads). */
export const KAFKA_COMPRESSIONS = ['none', 'gzip', 'snappy', 'lz4', 'zstd'] as const;
export type KafkaCompression = (typeof KAFKA_COMPRESSIONS)[number];

/**
 * TLS to the brokers. Files are read once at start (a missing or unreadable one stops the start
 * with GW_ERR_CONFIG_FILE_READ naming the field); a changed file needs a restart.
 */
const kafkaTlsSchema = z
  .strictObject({
    enabled: z.boolean().default(false).describe('Connect to the brokers over TLS (verified against caFile, or the system trust store without it)'),
    caFile: z.string().min(1).optional().describe('PEM file of the CA certificate(s) that sign the brokers\' certificates; replaces the system trust store'),
    certFile: z.string().min(1).optional().describe('PEM client certificate (chain) for mutual TLS (broker ssl.client.auth=required); needs keyFile'),
    keyFile: z.string().min(1).optional().describe('PEM private key of certFile'),
    keyPassphrase: secret(z.string().min(1)).optional().describe('Passphrase of an encrypted keyFile; secret, prefer the GATEWAY_KAFKA_TLS_KEY_PASSPHRASE env var'),
    serverName: z.string().min(1).optional().describe('Name sent as SNI and matched against the broker certificate instead of the broker host'),
    rejectUnauthorized: z.boolean().default(true).describe('false accepts any broker certificate: no protection against a man in the middle (tests only)'),
  })
  .refine((t) => (t.certFile === undefined) === (t.keyFile === undefined), { message: 'certFile and keyFile go together', path: ['keyFile'] })
  .refine((t) => t.keyPassphrase === undefined || t.keyFile !== undefined, { message: 'keyPassphrase needs keyFile', path: ['keyPassphrase'] })
  .prefault({})
  .describe('TLS to Kafka (off by default); SASL, when set, runs inside it (SASL_SSL)');

export const kafkaSchema = z
  .strictObject({
    brokers: z.array(z.string().regex(/^[^:\s]+:\d+$/, 'must be host:port')).min(1).default(['127.0.0.1:9092']).describe('Bootstrap brokers'),
    clientId: z.string().min(1).default('edge-gateway'),
    topic: live(z.string().min(1).default('telemetry.raw')).describe('Default telemetry topic'),
    dlqTopic: live(z.string().min(1).default('telemetry.dlq')).describe('Dead-letter topic; the reason is in the "x-dlq-reason" header'),
    dlqMaxValueBytes: live(z.number().int().min(1024).default(64 * 1024)).describe(
      'Largest value sent to the dead-letter topic: a dead letter\'s payload is cut to fit (header "x-dlq-truncated"), so a record Kafka refused as too large still reaches the DLQ topic. Keep it below the DLQ topic\'s max.message.bytes',
    ),
    valueFormat: z
      .enum(VALUE_FORMATS)
      .default('single-object')
      .describe('single-object: Avro single-object encoding (C3 01 + 8-byte schema fingerprint + body; schemas from `edge-gateway schemas export`). registry: Confluent Schema Registry wire format (00 + 4-byte schema id + body), schemas registered in kafka.schemaRegistry: what Kafka Connect, ksqlDB, Flink and confluent-kafka\'s AvroDeserializer read'),
    schemaRegistry: schemaRegistrySchema,
    compression: z
      .enum(KAFKA_COMPRESSIONS)
      .default('gzip')
      .describe('Record-batch codec, compressed on the event loop. Per 5,000-record batch (bench/results/codecs.md): gzip ~6 ms, 7 % of the raw bytes; zstd ~1 ms, 7 %; lz4 / snappy under 1 ms, 13-14 %; none 0 ms, 100 %'),
    batchMaxRecords: live(z.number().int().positive().default(5000)).describe('Most buffered records in one Kafka send'),
    batchMaxBytes: live(z.number().int().positive().default(4 * 1024 * 1024)).describe('Most payload bytes in one Kafka send'),
    lingerMs: live(durationMs('Wait for more records before a partial batch is sent').default(5)),
    connectionTimeoutMs: durationMs('TCP connect timeout to a broker').default(5000),
    requestTimeoutMs: durationMs('Time Kafka has to answer one produce request; after a timeout the pump backs off and sends again').default(30_000),
    retryInitialMs: live(durationMs('First retry delay after a failed send').min(10).default(200)),
    retryMaxMs: live(durationMs('Cap on the jittered exponential retry delay').default(30_000)),
    allowAutoTopicCreation: z.boolean().default(false).describe('Let the broker create missing topics (needs auto.create.topics.enable)'),
    sasl: z
      .strictObject({
        mechanism: z.enum(['plain', 'scram-sha-256', 'scram-sha-512']).describe('SASL mechanism'),
        username: z.string().min(1),
        password: secret(z.string().min(1)).describe('Secret; prefer the GATEWAY_KAFKA_SASL_PASSWORD env var'),
      })
      .optional()
      .describe('SASL authentication to Kafka (off by default)'),
    tls: kafkaTlsSchema,
  }, {
    // `ssl: true` (system trust store) was the only TLS switch before `tls`: say where it went.
    error: (iss) => (iss.code === 'unrecognized_keys' && iss.keys.includes('ssl') ? 'kafka.ssl was replaced by kafka.tls (ssl: true is tls: { enabled: true })' : undefined),
  })
  .refine((k) => k.valueFormat !== 'registry' || k.schemaRegistry !== undefined, { message: 'valueFormat registry needs kafka.schemaRegistry (its url at least)', path: ['schemaRegistry'] })
  .prefault({});

export type KafkaTlsConfig = z.infer<typeof kafkaTlsSchema>;

export type KafkaConfig = z.infer<typeof kafkaSchema>;
