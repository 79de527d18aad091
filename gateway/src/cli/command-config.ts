/**
 * `--command-config FILE` of the cloud-side tools (as Kafka's own tools have): a YAML/JSON file
 * with the Kafka client settings that are not on the command line. Its keys mean what they mean
 * under `kafka:` in the gateway config, and are validated by the same schema:
 *
 *   tls: { enabled: true, caFile: ca.pem, certFile: ops.crt, keyFile: ops.key }
 *   sasl: { mechanism: scram-sha-512, username: ops, password: ... }
 *   clientId, connectionTimeoutMs, requestTimeoutMs
 */
import { z } from 'zod';
import { kafkaSchema } from '../config/kafka-schema.js';
import { readConfigFile } from '../config/load-config.js';
import { readTlsClientOptions } from '../config/tls-files.js';
import type { CliKafkaClientOptions } from '../control/cli-kafka-client.js';
import { gatewayError } from '../errors.js';

const kafka = kafkaSchema.unwrap().shape;
const commandConfigSchema = z.strictObject({
  clientId: kafka.clientId.default('edge-gateway-cli'),
  connectionTimeoutMs: kafka.connectionTimeoutMs,
  requestTimeoutMs: kafka.requestTimeoutMs,
  sasl: kafka.sasl,
  tls: kafka.tls,
});

const BROKER = /^[^:\s,]+:\d{1,5}$/;

export function kafkaClientOptions(bootstrapServer: string | undefined, commandConfig: string | undefined): CliKafkaClientOptions {
  if (!bootstrapServer) throw gatewayError('GW_ERR_CLI_USAGE', '--bootstrap-server HOST:PORT[,HOST:PORT] is required');
  const brokers = bootstrapServer.split(',').map((s) => s.trim());
  const bad = brokers.find((b) => !BROKER.test(b));
  if (bad !== undefined) throw gatewayError('GW_ERR_CLI_USAGE', `--bootstrap-server: "${bad}" is not HOST:PORT`);
  const raw = commandConfig === undefined ? {} : readConfigFile(commandConfig);
  const source = commandConfig ?? '--command-config';
  const result = commandConfigSchema.safeParse(raw);
  if (!result.success) {
    const problems = result.error.issues.map((i) => `${i.path.join('.') || '(root)'}: ${i.message}`);
    throw gatewayError('GW_ERR_CONFIG_INVALID', `${source}: ${problems.join('; ')}`, { details: { problems } });
  }
  const c = result.data;
  return {
    brokers,
    clientId: c.clientId,
    connectTimeoutMs: c.connectionTimeoutMs,
    requestTimeoutMs: c.requestTimeoutMs,
    tls: c.tls.enabled ? readTlsClientOptions('tls', c.tls) : undefined,
    sasl: c.sasl,
  };
}
