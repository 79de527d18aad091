/**
 * Where and how a @platformatic/kafka client connects: brokers, client id, timeouts, SASL and
 * TLS. One function so the telemetry sink and the control room reach Kafka with the same
 * `kafka` settings (an operator sets TLS and SASL once).
 */
import type { BaseOptions } from '@platformatic/kafka';
import type { ConnectionOptions as TlsOptions } from 'node:tls';

export interface KafkaConnectionSettings {
  brokers: readonly string[];
  clientId: string;
  connectionTimeoutMs: number;
  /** The socket-level wait for one answer; a long poll needs its wait added on top. */
  requestTimeoutMs: number;
  sasl?: { mechanism: 'plain' | 'scram-sha-256' | 'scram-sha-512'; username: string; password: string } | undefined;
  /** TLS client options (CA, client cert/key, servername), already read from files; absent = plaintext. */
  tls?: TlsOptions | undefined;
}

const SASL_MECHANISMS = { plain: 'PLAIN', 'scram-sha-256': 'SCRAM-SHA-256', 'scram-sha-512': 'SCRAM-SHA-512' } as const;

export type KafkaClientConnectionOptions = Pick<BaseOptions, 'clientId' | 'bootstrapBrokers' | 'connectTimeout' | 'requestTimeout' | 'sasl' | 'tls'>;

export function kafkaClientOptions(s: KafkaConnectionSettings): KafkaClientConnectionOptions {
  return {
    clientId: s.clientId,
    bootstrapBrokers: [...s.brokers],
    connectTimeout: s.connectionTimeoutMs,
    requestTimeout: s.requestTimeoutMs,
    ...(s.sasl ? { sasl: { mechanism: SASL_MECHANISMS[s.sasl.mechanism], username: s.sasl.username, password: s.sasl.password } } : {}),
    // A copy: the client spreads it per connection, and the frozen config must stay untouched.
    ...(s.tls ? { tls: { ...s.tls } } : {}),
  };
}
