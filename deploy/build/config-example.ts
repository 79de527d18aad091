/**
 * Renders deploy/config.example.yaml from the config schema (z.toJSONSchema of configSchema):
 * every key with its description, constraints, environment override, default and whether a new
 * value applies live (otherwise a change rebuilds the pipeline). Keys that
 * have a default are written active with that default, so the file is the effective config of
 * a fresh install; optional keys without one (SASL, per-route schema) and defaults computed on
 * the device (gatewayId = hostname) are written commented out. The schema stays the single
 * source of truth: a test fails when the committed file differs from this rendering.
 */
import { z } from 'zod';
import { stringify } from 'yaml';
import { configSchema } from '../../gateway/src/config/schema.js';
import { ENV_OVERRIDES } from '../../gateway/src/config/env-overrides.js';

interface JsonSchema {
  type?: string;
  /** 'live' (schema-helpers.ts live()): a new value applies without a rebuild. */
  apply?: string;
  description?: string;
  default?: unknown;
  enum?: unknown[];
  properties?: Record<string, JsonSchema>;
  required?: string[];
  items?: JsonSchema;
  anyOf?: JsonSchema[];
  minimum?: number;
  maximum?: number;
  exclusiveMinimum?: number;
  exclusiveMaximum?: number;
  minLength?: number;
  maxLength?: number;
  minItems?: number;
  pattern?: string;
}

/** Values that differ on the device from the schema's default (the packaged layout). */
export const DEPLOY_VALUES: Readonly<Record<string, unknown>> = {
  'buffer.path': '/var/lib/edge-gateway/buffer.db',
};

/** Defaults the schema computes at start on the device: shown commented out, with a placeholder. */
const COMPUTED_DEFAULTS: Readonly<Record<string, string>> = {
  gatewayId: '<hostname>',
};

/** Optional keys without a schema default: shown commented out with this value instead of a type. */
const EXAMPLE_VALUES: Readonly<Record<string, string>> = {
  'mqtt.host': '127.0.0.1',
  'mqtt.port': '1883',
  'admin.token': '<output-of-openssl-rand-hex-32>',
  'kafka.schemaRegistry.url': 'http://registry:8081',
  'kafka.schemaRegistry.auth': '{ type: bearer, token: <or GATEWAY_SCHEMA_REGISTRY_TOKEN> }   # or { type: basic, username: gw-0042 } + GATEWAY_SCHEMA_REGISTRY_PASSWORD',
};

const WIDTH = 100;
const MAX_SAFE = Number.MAX_SAFE_INTEGER;

const HEADER = `# edge-gateway configuration: /etc/edge-gateway/config.yaml (GATEWAY_CONFIG, or --config FILE).
#
# GENERATED from gateway/src/config/schema.ts by \`npm run config:example\`: do not edit
# deploy/config.example.yaml by hand. Every key is listed with its default; keys that are
# commented out are optional or computed on the device. Unknown keys are errors that name the field.
# Environment variables (shown as "env:") override this file. \`edge-gateway --print-config\`
# prints the effective configuration.
# A new value of a key marked "applied live" (SIGHUP, or a pushed config) takes effect without
# closing a device connection; any other change rebuilds the pipeline in process (devices
# reconnect; nothing acknowledged is lost).
`;

export function renderConfigExample(): string {
  const root = z.toJSONSchema(configSchema, { io: 'input', unrepresentable: 'any' }) as JsonSchema;
  const lines: string[] = [];
  renderProperties(root, [], 0, false, lines);
  return `${HEADER}${lines.join('\n')}\n`;
}

function renderProperties(node: JsonSchema, path: string[], depth: number, commented: boolean, out: string[]): void {
  for (const [key, child] of Object.entries(node.properties ?? {})) {
    if (depth === 0) out.push('');
    renderKey(key, child, [...path, key], depth, commented, (node.required ?? []).includes(key), out);
  }
}

function renderKey(key: string, node: JsonSchema, path: string[], depth: number, commentedParent: boolean, required: boolean, out: string[]): void {
  const indent = '  '.repeat(depth);
  const dotted = path.join('.');
  for (const line of docLines(node, dotted)) out.push(`${indent}# ${line}`.trimEnd());

  const hasDefault = node.default !== undefined;
  const computed = COMPUTED_DEFAULTS[dotted];
  // Active when it has a default (or is a required part of an active section) and is not computed on the device.
  const commented = commentedParent || computed !== undefined || (!hasDefault && !required);
  const prefix = commented ? `${indent}# ` : indent;

  if (node.type === 'object' && node.properties) {
    out.push(`${prefix}${key}:`);
    renderProperties(node, path, depth + 1, commented, out);
    return;
  }
  const value = dotted in DEPLOY_VALUES ? DEPLOY_VALUES[dotted] : hasDefault ? node.default : undefined;
  if (computed !== undefined || value === undefined) {
    out.push(`${prefix}${key}: ${computed ?? EXAMPLE_VALUES[dotted] ?? placeholder(node)}`);
    return;
  }
  if (Array.isArray(value) && value.length > 0) {
    out.push(`${prefix}${key}:`);
    for (const line of stringify(value).trimEnd().split('\n')) out.push(`${prefix}  ${line}`);
    return;
  }
  out.push(`${prefix}${key}: ${stringify(value).trimEnd()}`);
}

/** Description, constraints, env override and (where the value shown differs) the schema default. */
function docLines(node: JsonSchema, dotted: string): string[] {
  const lines: string[] = [];
  if (node.description) lines.push(...wrap(node.description));
  const facts = [constraint(node)];
  const env = ENV_OVERRIDES.find((o) => o.path.join('.') === dotted)?.env;
  if (env) facts.push(`env: ${env}`);
  if (node.apply === 'live') facts.push('applied live');
  if (dotted in DEPLOY_VALUES && node.default !== undefined) facts.push(`schema default: ${stringify(node.default).trimEnd()}`);
  const factLine = facts.filter((f) => f !== '').join('; ');
  if (factLine) lines.push(...wrap(factLine));
  if (node.type === 'array' && node.items?.properties) {
    lines.push('Each item:');
    itemLines(node.items, '  ', lines);
  }
  return lines;
}

/** One line per field of an array item, nested objects (a listener's `tls`) indented below it. */
function itemLines(item: JsonSchema, lead: string, lines: string[]): void {
  for (const [k, field] of Object.entries(item.properties ?? {})) {
    const req = (item.required ?? []).includes(k) ? 'required' : 'optional';
    const facts = [req, constraint(field), field.default !== undefined && typeof field.default !== 'object' ? `default ${String(field.default)}` : ''].filter((f) => f !== '');
    lines.push(...wrap(`${k} (${facts.join(', ')}): ${field.description ?? ''}`.replace(/: $/, ''), lead));
    if (field.type === 'object' && field.properties) itemLines(field, `${lead}  `, lines);
  }
}

function constraint(node: JsonSchema): string {
  if (node.enum) return `one of: ${node.enum.join(', ')}`;
  if (node.anyOf) return node.anyOf.map((n) => constraint(n) || n.type).join(' or ');
  const parts: string[] = [];
  switch (node.type) {
    case 'integer':
    case 'number': {
      const lo = node.minimum !== undefined ? `>= ${node.minimum}` : node.exclusiveMinimum !== undefined ? `> ${node.exclusiveMinimum}` : '';
      const max = node.maximum !== undefined && node.maximum < MAX_SAFE ? node.maximum : undefined;
      const hi = max !== undefined ? `<= ${max}` : node.exclusiveMaximum !== undefined ? `< ${node.exclusiveMaximum}` : '';
      parts.push([node.type, [lo, hi].filter((b) => b !== '').join(' and ')].filter((p) => p !== '').join(', '));
      break;
    }
    case 'string':
      parts.push('string');
      if (node.pattern) parts.push(`matching ${node.pattern}`);
      if (node.maxLength !== undefined) parts.push(`of ${node.minLength ?? 0} to ${node.maxLength} chars`);
      break;
    case 'boolean':
      parts.push('true or false');
      break;
    case 'array': {
      const item = node.items?.properties ? '' : ` of ${node.items ? constraint(node.items) || node.items.type : 'values'}`;
      parts.push(`list${node.minItems ? ` (at least ${node.minItems})` : ''}${item}`);
      break;
    }
    case 'object':
      if (!node.properties) parts.push('mapping');
      break;
  }
  return parts.join(' ');
}

function placeholder(node: JsonSchema): string {
  if (node.enum && node.enum.length > 0) return stringify(node.enum[node.enum.length - 1]).trimEnd();
  return `<${node.type ?? 'value'}>`;
}

function wrap(text: string, lead = ''): string[] {
  const out: string[] = [];
  let line = lead;
  for (const word of text.split(/\s+/)) {
    if (line.trim() !== '' && line.length + 1 + word.length > WIDTH - 2) {
      out.push(line);
      line = `${lead}  ${word}`;
    } else {
      line = line.trim() === '' ? `${lead}${word}` : `${line} ${word}`;
    }
  }
  if (line.trim() !== '') out.push(line);
  return out;
}
