/**
 * Proves device configuration end to end on the real gateway process, real Kafka and
 * firmware-sim devices (issue 10):
 * (a) a config pushed to the compacted device-config topic reaches an online device as a retained
 *     QoS 1 message, the device applies it and answers, the status topic shows "applied", and its
 *     telemetry read back from Kafka carries the new fields at the new rate (1 s -> 100 ms);
 * (b) a device that was offline when its config was pushed gets it when it connects after a
 *     gateway restart, and a device first seen here only after its record was read gets it too
 *     (the gateway re-reads the topic for it);
 * (c) another device cannot subscribe to that config (SUBACK 0x80), receives nothing retained,
 *     and its forged ack for the first device is refused; the recorded state does not move;
 * (d) after the gateway restarted, the same version is delivered again (retained) but not as new:
 *     the device answers without re-applying, the database keeps acked_version and no new status
 *     record is written.
 */
import { test, type TestContext } from 'node:test';
import assert from 'node:assert/strict';
import { randomBytes } from 'node:crypto';
import Database from 'better-sqlite3';
import { Partitioners, type Consumer } from 'kafkajs';
import mqtt from 'mqtt';
import { runSimulation, type SimSummary } from '../../firmware-sim/src/load-generator.js';
import { quietKafka } from '../kafka/create-topics.js';
import { freePorts } from '../kafka/free-port.js';
import { sharedKafka } from '../kafka/shared-kafka.js';
import { waitFor } from '../support/wait.js';
import { GatewayProcess } from '../support/gateway-process.js';
import { readEnvelopesUntil } from '../support/read-back.js';
import { uniqueTopics } from '../support/topics.js';

interface Status {
  deviceId: string;
  gatewayId: string;
  desiredVersion: number | null;
  deliveredVersion: number | null;
  ackedVersion: number | null;
  state: string;
  reason?: string;
}

const A = 'cfg-a-00001';
const B = 'cfg-b-00001';
const D = 'cfg-d-00001';

/** One simulated device with its own prefix, publishing until stopped (stop is idempotent). */
function device(t: TestContext, url: string, prefix: string, ratePerDevice: number): { stop(): Promise<SimSummary> } {
  const abort = new AbortController();
  const run = runSimulation({ url, devices: 1, deviceIdPrefix: prefix, qos: 1, ratePerDevice, reconnectBaseMs: 100, reconnectMaxMs: 1000, drainTimeoutMs: 5000 }, { signal: abort.signal });
  const stop = () => {
    abort.abort();
    return run;
  };
  t.after(stop);
  return { stop };
}

function dbRow(path: string, id: string): Record<string, unknown> | undefined {
  const db = new Database(path, { readonly: true, fileMustExist: true });
  try {
    return db.prepare('SELECT * FROM device_config WHERE device_id = ?').get(id) as Record<string, unknown> | undefined;
  } finally {
    db.close();
  }
}

function seen(path: string, id: string): boolean {
  const db = new Database(path, { readonly: true, fileMustExist: true });
  try {
    return db.prepare('SELECT 1 FROM devices_seen WHERE device_id = ?').get(id) !== undefined;
  } catch {
    return false;
  } finally {
    db.close();
  }
}

/** Median gap between consecutive device timestamps. */
function medianGapMs(ts: number[]): number {
  const gaps = ts
    .slice(1)
    .map((t, i) => t - ts[i]!)
    .sort((x, y) => x - y);
  return gaps[Math.floor(gaps.length / 2)] ?? Number.NaN;
}

test('device configuration: delivered retained, applied, acknowledged, caught up offline and across restarts', async (t) => {
  const kafka = await sharedKafka();
  const { topic, dlqTopic } = uniqueTopics('devcfg');
  const suffix = randomBytes(4).toString('hex');
  const configTopic = `edge.device.config.${suffix}`;
  const statusTopic = `edge.device.status.${suffix}`;
  await kafka.createTopics([topic, dlqTopic], 3);
  const k = quietKafka(kafka.brokers, 'eg-devcfg-test');
  const admin = k.admin();
  await admin.connect();
  await admin.createTopics({
    topics: [configTopic, statusTopic].map((name) => ({ topic: name, numPartitions: 3, replicationFactor: 1, configEntries: [{ name: 'cleanup.policy', value: 'compact' }] })),
    waitForLeaders: true,
  });
  await admin.disconnect();

  // The cloud side: a producer of desired configs and a reader of the status topic.
  const producer = k.producer({ createPartitioner: Partitioners.DefaultPartitioner });
  await producer.connect();
  t.after(() => producer.disconnect());
  const push = (key: string, version: number, config: object) => producer.send({ topic: configTopic, acks: -1, messages: [{ key, value: JSON.stringify({ version, config }) }] });
  const statuses: Status[] = [];
  const consumer: Consumer = k.consumer({ groupId: `devcfg-test-${suffix}` });
  await consumer.connect();
  t.after(() => consumer.disconnect());
  await consumer.subscribe({ topic: statusTopic, fromBeginning: true });
  await consumer.run({ eachMessage: async ({ message }) => void statuses.push(JSON.parse(message.value!.toString()) as Status) });
  const latest = (id: string): Status | undefined => statuses.filter((s) => s.deviceId === id).at(-1);
  const statusIs = (id: string, state: string, version: number) => () => {
    const s = latest(id);
    return s !== undefined && s.state === state && s.desiredVersion === version ? s : null;
  };

  // A fixed port: the devices reconnect to the same address after the restart.
  const [port] = await freePorts(1);
  const gw = new GatewayProcess({
    config: {
      gatewayId: 'gw-devcfg',
      mqtt: { port },
      kafka: { brokers: kafka.brokers, topic, dlqTopic },
      control: { deviceConfig: { enabled: true, topic: configTopic, statusTopic } },
      log: { statsIntervalSecs: 0 },
    },
  });
  t.after(() => gw.close());
  await gw.start();
  await gw.waitForEvent('device_config_start', 10_000);

  // (a) A publishes once a second; B connects once and goes offline; D has never connected.
  const a = device(t, gw.url, 'cfg-a-', 1);
  await readEnvelopesUntil({ brokers: kafka.brokers, topic, timeoutMs: 30_000 }, (rs) => rs.filter((r) => r.key === A).length >= 4);
  const bOnce = await runSimulation({ url: gw.url, devices: 1, deviceIdPrefix: 'cfg-b-', qos: 1, messagesPerDevice: 1 });
  assert.equal(bOnce.acked, 1);
  await waitFor('A and B recorded as seen', () => seen(gw.dbPath, A) && seen(gw.dbPath, B), 10_000);

  await push(A, 1, { publishIntervalMs: 100, fields: { fw: '2' } });
  await push(B, 1, { publishIntervalMs: 200, fields: { fw: 'b1' } });
  await push(D, 1, { publishIntervalMs: 250, fields: { fw: 'd1' } });
  const appliedA = await waitFor('A applied v1 in the status topic', statusIs(A, 'applied', 1), 30_000);
  assert.deepEqual({ ...appliedA, at: undefined }, { deviceId: A, gatewayId: 'gw-devcfg', desiredVersion: 1, deliveredVersion: 1, ackedVersion: 1, state: 'applied', at: undefined });
  // B is offline: its config is stored and retained, not acknowledged. D is nobody's yet.
  await waitFor('B delivered while offline', statusIs(B, 'delivered', 1), 30_000);
  assert.equal(latest(D), undefined, 'a device never seen here is not this gateway\'s');
  assert.equal(dbRow(gw.dbPath, D), undefined);

  // (c) C may not read A's config, and cannot answer for A.
  const c = await mqtt.connectAsync(gw.url, { clientId: 'cfg-c-00001', reconnectPeriod: 0, clean: true });
  t.after(() => c.endAsync(true));
  const cSaw: string[] = [];
  c.on('message', (tp) => cSaw.push(tp));
  // MQTT.js rejects a SUBACK whose only return code is 0x80 (failure), with the packet.
  const denied = await c.subscribeAsync(`devices/${A}/config`, { qos: 1 }).then(
    (g) => g.map((x) => x.qos),
    (err: { packet?: { granted?: number[] } }) => err.packet?.granted,
  );
  assert.deepEqual(denied, [0x80], 'SUBACK 0x80 for another device\'s config');
  const own = await c.subscribeAsync('devices/cfg-c-00001/config', { qos: 1 });
  assert.equal(own[0]?.qos, 1, 'its own config topic is granted');
  const closed = new Promise<void>((resolve) => c.once('close', () => resolve()));
  c.publishAsync(`devices/${A}/config/ack`, JSON.stringify({ version: 1, state: 'rejected', reason: 'forged' }), { qos: 1 }).catch(() => undefined);
  await closed;
  const forged = await gw.waitForEvent('publish_rejected', 5000, (l) => l['code'] === 'GW_ERR_INGEST_IDENTITY');
  assert.equal(forged['clientId'], 'cfg-c-00001');
  assert.deepEqual(cSaw, [], 'nothing retained reached C');

  // D connects for the first time, after its record was read and skipped as not ours.
  const d = device(t, gw.url, 'cfg-d-', 1);
  await waitFor('D, first seen after its push, applied', statusIs(D, 'applied', 1), 30_000);
  const reread = await gw.waitForEvent('device_config_reread', 1000);
  assert.equal(reread['deviceId'], D);

  // A runs at the new period for a while; then the gateway restarts under it.
  await new Promise((r) => setTimeout(r, 3000));
  const aRow = dbRow(gw.dbPath, A)!;
  assert.deepEqual([aRow['acked_version'], aRow['ack_state'], aRow['delivered_version']], [1, 'applied', 1], 'the forged ack changed nothing');
  const aStatusesBefore = statuses.filter((s) => s.deviceId === A).length;

  // (d) + (b): restart; A and D reconnect and see v1 again; B connects for the first time since.
  assert.equal(await gw.stop(), 0);
  await gw.start();
  const b = device(t, gw.url, 'cfg-b-', 1);
  const bStatus = await waitFor('B applied after the restart', statusIs(B, 'applied', 1), 30_000);
  assert.equal(bStatus.ackedVersion, 1);
  await new Promise((r) => setTimeout(r, 3000));
  const [aSum, bSum, dSum] = await Promise.all([a.stop(), b.stop(), d.stop()]);
  const aDev = aSum.perDevice[A]!;
  assert.equal(aDev.reconnects >= 1, true, 'A reconnected across the restart');
  assert.deepEqual([aDev.configVersion, aDev.configApplied], [1, 1], 'A applied v1 once, not again after the restart');
  assert.ok(aDev.configAcks >= 2, `A answered v1 again after the restart (acks sent: ${aDev.configAcks})`);
  assert.deepEqual([bSum.perDevice[B]!.configVersion, dSum.perDevice[D]!.configVersion, dSum.perDevice[D]!.configApplied], [1, 1, 1]);
  assert.equal(statuses.filter((s) => s.deviceId === A).length, aStatusesBefore, 'no new status record for A: nothing changed');
  const aAfter = dbRow(gw.dbPath, A)!;
  assert.deepEqual([aAfter['acked_version'], aAfter['ack_state'], aAfter['revision']], [1, 'applied', aRow['revision']]);
  assert.equal(aAfter['status_revision'], aAfter['revision'], 'the status topic is up to date');
  assert.equal(latest(A)?.state, 'applied');

  // The telemetry in Kafka: before the config, no fw and ~1 s apart; after it, fw "2" and ~100 ms.
  const records = await readEnvelopesUntil({ brokers: kafka.brokers, topic, timeoutMs: 30_000 }, (rs) => rs.filter((r) => r.key === A).length >= aDev.acked);
  const bodies = (id: string) =>
    records
      .filter((r) => r.key === id)
      .map((r) => JSON.parse(Buffer.from(r.env.payload as Buffer).toString()) as { seq: number; ts: number; fw?: string })
      .sort((x, y) => x.seq - y.seq);
  const aBodies = bodies(A);
  const before = aBodies.filter((m) => m.fw === undefined);
  const after = aBodies.filter((m) => m.fw === '2');
  assert.equal(before.length + after.length, aBodies.length, 'every record is either before or after the config');
  assert.ok(before.every((m) => m.seq < after[0]!.seq), 'the fields changed once, at one point in the sequence');
  const gapBefore = medianGapMs(before.map((m) => m.ts));
  const gapAfter = medianGapMs(after.map((m) => m.ts));
  t.diagnostic(`A: ${before.length} records before the config (median gap ${gapBefore} ms), ${after.length} after (median gap ${gapAfter} ms)`);
  assert.ok(before.length >= 4 && gapBefore > 700, `before: ${before.length} records, median gap ${gapBefore} ms (1 s period)`);
  assert.ok(after.length >= 40 && gapAfter < 300, `after: ${after.length} records, median gap ${gapAfter} ms (100 ms period)`);
  assert.ok(bodies(B).some((m) => m.fw === 'b1') && bodies(D).some((m) => m.fw === 'd1'), 'B and D publish with their configured fields');
});
