/**
 * The device configuration service against an in-memory Kafka link and a recording port, on a
 * real SQLite file: own devices only, delivery and status on every change, acks persisted
 * synchronously (bad ones refused), first-seen devices caught up by a re-read, a restart
 * re-publishes without a new status, status sends retried while Kafka is down, invalid records
 * skipped and counted.
 */
import assert from 'node:assert/strict';
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { test, type TestContext } from 'node:test';
import type { Database } from 'better-sqlite3';
import { pino } from 'pino';
import { openBufferDatabase } from '../../../gateway/src/buffer/sqlite-buffer.js';
import { createDeviceConfigService, type DeviceConfigService } from '../../../gateway/src/control/device-config-service.js';
import type { DevicePort } from '../../../gateway/src/control/device-port.js';
import { gatewayError, isGatewayError } from '../../../gateway/src/errors.js';
import { FakeKafkaLink } from './fake-kafka-link.js';

const TOPIC = 'edge.device.config';
const STATUS = 'edge.device.status';
const logger = pino({ level: 'silent' });

class RecordingPort implements DevicePort {
  readonly published: Array<{ topic: string; payload: string }> = [];
  failWith: Error | null = null;
  async publishRetained(topic: string, payload: Buffer): Promise<void> {
    if (this.failWith) throw this.failWith;
    this.published.push({ topic, payload: payload.toString() });
  }
}

function tmpDb(t: TestContext): string {
  const dir = mkdtempSync(join(tmpdir(), 'gw-devcfg-svc-'));
  t.after(() => rmSync(dir, { recursive: true, force: true }));
  return join(dir, 'buffer.db');
}

function service(t: TestContext, db: Database, link: FakeKafkaLink): DeviceConfigService {
  const svc = createDeviceConfigService({
    database: db,
    link,
    config: { enabled: true, topic: TOPIC, statusTopic: STATUS },
    gatewayId: 'gw-1',
    logger,
    pollMaxWaitMs: 100,
    seenFlushMs: 10,
    retryInitialMs: 20,
    retryMaxMs: 50,
  });
  t.after(() => svc.close());
  return svc;
}

function openDb(t: TestContext, path: string): Database {
  const db = openBufferDatabase({ path, synchronous: 'FULL' });
  t.after(() => db.close());
  return db;
}

async function until<T>(what: string, fn: () => T | undefined | null | false, timeoutMs = 5000): Promise<T> {
  const deadline = Date.now() + timeoutMs;
  for (;;) {
    const v = fn();
    if (v) return v;
    if (Date.now() > deadline) throw new Error(`timed out waiting for ${what}`);
    await new Promise((r) => setTimeout(r, 5));
  }
}

function statuses(link: FakeKafkaLink, deviceId: string): Array<Record<string, unknown>> {
  return link.produced.filter((p) => p.topic === STATUS && p.key === deviceId).map((p) => JSON.parse(p.value) as Record<string, unknown>);
}

const ack = (version: number, state: string, reason?: string) => Buffer.from(JSON.stringify({ version, state, ...(reason ? { reason } : {}) }));

test('an own device gets its config retained, answers, and every change reaches the status topic', async (t) => {
  const db = openDb(t, tmpDb(t));
  const link = new FakeKafkaLink();
  const port = new RecordingPort();
  const svc = service(t, db, link);
  svc.attach(port);
  svc.start();
  svc.hooks.onDeviceConnected('dev-a');
  await new Promise((r) => setTimeout(r, 30));
  link.append(TOPIC, 'dev-a', { version: 1, config: { publishIntervalMs: 100 } });
  link.append(TOPIC, 'dev-other', { version: 1, config: { publishIntervalMs: 5 } });
  await until('delivered', () => port.published.length === 1);
  assert.deepEqual(port.published, [{ topic: 'devices/dev-a/config', payload: '{"version":1,"config":{"publishIntervalMs":100}}' }]);
  await until('status delivered', () => statuses(link, 'dev-a').some((s) => s['state'] === 'delivered'));

  svc.hooks.onConfigAck('dev-a', ack(1, 'applied'));
  const applied = await until('status applied', () => statuses(link, 'dev-a').find((s) => s['state'] === 'applied'));
  assert.deepEqual({ ...applied, at: undefined }, { deviceId: 'dev-a', gatewayId: 'gw-1', desiredVersion: 1, deliveredVersion: 1, ackedVersion: 1, state: 'applied', at: undefined });
  assert.equal(statuses(link, 'dev-other').length, 0, 'another gateway\'s device is ignored');
  const st = svc.stats();
  assert.equal(st.notOwnTotal, 1);
  assert.equal(st.acksTotal.applied, 1);

  // The same answer after a reconnect changes nothing; a bad one is refused with a code.
  const before = link.produced.length;
  svc.hooks.onConfigAck('dev-a', ack(1, 'applied'));
  assert.throws(() => svc.hooks.onConfigAck('dev-a', Buffer.from('{"version":"1"}')), (e: unknown) => isGatewayError(e, 'GW_ERR_DEVICE_CONFIG_ACK_INVALID'));
  await new Promise((r) => setTimeout(r, 30));
  assert.equal(link.produced.length, before);

  // A rejected newer version carries the device's reason; a tombstone clears the retained message.
  link.append(TOPIC, 'dev-a', { version: 2, config: { publishIntervalMs: -1 } });
  await until('v2 delivered', () => port.published.length === 2);
  svc.hooks.onConfigAck('dev-a', ack(2, 'rejected', 'publishIntervalMs must be a positive number'));
  const rejected = await until('status rejected', () => statuses(link, 'dev-a').find((s) => s['state'] === 'rejected'));
  assert.equal(rejected['reason'], 'publishIntervalMs must be a positive number');
  link.append(TOPIC, 'dev-a', null);
  await until('cleared', () => port.published.length === 3);
  assert.deepEqual(port.published[2], { topic: 'devices/dev-a/config', payload: '' });
  const cleared = await until('status cleared', () => statuses(link, 'dev-a').find((s) => s['state'] === 'cleared'));
  assert.equal(cleared['desiredVersion'], null);
});

test('a device first seen after its config was pushed gets it through a re-read', async (t) => {
  const db = openDb(t, tmpDb(t));
  const link = new FakeKafkaLink();
  link.append(TOPIC, 'late', { version: 7, config: { fields: { fw: '2' } } });
  const port = new RecordingPort();
  const svc = service(t, db, link);
  svc.attach(port);
  svc.start();
  await until('caught up', () => svc.stats().caughtUp);
  assert.equal(svc.stats().notOwnTotal, 1);
  assert.equal(port.published.length, 0);

  svc.hooks.onDeviceConnected('never-pushed');
  svc.hooks.onDeviceConnected('late');
  await until('delivered after the re-read', () => port.published.length === 1);
  assert.equal(port.published[0]!.payload, '{"version":7,"config":{"fields":{"fw":"2"}}}');
  assert.equal(svc.stats().rescansTotal, 1, 'only the device whose record was skipped triggers a re-read');
  assert.deepEqual(link.readerKeys, [null, 'late'], 'the re-read of one device reads only its key\'s partition');
});

test('a restart re-publishes the same version without a new status; leftover work is resumed', async (t) => {
  const path = tmpDb(t);
  const link = new FakeKafkaLink();
  link.append(TOPIC, 'dev-a', { version: 1, config: { publishIntervalMs: 100 } });
  const db1 = openBufferDatabase({ path, synchronous: 'FULL' });
  db1.prepare("INSERT INTO device_credentials (device_id, secret_hash, created_at) VALUES ('dev-a', 'x', 0)").run();
  const port1 = new RecordingPort();
  const svc1 = createDeviceConfigService({ database: db1, link, config: { enabled: true, topic: TOPIC, statusTopic: STATUS }, gatewayId: 'gw-1', logger, retryInitialMs: 20, retryMaxMs: 50 });
  svc1.attach(port1);
  svc1.start();
  await until('delivered', () => port1.published.length === 1);
  svc1.hooks.onConfigAck('dev-a', ack(1, 'applied'));
  await until('applied', () => statuses(link, 'dev-a').some((s) => s['state'] === 'applied'));
  await svc1.close();
  db1.close();
  const produced = link.produced.length;

  const port2 = new RecordingPort();
  const svc2 = service(t, openDb(t, path), link);
  svc2.attach(port2);
  svc2.start();
  await until('republished', () => port2.published.length === 1);
  await until('caught up', () => svc2.stats().caughtUp);
  svc2.hooks.onConfigAck('dev-a', ack(1, 'applied'));
  await new Promise((r) => setTimeout(r, 50));
  assert.equal(port2.published[0]!.payload, '{"version":1,"config":{"publishIntervalMs":100}}');
  assert.equal(link.produced.length, produced, 'nothing new: no status record');
  assert.equal(svc2.stats().replayedTotal, 1);
  assert.equal(svc2.stats().storedTotal, 0);
});

test('Kafka down: status sends are retried (latest state only); a closing gateway waits for the next attach', async (t) => {
  const db = openDb(t, tmpDb(t));
  const link = new FakeKafkaLink();
  const svc = service(t, db, link);
  const port = new RecordingPort();
  port.failWith = gatewayError('GW_ERR_INGEST_SHUTTING_DOWN', 'broker is not running');
  svc.start();
  svc.hooks.onDeviceConnected('dev-a');
  await new Promise((r) => setTimeout(r, 30));
  link.down = true;
  link.append(TOPIC, 'dev-a', { version: 1, config: {} });
  await until('store', () => svc.stats().storedTotal === 1);
  await until('send failures', () => svc.stats().statusErrorsTotal >= 2);
  assert.equal(svc.stats().statusPending, 1);
  // Delivery: the port fails, then a new gateway is attached.
  svc.attach(port);
  await until('delivery errors', () => svc.stats().deliveryErrorsTotal >= 1);
  await new Promise((r) => setTimeout(r, 100));
  assert.equal(svc.stats().deliveryErrorsTotal, 1, 'a gateway shutting down is not retried: the next attach re-publishes');
  const port2 = new RecordingPort();
  svc.attach(port2);
  await until('delivered on the new port', () => port2.published.length === 1);
  link.down = false;
  await until('status sent', () => statuses(link, 'dev-a').some((s) => s['state'] === 'delivered'));
  // A send that was already on its way when Kafka came back may carry the state it was built
  // with; what matters is that the changes made while Kafka was down are not each sent, and that
  // the last record is the latest state.
  const sent = statuses(link, 'dev-a');
  assert.ok(sent.length <= 2, `not one record per change (${sent.length})`);
  assert.equal(sent[sent.length - 1]!['state'], 'delivered', 'the last record is the latest state');
  assert.equal(svc.stats().statusPending, 0);
});

test('invalid records are skipped and counted, never fatal', async (t) => {
  const db = openDb(t, tmpDb(t));
  const link = new FakeKafkaLink();
  const svc = service(t, db, link);
  const port = new RecordingPort();
  svc.attach(port);
  svc.hooks.onDeviceConnected('dev-a');
  await new Promise((r) => setTimeout(r, 30));
  link.append(TOPIC, 'dev-a', 'not json');
  link.append(TOPIC, 'dev-a', { version: 1, config: 'x' });
  link.append(TOPIC, null, { version: 1, config: {} });
  link.append(TOPIC, 'bad/id', { version: 1, config: {} });
  link.append(TOPIC, 'dev-a', { version: 1, config: { ok: true } });
  svc.start();
  await until('delivered', () => port.published.length === 1);
  assert.equal(svc.stats().invalidTotal, 4);
  assert.equal(port.published[0]!.payload, '{"version":1,"config":{"ok":true}}');
});
