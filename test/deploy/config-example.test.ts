/**
 * deploy/config.example.yaml is generated from the config schema and is what install.sh writes as
 * /etc/edge-gateway/config.yaml. Proves the committed file is the current rendering (so a schema
 * change without `npm run config:example` fails here), that the product's loadConfig accepts it
 * and it equals the embedded defaults (but for the packaged buffer path), that every schema key
 * is in it, and that uncommenting the optional keys still gives a valid config.
 */
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { z } from 'zod';
import { parse } from 'yaml';
import { REPO_ROOT } from '../../deploy/build/binary-targets.js';
import { DEPLOY_VALUES, renderConfigExample } from '../../deploy/build/config-example.js';
import { loadConfig, validateConfig } from '../../gateway/src/config/load-config.js';
import { configSchema } from '../../gateway/src/config/schema.js';

const EXAMPLE = join(REPO_ROOT, 'deploy', 'config.example.yaml');

interface Node {
  properties?: Record<string, Node>;
  items?: Node;
}

/** Every property path of the JSON schema (array items under `[]`). */
function schemaPaths(node: Node, prefix: string[] = []): string[][] {
  const out: string[][] = [];
  for (const [key, child] of Object.entries(node.properties ?? {})) {
    out.push([...prefix, key]);
    out.push(...schemaPaths(child, [...prefix, key]));
    if (child.items) out.push(...schemaPaths(child.items, [...prefix, key, '[]']));
  }
  return out;
}

test('the committed example is the current rendering of the schema (npm run config:example)', () => {
  const committed = readFileSync(EXAMPLE, 'utf8').split('\n');
  const rendered = renderConfigExample().split('\n');
  const i = rendered.findIndex((line, n) => line !== committed[n]);
  const at = i >= 0 ? i : committed.length !== rendered.length ? Math.min(committed.length, rendered.length) : -1;
  // One differing line is enough to say what changed; the whole file would bury it.
  assert.equal(at, -1, `deploy/config.example.yaml is stale at line ${at + 1}: run npm run config:example\n  committed: ${committed[at]}\n  schema:    ${rendered[at]}`);
});

test('loadConfig accepts the example, and it holds exactly the defaults plus the packaged buffer path', () => {
  const fromExample = loadConfig({ path: EXAMPLE, env: {} });
  assert.equal(fromExample.buffer.path, DEPLOY_VALUES['buffer.path']);
  const defaults = validateConfig({ buffer: { path: DEPLOY_VALUES['buffer.path'] } });
  assert.deepEqual(fromExample, defaults);
});

test('every key of the schema appears in the example, active or commented out', () => {
  const text = readFileSync(EXAMPLE, 'utf8');
  const keys = new Set([...text.matchAll(/^[ #-]*([A-Za-z]+):/gm)].map((m) => m[1]));
  const paths = schemaPaths(z.toJSONSchema(configSchema, { io: 'input', unrepresentable: 'any' }) as Node);
  assert.ok(paths.length > 30, `walked ${paths.length} schema keys`);
  // Array item fields are documented in the "Each item:" comment of their list.
  const missing = paths.filter((p) => !p.includes('[]') && !keys.has(p[p.length - 1]!)).map((p) => p.join('.'));
  assert.deepEqual(missing, []);
  for (const p of paths.filter((p) => p.includes('[]'))) assert.match(text, new RegExp(`#\\s+${p[p.length - 1]} \\((required|optional)`), `${p.join('.')} documented`);
});

test('uncommenting every optional key (gatewayId, kafka.sasl) still validates', (t) => {
  const names = new Set(schemaPaths(z.toJSONSchema(configSchema, { io: 'input', unrepresentable: 'any' }) as Node).map((p) => p[p.length - 1]!));
  const lines = readFileSync(EXAMPLE, 'utf8').split('\n');
  let uncommented = 0;
  const text = lines
    .map((line) => {
      const m = /^(\s*)# ([A-Za-z]+):(.*)$/.exec(line);
      // `listeners` replaces host/port (they are exclusive; test/unit/config covers it).
      if (!m || !names.has(m[2]!) || m[2] === 'listeners') return line;
      uncommented++;
      return `${m[1]}${m[2]}:${m[3]}`;
    })
    .join('\n');
  assert.ok(uncommented >= 5, `uncommented ${uncommented} keys`);
  const raw = parse(text) as { gatewayId: string; kafka: { sasl: { mechanism: string } } };
  const dir = mkdtempSync(join(tmpdir(), 'eg-example-'));
  t.after(() => rmSync(dir, { recursive: true, force: true }));
  writeFileSync(join(dir, 'config.yaml'), text);
  const config = loadConfig({ path: join(dir, 'config.yaml'), env: {} });
  assert.equal(config.gatewayId, raw.gatewayId);
  assert.equal(config.kafka.sasl?.mechanism, raw.kafka.sasl.mechanism);
});
