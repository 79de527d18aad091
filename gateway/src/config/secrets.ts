/**
 * Redaction driven by the schema: every value marked with `secret()` (schema-helpers.ts) is
 * found in the schema's JSON Schema, so `--print-config` and the logs hide exactly the values
 * the schema calls secret, including ones added later, with no hand-kept list to drift.
 */
import { z } from 'zod';
import { configSchema } from './schema.js';

export const REDACTED = '[redacted]';

/** A path into the config; '*' stands for any array index. */
export type SecretPath = readonly string[];

interface JsonNode {
  secret?: boolean;
  properties?: Record<string, JsonNode>;
  items?: JsonNode;
  anyOf?: JsonNode[];
  oneOf?: JsonNode[];
  allOf?: JsonNode[];
}

/** Paths of every secret-marked value under `schema` (default: the whole gateway config). */
export function secretPaths(schema: z.ZodType = configSchema): SecretPath[] {
  const root = z.toJSONSchema(schema, { io: 'input', unrepresentable: 'any' }) as JsonNode;
  const out: SecretPath[] = [];
  const walk = (node: JsonNode | undefined, path: string[], depth: number): void => {
    if (!node || depth > 32) return;
    if (node.secret === true) {
      out.push(path);
      return;
    }
    for (const [key, child] of Object.entries(node.properties ?? {})) walk(child, [...path, key], depth + 1);
    walk(node.items, [...path, '*'], depth + 1);
    for (const alt of [...(node.anyOf ?? []), ...(node.oneOf ?? []), ...(node.allOf ?? [])]) walk(alt, path, depth + 1);
  };
  walk(root, [], 0);
  return out;
}

let cached: SecretPath[] | undefined;
function configSecretPaths(): SecretPath[] {
  return (cached ??= secretPaths());
}

/** A deep copy of `config` with every set secret replaced by REDACTED (for --print-config). */
export function redactConfig<T>(config: T, paths: readonly SecretPath[] = configSecretPaths()): T {
  const copy = structuredClone(config) as unknown;
  for (const path of paths) redactAt(copy, path, 0);
  return copy as T;
}

function redactAt(node: unknown, path: SecretPath, i: number): void {
  if (node === null || typeof node !== 'object') return;
  const key = path[i]!;
  const last = i === path.length - 1;
  const keys = key === '*' && Array.isArray(node) ? node.keys() : [key];
  const obj = node as Record<string | number, unknown>;
  for (const k of keys) {
    if (!(k in obj)) continue;
    if (last) {
      if (obj[k] !== undefined) obj[k] = REDACTED;
    } else {
      redactAt(obj[k], path, i + 1);
    }
  }
}

/** Log-line depth covered by the pino paths below: a secret logged inside an object this deep. */
const LOG_NESTING = 4;

/**
 * pino `redact` paths: the full config path of each secret (as logged under `config`), and each
 * secret's key name at any depth up to LOG_NESTING (a `sasl` object or a client's options
 * object logged on its own). pino's wildcards match one level, hence one path per depth.
 */
export function logRedactPaths(paths: readonly SecretPath[] = configSecretPaths()): string[] {
  const out = new Set<string>();
  // Node's TLS options carry the key passphrase as `passphrase` (tls-files.ts builds them).
  for (let depth = 0; depth <= LOG_NESTING; depth++) out.add([...Array<string>(depth).fill('*'), 'passphrase'].join('.'));
  for (const path of paths) {
    out.add(['config', ...path].map(pinoSegment).join('.'));
    const name = path[path.length - 1]!;
    if (name === '*') continue;
    for (let depth = 0; depth <= LOG_NESTING; depth++) out.add([...Array<string>(depth).fill('*'), name].map(pinoSegment).join('.'));
  }
  return [...out];
}

function pinoSegment(s: string): string {
  return s === '*' || /^[A-Za-z_$][\w$]*$/.test(s) ? s : `[${JSON.stringify(s)}]`;
}
