/**
 * Remote configuration on the real gateway process, real Kafka, real devices publishing the
 * whole time: a live push (no connection dropped), every rejection (status says why, config
 * unchanged), a push that points Kafka at a dead address (rolled back within the window), a
 * rebuild push, a push while the gateway is offline (applied at start), Kafka down at boot
 * (last-good from the database), and SIGHUP on the local file. Then the audit: 0 acknowledged
 * messages lost.
 */
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { writeFileSync } from 'node:fs';
import { runSimulation, type SimSummary } from '../../firmware-sim/src/load-generator.js';
import { signConfigDocument } from '../../gateway/src/control/config-document.js';
import { partitionForKey } from '../../gateway/src/control/partition-for-key.js';
import type { GatewayStatusRecord } from '../../gateway/src/control/status-record.js';
import { startKafka, type KafkaBroker } from '../kafka/kafka-harness.js';
import { freePorts } from '../kafka/free-port.js';
import { auditTopic } from '../support/audit.js';
import { GatewayProcess } from '../support/gateway-process.js';
import { signingKeyPair, waitForGatewayStatus } from '../support/gateway-status-topic.js';
import { kcatProduce } from '../support/kcat.js';
import { uniqueTopics } from '../support/topics.js';
import { assertNoLoss } from '../support/audit-assertions.js';

const GW = 'gw-remote-1';
const CONFIG_PARTITIONS = 6;

const keyPair = signingKeyPair;
const waitStatus = (kafka: KafkaBroker, topic: string, what: string, pred: (s: GatewayStatusRecord) => boolean, timeoutMs?: number) =>
  waitForGatewayStatus(kafka.brokers, topic, GW, what, pred, timeoutMs);

test('remote config: live apply, rejections, rollback, rebuild, offline push, Kafka down at boot, SIGHUP; nothing acknowledged lost', { timeout: 600_000 }, async (t) => {
  const kafka = await startKafka();
  t.after(() => kafka.close());
  const { topic, dlqTopic } = uniqueTopics('remote');
  const configTopic = `${topic}.config`;
  const statusTopic = `${topic}.status`;
  await kafka.createTopics([topic, dlqTopic, statusTopic], 3);
  await kafka.createTopics([configTopic], CONFIG_PARTITIONS);
  const partition = partitionForKey(GW, CONFIG_PARTITIONS);

  const trusted = keyPair();
  const rogue = keyPair();
  const [mqttPort, mqttPort2] = await freePorts(2);
  const base = {
    gatewayId: GW,
    log: { level: 'info', statsIntervalSecs: 0 },
    mqtt: { host: '127.0.0.1', port: mqttPort },
    kafka: { brokers: kafka.brokers, topic, dlqTopic, retryInitialMs: 100, retryMaxMs: 1000, connectionTimeoutMs: 1000, requestTimeoutMs: 5000 },
    // Part of every pushed document too, or each push would move the admin listener to 9883.
    admin: { port: 0 },
    control: {
      trustedKeys: [{ kid: 'ops-1', publicKey: trusted.publicKey }],
      remoteConfig: { enabled: true, topic: configTopic, healthWindowMs: 6000, pollIntervalMs: 500 },
      status: { topic: statusTopic, heartbeatIntervalSecs: 2 },
    },
  };
  const gw = new GatewayProcess({ config: base });
  t.after(() => gw.close());
  // A pushed document is the whole config: it names the buffer file the box uses.
  (base as Record<string, unknown>)['buffer'] = { path: gw.dbPath };
  await gw.start();

  const sign = (version: number, config: Record<string, unknown>, opts: { key?: string; kid?: string; gatewayId?: string; expiresInSecs?: number; now?: number } = {}) =>
    signConfigDocument({ privateKeyPem: opts.key ?? trusted.privateKeyPem, kid: opts.kid ?? 'ops-1', gatewayId: opts.gatewayId ?? GW, version, config, expiresInSecs: opts.expiresInSecs, now: opts.now });
  const push = (jws: string) => kcatProduce(kafka.brokers, configTopic, partition, GW, jws);
  const withBase = (patch: (c: typeof base) => void) => {
    const c = structuredClone(base);
    patch(c);
    return c as unknown as Record<string, unknown>;
  };

  // Devices publish through everything below; they reconnect across rebuilds and restarts.
  const sims: SimSummary[] = [];
  let simRound = 0;
  const simulate = async (url: string, ms: number) => {
    const round = simRound++;
    sims.push(await runSimulation({ url, devices: 4, qos: 1, durationMs: ms, ratePerDevice: 50, deviceIdPrefix: `r${round}-`, drainTimeoutMs: 60_000 }));
  };
  const initial = await waitStatus(kafka, statusTopic, 'the first heartbeat', (s) => s.heartbeat.kafka.up);
  assert.equal(initial.config.source, 'file');
  assert.equal(initial.config.version, null);

  // 1. Live push: log level and Kafka batching. No device connection may drop.
  const simLive = simulate(gw.url, 6000);
  await new Promise((r) => setTimeout(r, 1500));
  const t1 = Date.now();
  await push(await sign(1, withBase((c) => { c.log.level = 'debug'; (c.kafka as Record<string, unknown>)['lingerMs'] = 20; })));
  const s1 = await waitStatus(kafka, statusTopic, 'v1 applied', (s) => s.config.version === 1 && s.config.lastResult?.state === 'applied');
  const pushToApplied = Date.now() - t1;
  assert.equal(s1.config.source, 'pushed');
  const live = await gw.waitForEvent('config_live_applied');
  assert.deepEqual((live['fields'] as string[]).sort(), ['kafka.lingerMs', 'log.level']);
  await simLive;
  assert.equal(sims[0]!.reconnects, 0, 'a live change drops no connection');
  assert.equal(gw.logs.some((l) => l.event === 'config_rebuild'), false);

  // 2. Every rejection: status says why; the running config stays v1.
  const cases: Array<{ code: string; jws: () => Promise<string> }> = [
    { code: 'GW_ERR_CONTROL_UNKNOWN_KEY', jws: () => sign(10, base, { key: rogue.privateKeyPem, kid: 'rogue' }) },
    { code: 'GW_ERR_CONTROL_SIGNATURE', jws: () => sign(11, base, { key: rogue.privateKeyPem }) },
    { code: 'GW_ERR_CONTROL_SIGNATURE', jws: async () => { const [h, p, s] = (await sign(12, base)).split('.'); const body = JSON.parse(Buffer.from(p!, 'base64url').toString()); body.config.log = { level: 'trace' }; return [h, Buffer.from(JSON.stringify(body)).toString('base64url'), s].join('.'); } },
    { code: 'GW_ERR_CONTROL_WRONG_GATEWAY', jws: () => sign(13, base, { gatewayId: 'gw-someone-else' }) },
    { code: 'GW_ERR_CONTROL_EXPIRED', jws: () => sign(14, base, { now: Date.now() - 3_600_000, expiresInSecs: 60 }) },
    { code: 'GW_ERR_CONTROL_SCHEMA', jws: () => sign(15, withBase((c) => { (c as Record<string, unknown>)['buffer'] = { maxSizeBytes: 'lots' }; })) },
    { code: 'GW_ERR_CONTROL_NOT_APPLIABLE', jws: () => sign(16, withBase((c) => { (c.mqtt as Record<string, unknown>)['routes'] = [{ topic: 'devices/{deviceId}/telemetry', valueSchema: { type: 'record', name: 'T', fields: [{ name: 'x', type: 'no-such-type' }] } }]; })) },
    { code: 'GW_ERR_CONTROL_REPLAY', jws: () => sign(16, base) },
    { code: 'GW_ERR_CONTROL_MALFORMED', jws: async () => 'this is not a signed document' },
  ];
  for (const c of cases) {
    await push(await c.jws());
    const s = await waitStatus(kafka, statusTopic, c.code, (st) => st.config.lastResult?.state === 'rejected' && st.config.lastResult.code === c.code, 30_000);
    assert.equal(s.config.version, 1, `${c.code}: running config unchanged`);
    assert.ok(s.config.lastResult!.reason && s.config.lastResult!.reason.length > 0, `${c.code}: a reason`);
  }
  assert.equal(gw.logs.some((l) => l.event === 'config_rebuild'), false, 'no rejected document touched the pipeline');

  // 3. A push that points Kafka at a dead address: rolled back to v1 within the window.
  const simRollback = simulate(gw.url, 12_000);
  const t3 = Date.now();
  await push(await sign(20, withBase((c) => { c.kafka.brokers = ['127.0.0.1:1']; })));
  const s3 = await waitStatus(kafka, statusTopic, 'v20 rolled back', (s) => s.config.lastResult?.version === 20 && s.config.lastResult.state === 'rolled_back', 60_000);
  const pushToRolledBack = Date.now() - t3;
  assert.equal(s3.config.lastResult!.code, 'GW_ERR_CONTROL_UNHEALTHY');
  assert.match(s3.config.lastResult!.reason!, /Kafka not reached/);
  assert.equal(s3.config.version, 1, 'back on last-good v1');
  await simRollback;

  // 4. A rebuild push (new listener port), then the gateway is stopped, a push arrives while it
  //    is offline, and it is applied at start.
  const t4 = Date.now();
  await push(await sign(21, withBase((c) => { c.mqtt.port = mqttPort2!; })));
  await waitStatus(kafka, statusTopic, 'v21 applied', (s) => s.config.version === 21 && s.config.lastResult?.state === 'applied');
  const pushToRebuilt = Date.now() - t4;
  await gw.waitForEvent('mqtt_listening', 10_000, (l) => l['port'] === mqttPort2);
  await simulate(`mqtt://127.0.0.1:${mqttPort2}`, 3000);
  assert.equal(await gw.stop(), 0);
  await push(await sign(22, withBase((c) => { c.mqtt.port = mqttPort2!; c.log.statsIntervalSecs = 30; })));
  gw.logs.length = 0;
  await gw.start();
  const s4 = await waitStatus(kafka, statusTopic, 'v22 applied at start', (s) => s.config.version === 22 && s.config.lastResult?.state === 'applied');
  assert.equal(s4.config.source, 'pushed');
  // A rebuild that cannot start (its port is taken: Kafka's): rolled back at once, still serving.
  await push(await sign(23, withBase((c) => { c.mqtt.port = kafka.port; c.log.statsIntervalSecs = 30; })));
  const s5 = await waitStatus(kafka, statusTopic, 'v23 rolled back', (s) => s.config.lastResult?.version === 23 && s.config.lastResult.state === 'rolled_back');
  assert.match(s5.config.lastResult!.reason!, /apply failed/);
  assert.equal(s5.config.version, 22);
  await simulate(`mqtt://127.0.0.1:${mqttPort2}`, 2000);

  // 5. Kafka down at boot: the gateway runs last-good v22 from its database and buffers.
  assert.equal(await gw.stop(), 0);
  await kafka.stop();
  gw.logs.length = 0;
  await gw.start();
  const lastGood = await gw.waitForEvent('config_last_good', 10_000);
  assert.equal(lastGood['version'], 22);
  assert.equal(gw.port, mqttPort2, 'listening where last-good says, not where the file says');
  await simulate(`mqtt://127.0.0.1:${mqttPort2}`, 3000);
  await kafka.start();
  await waitStatus(kafka, statusTopic, 'heartbeat after Kafka returned', (s) => s.config.version === 22 && s.heartbeat.kafka.up && s.heartbeat.buffer.rows === 0, 90_000);

  // 6. SIGHUP: the local file is shadowed while a pushed config is in effect (logged), and
  //    applies through the same path on a gateway that runs its file.
  writeFileSync(gw.configPath, JSON.stringify({ ...base, log: { level: 'debug', statsIntervalSecs: 0 } }));
  process.kill(gw.pid!, 'SIGHUP');
  await gw.waitForEvent('config_file_shadowed', 10_000);

  // Every acknowledged message of every round is in Kafka, in order.
  const acked = sims.reduce((a, s) => a + s.acked, 0);
  assert.ok(acked > 1000, `devices published throughout (${acked} acked)`);
  for (const sim of sims) {
    const report = await auditTopic({ brokers: kafka.brokers, topic, dlqTopic, sim, timeoutMs: 60_000 });
    assertNoLoss(report, { checkGaps: false });
  }
  t.diagnostic(`push -> applied (live): ${pushToApplied} ms; push -> applied (rebuild): ${pushToRebuilt} ms; push -> rolled back (dead Kafka, 6 s window): ${pushToRolledBack} ms; acked ${acked}`);
});

test('SIGHUP applies the local file through the same path: live without a reconnect, a bad file changes nothing', { timeout: 120_000 }, async (t) => {
  const kafka = await startKafka();
  t.after(() => kafka.close());
  const { topic, dlqTopic } = uniqueTopics('sighup');
  await kafka.createTopics([topic, dlqTopic], 3);
  const [port] = await freePorts(1);
  const file = { gatewayId: 'gw-hup', log: { level: 'info', statsIntervalSecs: 0 }, mqtt: { host: '127.0.0.1', port }, kafka: { brokers: kafka.brokers, topic, dlqTopic }, admin: { port: 0 } };
  const gw = new GatewayProcess({ config: file });
  t.after(() => gw.close());
  await gw.start();
  const withPath = { ...file, buffer: { path: gw.dbPath } };
  const sim = runSimulation({ url: gw.url, devices: 3, qos: 1, durationMs: 5000, ratePerDevice: 50, deviceIdPrefix: 'hup-' });
  await new Promise((r) => setTimeout(r, 1000));

  writeFileSync(gw.configPath, JSON.stringify({ ...withPath, buffer: { ...withPath.buffer, maxSizeBytes: 64 * 1024 * 1024 }, mqtt: { ...file.mqtt, acl: [{ topic: 'devices/%c/#', access: 'read' }] } }));
  process.kill(gw.pid!, 'SIGHUP');
  const applied = await gw.waitForEvent('config_live_applied', 10_000);
  assert.deepEqual((applied['fields'] as string[]).sort(), ['buffer.maxSizeBytes', 'mqtt.acl']);

  writeFileSync(gw.configPath, JSON.stringify({ ...withPath, buffer: { ...withPath.buffer, maxSizeBytes: 'huge' } }));
  process.kill(gw.pid!, 'SIGHUP');
  const rejected = await gw.waitForEvent('config_rejected', 10_000);
  assert.match(String(rejected['reason']), /buffer\.maxSizeBytes/);

  const summary = await sim;
  assert.equal(summary.reconnects, 0, 'no device reconnected');
  assert.ok(gw.running, 'still running after a bad file');
  const report = await auditTopic({ brokers: kafka.brokers, topic, dlqTopic, sim: summary, timeoutMs: 60_000 });
  assert.equal(report.missingAcked, 0);
  assert.ok(summary.acked > 0);
});
