/**
 * The promise holds for every QoS the gateway accepts: QoS 2 is committed before PUBREC (aedes
 * runs authorizePublish first), so a completed QoS 2 handshake means the row is on disk; QoS 0
 * (no ack) is buffered and forwarded too. Rows are read with a second SQLite connection.
 */
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import mqtt from 'mqtt';
import Database from 'better-sqlite3';
import { validateConfig } from '../../gateway/src/config/load-config.js';
import { createGateway } from '../../gateway/src/gateway.js';
import { createLogger } from '../../gateway/src/lib/logger.js';

test('QoS 2 and QoS 0 publishes are committed; QoS 2 completes only after the commit', async (t) => {
  const dir = mkdtempSync(join(tmpdir(), 'eg-qos-'));
  t.after(() => rmSync(dir, { recursive: true, force: true }));
  const dbPath = join(dir, 'buffer.db');
  const config = validateConfig({
    mqtt: { host: '127.0.0.1', port: 0 },
    buffer: { path: dbPath },
    kafka: { brokers: ['127.0.0.1:1'], retryInitialMs: 1000, retryMaxMs: 5000 },
    log: { level: 'silent' },
  });
  const gw = createGateway(config, { logger: createLogger('silent') });
  const { port } = await gw.start();
  t.after(() => gw.close({ forwardGraceMs: 100 }));

  const dev = await mqtt.connectAsync(`mqtt://127.0.0.1:${port}`, { clientId: 'dev-q' });
  t.after(() => dev.endAsync());
  const reader = new Database(dbPath, { readonly: true });
  t.after(() => reader.close());
  const has = (seq: number) =>
    (reader.prepare("SELECT count(*) AS n FROM records WHERE device_id = 'dev-q' AND CAST(payload AS TEXT) = ?").get(`{"seq":${seq}}`) as { n: number }).n;

  for (let seq = 1; seq <= 20; seq++) {
    await dev.publishAsync('devices/dev-q/telemetry', `{"seq":${seq}}`, { qos: 2 });
    assert.equal(has(seq), 1, `QoS 2 seq ${seq} is committed once the handshake completed`);
  }
  for (let seq = 21; seq <= 30; seq++) dev.publish('devices/dev-q/telemetry', `{"seq":${seq}}`, { qos: 0 });
  await dev.publishAsync('devices/dev-q/telemetry', '{"seq":31}', { qos: 1 }); // in-order barrier
  for (let seq = 21; seq <= 31; seq++) assert.equal(has(seq), 1, `seq ${seq} committed`);
  const qos = reader.prepare("SELECT qos, count(*) AS n FROM records WHERE device_id = 'dev-q' GROUP BY qos ORDER BY qos").all();
  assert.deepEqual(qos, [{ qos: 0, n: 10 }, { qos: 1, n: 1 }, { qos: 2, n: 20 }]);
});
