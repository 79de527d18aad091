/**
 * Environment overrides for the keys operators change most. Values are strings; they are
 * converted here and then validated by the same schema as the file, so a bad value is reported
 * with its field name.
 */
type Convert = (v: string) => unknown;

export const asNumber: Convert = (v) => (v.trim() === '' || Number.isNaN(Number(v)) ? v : Number(v));
const asList: Convert = (v) => v.split(',').map((s) => s.trim()).filter((s) => s.length > 0);
const asString: Convert = (v) => v;

export const ENV_OVERRIDES: ReadonlyArray<{ env: string; path: readonly string[]; convert: Convert }> = [
  { env: 'GATEWAY_ID', path: ['gatewayId'], convert: asString },
  { env: 'GATEWAY_LOG_LEVEL', path: ['log', 'level'], convert: asString },
  { env: 'GATEWAY_MQTT_HOST', path: ['mqtt', 'host'], convert: asString },
  { env: 'GATEWAY_MQTT_PORT', path: ['mqtt', 'port'], convert: asNumber },
  { env: 'GATEWAY_BUFFER_PATH', path: ['buffer', 'path'], convert: asString },
  { env: 'GATEWAY_BUFFER_SYNCHRONOUS', path: ['buffer', 'synchronous'], convert: asString },
  { env: 'GATEWAY_BUFFER_MAX_SIZE_BYTES', path: ['buffer', 'maxSizeBytes'], convert: asNumber },
  { env: 'GATEWAY_KAFKA_BROKERS', path: ['kafka', 'brokers'], convert: asList },
  { env: 'GATEWAY_KAFKA_TOPIC', path: ['kafka', 'topic'], convert: asString },
  { env: 'GATEWAY_KAFKA_DLQ_TOPIC', path: ['kafka', 'dlqTopic'], convert: asString },
  { env: 'GATEWAY_KAFKA_SASL_PASSWORD', path: ['kafka', 'sasl', 'password'], convert: asString },
  { env: 'GATEWAY_KAFKA_TLS_KEY_PASSPHRASE', path: ['kafka', 'tls', 'keyPassphrase'], convert: asString },
  { env: 'GATEWAY_SCHEMA_REGISTRY_PASSWORD', path: ['kafka', 'schemaRegistry', 'auth', 'password'], convert: asString },
  { env: 'GATEWAY_SCHEMA_REGISTRY_TOKEN', path: ['kafka', 'schemaRegistry', 'auth', 'token'], convert: asString },
  { env: 'GATEWAY_ADMIN_TOKEN', path: ['admin', 'token'], convert: asString },
];

/** A value for one config key from outside the file (a command-line flag), validated with it. */
export interface ConfigOverride {
  path: readonly string[];
  value: unknown;
}

/** Returns a copy of `raw` with every set override written at its path. */
export function applyEnvOverrides(raw: unknown, env: NodeJS.ProcessEnv): unknown {
  const set: ConfigOverride[] = [];
  for (const { env: name, path, convert } of ENV_OVERRIDES) {
    const value = env[name];
    if (value !== undefined) set.push({ path, value: convert(value) });
  }
  return applyOverrides(raw, set);
}

/** Returns a copy of `raw` with each override written at its path (later ones win). */
export function applyOverrides(raw: unknown, overrides: readonly ConfigOverride[]): unknown {
  // A file that is not a mapping is left for the schema to reject, overrides or not.
  if (raw !== undefined && raw !== null && !isPlainObject(raw)) return raw;
  const root: Record<string, unknown> = isPlainObject(raw) ? structuredClone(raw) : {};
  for (const { path, value } of overrides) {
    let node = root;
    for (const key of path.slice(0, -1)) {
      if (!isPlainObject(node[key])) node[key] = {};
      node = node[key] as Record<string, unknown>;
    }
    node[path[path.length - 1]!] = value;
  }
  return root;
}

function isPlainObject(v: unknown): v is Record<string, unknown> {
  return typeof v === 'object' && v !== null && !Array.isArray(v);
}

/**
 * For a pushed document: only the overrides of secret values (schema `secret()` marks), and only
 * where the document has the section they belong to. Secrets stay on the box; a document pushed
 * through Kafka carries none (`kafka.sasl` without `password` takes GATEWAY_KAFKA_SASL_PASSWORD).
 */
export function applySecretEnvOverrides(raw: unknown, env: NodeJS.ProcessEnv, secretPaths: ReadonlyArray<readonly string[]>): unknown {
  if (!isPlainObject(raw)) return raw;
  const root = structuredClone(raw);
  const secret = new Set(secretPaths.map((p) => p.join('.')));
  for (const { env: name, path, convert } of ENV_OVERRIDES) {
    const value = env[name];
    if (value === undefined || !secret.has(path.join('.'))) continue;
    let node: Record<string, unknown> | null = root;
    for (const key of path.slice(0, -1)) {
      const next: unknown = node[key];
      node = isPlainObject(next) ? next : null;
      if (node === null) break;
    }
    if (node !== null && node[path[path.length - 1]!] === undefined) node[path[path.length - 1]!] = convert(value);
  }
  return root;
}
