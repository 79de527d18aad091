/**
 * Connection options shared by the operator tools that talk to the control topics from the cloud
 * side (`config push`, `config status`), mapped onto @platformatic/kafka, and the one way their
 * Kafka failures are reported: GW_ERR_CONTROL_KAFKA, naming what failed and why.
 */
import type { ConnectionOptions as TlsOptions } from 'node:tls';
import { classifyKafkaError } from '../forward/kafka-errors.js';
import { gatewayError, type GatewayError } from '../errors.js';

export interface CliKafkaClientOptions {
  brokers: readonly string[];
  clientId: string;
  connectTimeoutMs: number;
  requestTimeoutMs: number;
  /** Node TLS client options, files already read; absent = plaintext. */
  tls?: TlsOptions | undefined;
  sasl?: { mechanism: 'plain' | 'scram-sha-256' | 'scram-sha-512'; username: string; password: string } | undefined;
}

const SASL_MECHANISMS = { plain: 'PLAIN', 'scram-sha-256': 'SCRAM-SHA-256', 'scram-sha-512': 'SCRAM-SHA-512' } as const;

/** The BaseOptions part of a Producer/Consumer constructor. */
export function baseClientOptions(o: CliKafkaClientOptions) {
  return {
    clientId: o.clientId,
    bootstrapBrokers: [...o.brokers],
    connectTimeout: o.connectTimeoutMs,
    requestTimeout: o.requestTimeoutMs,
    retries: 2,
    retryDelay: 250,
    ...(o.sasl ? { sasl: { mechanism: SASL_MECHANISMS[o.sasl.mechanism], username: o.sasl.username, password: o.sasl.password } } : {}),
    ...(o.tls ? { tls: { ...o.tls } } : {}),
  };
}

/** Wraps a client error; the forward stage's classifier names auth, TLS and missing-topic causes. */
export function cliKafkaError(err: unknown, what: string): GatewayError {
  const e = classifyKafkaError(err, 'connect');
  const hint = e.code === 'GW_ERR_FORWARD_TOPIC_MISSING' ? ' (the topic must exist: create it with cleanup.policy=compact)' : '';
  return gatewayError('GW_ERR_CONTROL_KAFKA', `${what}: ${e.message}${hint}`, { cause: err, details: { kind: e.code } });
}
