/**
 * `kafka.schemaRegistry`: the Confluent-compatible Schema Registry used when
 * `kafka.valueFormat` is `registry` (Confluent Schema Registry, Apicurio's ccompat API, Karapace,
 * Redpanda's). Changing it rebuilds the pipeline; ids already resolved stay cached in the buffer.
 */
import { z } from 'zod';
import { durationMs, secret } from './schema-helpers.js';

/** How the subject a schema is registered under is named (Confluent's strategies of the same names). */
export const SUBJECT_NAME_STRATEGIES = ['topic', 'record', 'topic-record'] as const;
export type SubjectNameStrategy = (typeof SUBJECT_NAME_STRATEGIES)[number];

const registryAuthSchema = z
  .discriminatedUnion('type', [
    z.strictObject({
      type: z.literal('basic'),
      username: z.string().min(1),
      password: secret(z.string().min(1)).describe('Secret; prefer the GATEWAY_SCHEMA_REGISTRY_PASSWORD env var'),
    }),
    z.strictObject({
      type: z.literal('bearer'),
      token: secret(z.string().min(1)).describe('Secret; prefer the GATEWAY_SCHEMA_REGISTRY_TOKEN env var'),
    }),
  ])
  .optional()
  .describe('Authentication to the registry: HTTP Basic (Confluent basic.auth.user.info) or a bearer token');

const registryTlsSchema = z
  .strictObject({
    caFile: z.string().min(1).optional().describe('PEM CA certificate(s) that sign the registry\'s certificate; replaces the system trust store'),
    certFile: z.string().min(1).optional().describe('PEM client certificate for mutual TLS; needs keyFile'),
    keyFile: z.string().min(1).optional().describe('PEM private key of certFile'),
    rejectUnauthorized: z.boolean().default(true).describe('false accepts any registry certificate (tests only)'),
  })
  .refine((t) => (t.certFile === undefined) === (t.keyFile === undefined), { message: 'certFile and keyFile go together', path: ['keyFile'] })
  .prefault({})
  .describe('TLS to an https:// registry');

export const schemaRegistrySchema = z
  .strictObject({
    url: z
      .url({ protocol: /^https?$/, error: 'must be an http:// or https:// URL' })
      // Credentials in the URL would not be sent (the client uses auth) and would be logged and
      // shown as plain config: refused, without echoing them.
      .refine((u) => !URL.canParse(u) || (new URL(u).username === '' && new URL(u).password === ''), {
        error: 'must not hold credentials (user:password@); put them in kafka.schemaRegistry.auth (or GATEWAY_SCHEMA_REGISTRY_PASSWORD / _TOKEN)',
      })
      .describe('Base URL of the Confluent-compatible API, e.g. http://registry:8081 or https://host/apis/ccompat/v7'),
    subjectNameStrategy: z
      .enum(SUBJECT_NAME_STRATEGIES)
      .default('topic')
      .describe('Subject naming: "topic" gives "<topic>-value" (one schema line per topic; the default of Confluent clients), "record" the record\'s full name, "topic-record" "<topic>-<full name>"'),
    autoRegister: z
      .boolean()
      .default(true)
      .describe('Register a schema the subject lacks (checked against the subject\'s compatibility rule). false: only look the schema up; records wait until an operator registers it'),
    auth: registryAuthSchema,
    tls: registryTlsSchema,
    requestTimeoutMs: durationMs('Time the registry has to answer one request').min(100).default(10_000),
    retryMaxMs: durationMs('Cap on the delay between attempts while the registry is unreachable or refuses').min(100).default(30_000),
  })
  .optional()
  .describe('Schema Registry for kafka.valueFormat: registry (ids are cached in the buffer database, so a gateway that starts without the registry forwards as soon as Kafka is back)');

export type SchemaRegistryConfig = NonNullable<z.infer<typeof schemaRegistrySchema>>;
