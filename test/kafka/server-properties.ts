// server.properties for the harness's single-node KRaft broker (broker + controller in one JVM).
// PLAINTEXT carries clients and inter-broker traffic on `host`; an optional SASL_PLAINTEXT
// listener (SCRAM) sits next to it on the same host, and optional SSL listeners too (one that
// verifies only the broker, one that requires a client certificate); CONTROLLER always stays on
// 127.0.0.1.
import { SCRAM_MECHANISM } from './scram.js';

export const NODE_ID = 1;

export interface BrokerLayout {
  host: string;
  port: number;
  controllerPort: number;
  /** Present when the broker also serves SASL_PLAINTEXT (SCRAM-SHA-256). */
  saslPort: number | undefined;
  /** Present when the broker also serves TLS: SSL (server auth) and MTLS (client cert required). */
  tls: { sslPort: number; mtlsPort: number; keystoreFile: string; truststoreFile: string } | undefined;
  dataDir: string;
  autoCreateTopics: boolean;
}

export function serverProperties(b: BrokerLayout): string {
  const listeners = [`PLAINTEXT://${b.host}:${b.port}`];
  const advertised = [`PLAINTEXT://${b.host}:${b.port}`];
  const protocols = ['PLAINTEXT:PLAINTEXT', 'CONTROLLER:PLAINTEXT'];
  const sasl: Record<string, string> = {};
  if (b.saslPort !== undefined) {
    listeners.push(`SASL_PLAINTEXT://${b.host}:${b.saslPort}`);
    advertised.push(`SASL_PLAINTEXT://${b.host}:${b.saslPort}`);
    protocols.push('SASL_PLAINTEXT:SASL_PLAINTEXT');
    sasl['sasl.enabled.mechanisms'] = SCRAM_MECHANISM;
    // Credentials live in the KRaft metadata log (format --add-scram, or ConfigCommand).
    sasl[`listener.name.sasl_plaintext.${SCRAM_MECHANISM.toLowerCase()}.sasl.jaas.config`] =
      'org.apache.kafka.common.security.scram.ScramLoginModule required;';
  }
  const ssl: Record<string, string> = {};
  if (b.tls !== undefined) {
    listeners.push(`SSL://${b.host}:${b.tls.sslPort}`, `MTLS://${b.host}:${b.tls.mtlsPort}`);
    advertised.push(`SSL://${b.host}:${b.tls.sslPort}`, `MTLS://${b.host}:${b.tls.mtlsPort}`);
    protocols.push('SSL:SSL', 'MTLS:SSL');
    // PEM stores (Kafka >= 2.7): the keystore file holds the PKCS#8 key and then the chain.
    ssl['ssl.keystore.type'] = 'PEM';
    ssl['ssl.keystore.location'] = b.tls.keystoreFile;
    ssl['ssl.truststore.type'] = 'PEM';
    ssl['ssl.truststore.location'] = b.tls.truststoreFile;
    ssl['ssl.client.auth'] = 'none';
    // A listener-prefixed key overrides just that key for the listener.
    ssl['listener.name.mtls.ssl.client.auth'] = 'required';
  }
  listeners.push(`CONTROLLER://127.0.0.1:${b.controllerPort}`);

  const props: Record<string, string | number | boolean> = {
    'process.roles': 'broker,controller',
    'node.id': NODE_ID,
    'controller.quorum.voters': `${NODE_ID}@127.0.0.1:${b.controllerPort}`,
    listeners: listeners.join(','),
    'advertised.listeners': advertised.join(','),
    'controller.listener.names': 'CONTROLLER',
    'listener.security.protocol.map': protocols.join(','),
    'inter.broker.listener.name': 'PLAINTEXT',
    ...sasl,
    ...ssl,
    'log.dirs': b.dataDir,
    'num.partitions': 3,
    'auto.create.topics.enable': b.autoCreateTopics,
    'offsets.topic.replication.factor': 1,
    'transaction.state.log.replication.factor': 1,
    'transaction.state.log.min.isr': 1,
    'share.coordinator.state.topic.replication.factor': 1,
    'share.coordinator.state.topic.min.isr': 1,
    'group.initial.rebalance.delay.ms': 0,
    // After a SIGKILL the restarted broker's registration is refused
    // (DUPLICATE_BROKER_REGISTRATION) until the old session expires: 9 s by
    // default, retried every heartbeat interval. Shorter values make kill()+start() ~3 s faster.
    'broker.session.timeout.ms': 3000,
    'broker.heartbeat.interval.ms': 500,
  };
  return Object.entries(props)
    .map(([k, v]) => `${k}=${String(v)}`)
    .join('\n') + '\n';
}
