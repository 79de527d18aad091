/**
 * Loads the effective configuration: embedded defaults <- config file (YAML or JSON) <- env
 * overrides <- command-line overrides. Validated once by the schema, then frozen. Errors name the offending field.
 */
import { readFileSync } from 'node:fs';
import { parse as parseYaml } from 'yaml';
import { deepFreeze } from '../lib/deep-freeze.js';
import { gatewayError } from '../errors.js';
import { configSchema, type GatewayConfig } from './schema.js';
import { applyEnvOverrides, applyOverrides, type ConfigOverride } from './env-overrides.js';

export function readConfigFile(path: string): unknown {
  let text: string;
  try {
    text = readFileSync(path, 'utf8');
  } catch (cause) {
    throw gatewayError('GW_ERR_CONFIG_READ', `${path}: ${(cause as Error).message}`, { cause });
  }
  try {
    // YAML is a superset of JSON, so one parser reads both.
    return parseYaml(text) ?? {};
  } catch (cause) {
    throw gatewayError('GW_ERR_CONFIG_PARSE', `${path}: ${(cause as Error).message}`, { cause });
  }
}

/** Validates raw config (from a file, a remote push or a test) into a frozen GatewayConfig. */
export function validateConfig(raw: unknown, source = 'config'): Readonly<GatewayConfig> {
  // Parse a copy: freezing must never reach into the caller's objects (e.g. an inline schema).
  const result = configSchema.safeParse(structuredClone(raw));
  if (!result.success) {
    const problems = result.error.issues.map((issue) => {
      const field = issue.path.join('.') || '(root)';
      const keys = issue.code === 'unrecognized_keys' ? ` (${issue.keys.map((k) => [...issue.path, k].join('.')).join(', ')})` : '';
      return `${field}: ${issue.message}${keys}`;
    });
    throw gatewayError('GW_ERR_CONFIG_INVALID', `${source}: ${problems.join('; ')}`, { details: { problems } });
  }
  return deepFreeze(result.data);
}

export function loadConfig(opts: { path?: string | undefined; env?: NodeJS.ProcessEnv; overrides?: readonly ConfigOverride[] }): Readonly<GatewayConfig> {
  const fromFile = opts.path ? readConfigFile(opts.path) : {};
  const merged = applyOverrides(applyEnvOverrides(fromFile, opts.env ?? process.env), opts.overrides ?? []);
  return validateConfig(merged, opts.path ?? 'defaults');
}
