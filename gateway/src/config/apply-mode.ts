/**
 * Which config changes apply live and which need a rebuild, derived from the `live()` marks in
 * the schema (schema-helpers.ts), like secrets.ts derives redaction from `secret()`: a field
 * added later is a rebuild field until someone marks it live and makes it so.
 */
import { z } from 'zod';
import { configSchema, type GatewayConfig } from './schema.js';

interface JsonNode {
  apply?: string;
  properties?: Record<string, JsonNode>;
  anyOf?: JsonNode[];
  oneOf?: JsonNode[];
  allOf?: JsonNode[];
}

/** Dotted paths of every value marked live (a marked object is live as a whole). */
export function livePaths(schema: z.ZodType = configSchema): string[] {
  const root = z.toJSONSchema(schema, { io: 'input', unrepresentable: 'any' }) as JsonNode;
  const out: string[] = [];
  const walk = (node: JsonNode | undefined, path: string[], depth: number): void => {
    if (!node || depth > 32) return;
    if (node.apply === 'live') {
      out.push(path.join('.'));
      return;
    }
    for (const [key, child] of Object.entries(node.properties ?? {})) walk(child, [...path, key], depth + 1);
    for (const alt of [...(node.anyOf ?? []), ...(node.oneOf ?? []), ...(node.allOf ?? [])]) walk(alt, path, depth + 1);
  };
  walk(root, [], 0);
  return out;
}

let cached: Set<string> | undefined;
function liveSet(): Set<string> {
  return (cached ??= new Set(livePaths()));
}

export interface ConfigChange {
  /** Changed values that apply in the running gateway. */
  live: string[];
  /** Changed values that need the pipeline rebuilt. */
  rebuild: string[];
}

/** The changed paths between two validated configs, each classified (arrays compare whole). */
export function diffConfig(from: Readonly<GatewayConfig>, to: Readonly<GatewayConfig>): ConfigChange {
  const out: ConfigChange = { live: [], rebuild: [] };
  const live = liveSet();
  const walk = (a: unknown, b: unknown, path: string[]): void => {
    const key = path.join('.');
    if (live.has(key)) {
      if (!sameValue(a, b)) out.live.push(key);
      return;
    }
    if (isPlainObject(a) && isPlainObject(b)) {
      for (const k of new Set([...Object.keys(a), ...Object.keys(b)])) walk(a[k], b[k], [...path, k]);
      return;
    }
    if (!sameValue(a, b)) out.rebuild.push(key || '(root)');
  };
  walk(from, to, []);
  return out;
}

function isPlainObject(v: unknown): v is Record<string, unknown> {
  return typeof v === 'object' && v !== null && !Array.isArray(v);
}

function sameValue(a: unknown, b: unknown): boolean {
  return JSON.stringify(a) === JSON.stringify(b);
}
