/**
 * Dry-run build of a validated config: everything that can fail when the pipeline is built from
 * it, tried without touching the running gateway. Avro schemas (inline or files), TLS files of
 * the listeners and of Kafka (the key must match its certificate), and the trust anchors.
 */
import { createPublicKey } from 'node:crypto';
import { createSecureContext } from 'node:tls';
import type { GatewayConfig } from '../config/schema.js';
import { effectiveListeners } from '../config/mqtt-schema.js';
import { readTlsClientOptions, readTlsServerOptions } from '../config/tls-files.js';
import { createAvroEncoder } from '../encode/avro-encoder.js';
import { describeError, gatewayError, type GatewayError } from '../errors.js';
import { loadTlsFiles } from '../ingest/listener-servers.js';

export function dryRunConfig(config: Readonly<GatewayConfig>): void {
  const step = (what: string, fn: () => void): void => {
    try {
      fn();
    } catch (cause) {
      throw notAppliable(`${what}: ${describeError(cause)}`, cause);
    }
  };
  step('mqtt.routes', () => {
    createAvroEncoder({ gatewayId: config.gatewayId, defaultTopic: config.kafka.topic, routes: config.mqtt.routes });
  });
  effectiveListeners(config.mqtt).forEach((l, i) => {
    if (l.tls === undefined) return;
    step(`mqtt.listeners.${i}.tls`, () => {
      createSecureContext(loadTlsFiles(l.tls!, i) as Parameters<typeof createSecureContext>[0]);
    });
  });
  if (config.kafka.tls.enabled) {
    step('kafka.tls', () => {
      const opts = readTlsClientOptions('kafka.tls', config.kafka.tls);
      createSecureContext(opts as Parameters<typeof createSecureContext>[0]);
    });
  }
  const reg = config.kafka.schemaRegistry;
  if (config.kafka.valueFormat === 'registry' && reg !== undefined && reg.url.startsWith('https:')) {
    step('kafka.schemaRegistry.tls', () => {
      readTlsClientOptions('kafka.schemaRegistry.tls', { ...reg.tls });
    });
  }
  if (config.admin.enabled && config.admin.tls !== undefined) {
    step('admin.tls', () => {
      readTlsServerOptions('admin.tls', config.admin.tls!);
    });
  }
  config.control.trustedKeys.forEach((k, i) => {
    step(`control.trustedKeys.${i}.publicKey`, () => {
      const key = createPublicKey(k.publicKey);
      if (key.asymmetricKeyType !== 'ed25519') throw new Error(`${key.asymmetricKeyType} key, expected ed25519`);
    });
  });
}

function notAppliable(reason: string, cause: unknown): GatewayError {
  return gatewayError('GW_ERR_CONTROL_NOT_APPLIABLE', reason, { cause });
}
