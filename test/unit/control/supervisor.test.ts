/**
 * The supervisor with fake pipelines (no sockets) and a real SQLite store: live apply vs rebuild,
 * rejection without touching the pipeline, the health window's rollback, a rebuild that does not
 * start, last-good at boot, and a restart inside the health window.
 */
import assert from 'node:assert/strict';
import { generateKeyPairSync } from 'node:crypto';
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { test, type TestContext } from 'node:test';
import { openBufferDatabase } from '../../../gateway/src/buffer/sqlite-buffer.js';
import { validateConfig } from '../../../gateway/src/config/load-config.js';
import type { GatewayConfig } from '../../../gateway/src/config/schema.js';
import { createConfigStore, type ConfigStore } from '../../../gateway/src/control/config-store.js';
import { createSupervisor, type PushedDocument, type Supervisor, type SupervisorOptions } from '../../../gateway/src/control/supervisor.js';
import type { Gateway, GatewayHealth } from '../../../gateway/src/gateway.js';
import { createLogger } from '../../../gateway/src/lib/logger.js';

interface FakeWorld {
  built: Array<Readonly<GatewayConfig>>;
  closed: number;
  live: Array<Readonly<GatewayConfig>>;
  health: (c: Readonly<GatewayConfig>) => GatewayHealth;
  failStart: (c: Readonly<GatewayConfig>) => boolean;
}

function fakeGateway(config: Readonly<GatewayConfig>, w: FakeWorld): Gateway {
  let current = config;
  return {
    async start() {
      if (w.failStart(current)) throw new Error('port in use');
      return { host: '127.0.0.1', port: 1 };
    },
    get config() {
      return current;
    },
    reconfigure(next) {
      w.live.push(next);
      current = next;
    },
    health: () => w.health(current),
    status: () => ({ forward: { lastError: { code: 'GW_ERR_FORWARD_CONNECT', message: 'connect ECONNREFUSED' } } }) as unknown as ReturnType<Gateway['status']>,
    reloadTls: () => [],
    recordCrash: () => ({ guard: null }),
    devicePort: { publishRetained: async () => undefined },
    async close() {
      w.closed++;
    },
  };
}

function setup(t: TestContext, world: Partial<FakeWorld> = {}, fileRaw: Record<string, unknown> = {}, outside?: SupervisorOptions['checkOutsidePipeline']) {
  const dir = mkdtempSync(join(tmpdir(), 'eg-sup-'));
  t.after(() => rmSync(dir, { recursive: true, force: true }));
  const db = openBufferDatabase({ path: join(dir, 'b.db'), synchronous: 'FULL' });
  t.after(() => db.close());
  const w: FakeWorld = { built: [], closed: 0, live: [], health: () => ({ listening: true, kafkaUp: true, bufferFailing: false, bufferedRows: 0, lastAckedEncodedAt: 0 }), failStart: () => false, ...world };
  const fileConfig = validateConfig({ gatewayId: 'g1', control: { remoteConfig: { healthWindowMs: 1000 } }, ...fileRaw });
  const store = createConfigStore(db);
  const make = (): Supervisor =>
    createSupervisor({
      fileConfig,
      store,
      logger: createLogger('silent'),
      healthPollMs: 20,
      ...(outside ? { checkOutsidePipeline: outside } : {}),
      buildGateway: (c) => {
        w.built.push(c);
        return fakeGateway(c, w);
      },
    });
  return { w, store, make, fileConfig };
}

const TRUSTED = [{ kid: 'k', publicKey: generateKeyPairSync('ed25519').publicKey.export({ type: 'spki', format: 'pem' }).toString() }];

/** A pushed document: the whole config, so it keeps remote config on (unless the test says otherwise). */
const doc = (version: number, raw: Record<string, unknown>): PushedDocument => {
  const control = (raw['control'] ?? {}) as { remoteConfig?: Record<string, unknown> };
  const config = { ...raw, control: { trustedKeys: TRUSTED, ...control, remoteConfig: { enabled: true, ...(control.remoteConfig ?? {}) } } };
  return { version, hash: `h${version}`, kid: 'k', jws: `e30.${Buffer.from(JSON.stringify({ config })).toString('base64url')}.sig`, config };
};

test('a live change is applied without a rebuild; a rebuild change closes and builds', async (t) => {
  const { w, store, make } = setup(t);
  const s = make();
  await s.start();
  assert.equal(w.built.length, 1);
  const r1 = await s.applyPushed(doc(1, { log: { level: 'debug' }, control: { remoteConfig: { healthWindowMs: 1000 } } }));
  assert.equal(r1.state, 'applied');
  assert.equal(w.built.length, 1, 'no rebuild');
  assert.equal(w.live.length, 1);
  assert.equal(s.inEffect().version, 1);
  const r2 = await s.applyPushed(doc(2, { mqtt: { port: 1884 }, control: { remoteConfig: { healthWindowMs: 1000 } } }));
  assert.equal(r2.state, 'applied');
  assert.equal(w.built.length, 2);
  assert.equal(w.closed, 1);
  assert.equal(store.lastGood()?.version, 2);
});

test('rejections change nothing and are recorded (never retried); replays are refused', async (t) => {
  const { w, store, make } = setup(t);
  const s = make();
  await s.start();
  const bad = await s.applyPushed(doc(5, { buffer: { maxSizeBytes: 'x' } }));
  assert.equal(bad.state, 'rejected');
  assert.equal(bad.code, 'GW_ERR_CONTROL_SCHEMA');
  assert.match(bad.reason!, /buffer\.maxSizeBytes/);
  const other = await s.applyPushed(doc(6, { gatewayId: 'g2' }));
  assert.equal(other.code, 'GW_ERR_CONTROL_SCHEMA');
  const avro = await s.applyPushed(doc(7, { mqtt: { routes: [{ topic: 'd/{deviceId}/t', valueSchema: { type: 'record', name: 'R', fields: [{ name: 'a', type: 'nope' }] } }] } }));
  assert.equal(avro.code, 'GW_ERR_CONTROL_NOT_APPLIABLE');
  const cutOff = await s.applyPushed(doc(8, { control: { remoteConfig: { enabled: false } } }));
  assert.equal(cutOff.code, 'GW_ERR_CONTROL_SCHEMA');
  assert.match(cutOff.reason!, /cannot turn remote configuration off/);
  const replay = await s.applyPushed(doc(8, {}));
  assert.equal(replay.code, 'GW_ERR_CONTROL_REPLAY');
  assert.equal(w.built.length, 1);
  assert.equal(w.live.length, 0);
  assert.equal(s.inEffect().source, 'file');
  assert.equal(store.find(5)?.state, 'rejected');
  assert.equal(store.lastGood(), null);
});

test('unhealthy within the window: rolled back to the config before, which stays last-good', async (t) => {
  const { w, store, make } = setup(t, { health: (c) => ({ listening: true, kafkaUp: !c.kafka.brokers.includes('127.0.0.1:1'), bufferFailing: false, bufferedRows: 0, lastAckedEncodedAt: 0 }) });
  const s = make();
  await s.start();
  // v1 sets the window; it is the window of the config in effect that judges the next push.
  assert.equal((await s.applyPushed(doc(1, { log: { level: 'debug' }, control: { remoteConfig: { healthWindowMs: 1000 } } }))).state, 'applied');
  const t0 = Date.now();
  const r = await s.applyPushed(doc(2, { log: { level: 'debug' }, kafka: { brokers: ['127.0.0.1:1'] }, control: { remoteConfig: { healthWindowMs: 600_000 } } }));
  assert.equal(r.state, 'rolled_back');
  assert.equal(r.code, 'GW_ERR_CONTROL_UNHEALTHY');
  assert.match(r.reason!, /Kafka not reached \(connect ECONNREFUSED\) within 1000 ms/);
  assert.ok(Date.now() - t0 >= 1000, 'waited for the window');
  assert.equal(s.inEffect().version, 1);
  assert.deepEqual(s.gateway()!.config.kafka.brokers, ['127.0.0.1:9092']);
  assert.equal(store.find(2)?.state, 'rolled_back');
  assert.equal(store.lastGood()?.version, 1);
  assert.equal(w.built.length, 3, 'v1 (file) -> v2 -> back to v1');
});

test('a healthy pipeline whose control link cannot read its config topic is rolled back (it would strand the gateway)', async (t) => {
  const seen: string[] = [];
  const { store, make } = setup(t, {}, {}, async (next) => {
    seen.push(next.control.remoteConfig.topic);
    return next.control.remoteConfig.topic === 'typo' ? 'control link cannot read typo' : null;
  });
  const s = make();
  await s.start();
  const r = await s.applyPushed(doc(1, { control: { remoteConfig: { topic: 'typo' } } }));
  assert.equal(r.state, 'rolled_back');
  assert.equal(r.code, 'GW_ERR_CONTROL_UNHEALTHY');
  assert.match(r.reason!, /control link cannot read typo/);
  assert.equal(s.inEffect().source, 'file');
  assert.equal(store.find(1)?.state, 'rolled_back');
  assert.equal((await s.applyPushed(doc(2, {}))).state, 'applied');
  assert.deepEqual(seen, ['typo', 'edge.gateway.config']);
});

test('close() inside the window stops the outside check at once; the document stays pending', async (t) => {
  const { store, make } = setup(t, {}, {}, (_next, _windowMs, signal) => new Promise((resolve) => signal.addEventListener('abort', () => resolve('stopped'))));
  const s = make();
  await s.start();
  const applying = s.applyPushed(doc(1, { log: { level: 'debug' } }));
  await new Promise((r) => setTimeout(r, 50));
  await s.close();
  assert.equal((await applying).state, 'pending');
  assert.equal(store.find(1)?.state, 'pending');
});

test('a rebuild that does not start rolls back at once', async (t) => {
  const { make, store } = setup(t, { failStart: (c) => c.mqtt.port === 1999 });
  const s = make();
  await s.start();
  const r = await s.applyPushed(doc(3, { mqtt: { port: 1999 } }));
  assert.equal(r.state, 'rolled_back');
  assert.match(r.reason!, /port in use/);
  assert.equal(s.inEffect().source, 'file');
  assert.equal(store.find(3)?.state, 'rolled_back');
});

test('boot: last-good wins over the file; a document left pending by a restart is rolled back', async (t) => {
  const { w, store, make } = setup(t);
  const s1 = make();
  await s1.start();
  await s1.applyPushed(doc(1, { log: { level: 'debug' }, mqtt: { port: 1777 } }));
  await s1.close();
  // A restart inside v2's window: it is still pending in the database.
  store.insert({ version: 2, hash: 'h2', kid: 'k', document: doc(2, { mqtt: { port: 1888 } }).jws }, 'pending');
  const s2 = make();
  await s2.start();
  assert.equal(s2.inEffect().version, 1);
  assert.equal(w.built[w.built.length - 1]!.mqtt.port, 1777);
  assert.equal(store.find(2)?.state, 'rolled_back');
  assert.equal(store.find(2)?.code, 'GW_ERR_CONTROL_UNHEALTHY');
});

test('a last-good that no longer starts falls back to the local file', async (t) => {
  const { make, store } = setup(t, { failStart: (c) => c.mqtt.port === 1555 });
  store.insert({ version: 4, hash: 'h4', kid: 'k', document: doc(4, { mqtt: { port: 1555 } }).jws }, 'applied');
  const s = make();
  await s.start();
  assert.equal(s.inEffect().source, 'file');
  assert.ok(s.gateway() !== null);
});

test('SIGHUP path: the file applies while it is the source, and is shadowed by a pushed config', async (t) => {
  const { w, make } = setup(t);
  const s = make();
  await s.start();
  const r = await s.reloadFile(() => ({ gatewayId: 'g1', log: { level: 'warn' } }), 'config.yaml');
  assert.equal(r.state, 'applied');
  assert.equal(w.live.length, 1);
  const bad = await s.reloadFile(() => ({ gatewayId: 'g1', log: { level: 'loud' } }), 'config.yaml');
  assert.equal(bad.state, 'rejected');
  assert.match(bad.reason!, /log\.level/);
  await s.applyPushed(doc(1, {}));
  const shadowed = await s.reloadFile(() => ({ gatewayId: 'g1' }), 'config.yaml');
  assert.equal(shadowed.state, 'rejected');
  assert.match(shadowed.reason!, /pushed config v1 is in effect/);
});

test('a live push to a topic Kafka does not take: connected is not enough while rows wait; rolled back', async (t) => {
  const { make, store } = setup(t, {
    health: (c) => ({ listening: true, kafkaUp: true, bufferFailing: false, bufferedRows: 500, lastAckedEncodedAt: c.kafka.topic === 'missing' ? 0 : Date.now() }),
  });
  const s = make();
  await s.start();
  assert.equal((await s.applyPushed(doc(1, { control: { remoteConfig: { healthWindowMs: 1000 } } }))).state, 'applied', 'batches of v1 are acknowledged');
  const r = await s.applyPushed(doc(2, { kafka: { topic: 'missing' } }));
  assert.equal(r.state, 'rolled_back');
  assert.match(r.reason!, /no batch of the new config acknowledged by Kafka within 1000 ms/);
  assert.equal(s.gateway()!.config.kafka.topic, 'telemetry.raw');
  assert.equal(store.lastGood()?.version, 1);
});
