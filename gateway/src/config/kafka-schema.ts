/** The `kafka` section: where and how records are forwarded. */
import { z } from 'zod';
import { durationMs } from './schema-helpers.js';

export const kafkaSchema = z
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
  .prefault({});

export type KafkaConfig = z.infer<typeof kafkaSchema>;
