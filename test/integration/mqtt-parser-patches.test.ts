/**
 * The gateway's MQTT listener, when it starts, makes mqtt-packet parse every packet into a fresh
 * object and keep its bytes in a plain BufferList (gateway/src/ingest/fresh-packet-objects.ts,
 * parser-plain-buffer-list.ts; the parsing itself is unit-tested), and publishes still reach the
 * buffer.
 */
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { createRequire } from 'node:module';
import { join } from 'node:path';
import mqtt from 'mqtt';
import mqttPacket from 'mqtt-packet';
import Database from 'better-sqlite3';
import { validateConfig } from '../../gateway/src/config/load-config.js';
import { createGateway } from '../../gateway/src/gateway.js';
import { createLogger } from '../../gateway/src/lib/logger.js';

const parserMethod = (m: '_parseHeader' | '_resetState') => (Object.getPrototypeOf(mqttPacket.parser()) as Record<string, { name: string }>)[m]!.name;

test('aedes resolves the same mqtt-packet as the gateway, so the patched prototype is the one its parsers use', () => {
  // A nested copy under aedes would leave both patches "applied" to a parser aedes never uses.
  const require = createRequire(import.meta.url);
  assert.equal(createRequire(require.resolve('aedes')).resolve('mqtt-packet'), require.resolve('mqtt-packet'));
});

test('starting the gateway switches mqtt-packet to fresh packet objects and a plain BufferList, and publishes are committed', async (t) => {
  assert.deepEqual([parserMethod('_parseHeader'), parserMethod('_resetState')], ['_parseHeader', '_resetState'], 'unpatched before the gateway starts');
  const dir = mkdtempSync(join(tmpdir(), 'eg-fresh-'));
  t.after(() => rmSync(dir, { recursive: true, force: true }));
  const dbPath = join(dir, 'buffer.db');
  const config = validateConfig({ mqtt: { host: '127.0.0.1', port: 0 }, buffer: { path: dbPath }, kafka: { brokers: ['127.0.0.1:1'] }, log: { level: 'silent' } });
  const gw = createGateway(config, { logger: createLogger('silent') });
  const { port } = await gw.start();
  t.after(() => gw.close({ forwardGraceMs: 100 }));
  assert.deepEqual([parserMethod('_parseHeader'), parserMethod('_resetState')], ['parseHeaderOnFreshPacket', 'resetStateOnPlainBufferList']);

  const dev = await mqtt.connectAsync(`mqtt://127.0.0.1:${port}`, { clientId: 'dev-fresh' });
  t.after(() => dev.endAsync());
  for (let seq = 1; seq <= 50; seq++) await dev.publishAsync('devices/dev-fresh/telemetry', `{"seq":${seq}}`, { qos: 1 });
  const reader = new Database(dbPath, { readonly: true });
  t.after(() => reader.close());
  const rows = reader.prepare("SELECT CAST(payload AS TEXT) AS p FROM records WHERE device_id = 'dev-fresh' ORDER BY seq").all() as Array<{ p: string }>;
  assert.deepEqual(rows.map((r) => JSON.parse(r.p).seq), Array.from({ length: 50 }, (_, i) => i + 1));
});
