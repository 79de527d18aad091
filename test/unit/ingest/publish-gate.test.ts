/**
 * The publish gate in a real aedes broker, with real MQTT.js clients over a local socket: a QoS 1
 * publish on a device's own route is PUBACKed only after the buffer committed it (a commit that
 * fails is never acknowledged); another device's route, an oversized payload and an unrouted
 * topic are rejected with their code and reason and the connection is closed; with
 * `unrouted: local` a publish the ACL lets write is local broker traffic, never buffered.
 */
import assert from 'node:assert/strict';
import net from 'node:net';
import { test, type TestContext } from 'node:test';
import { Aedes } from 'aedes';
import mqtt, { type MqttClient } from 'mqtt';
import type { CommitCallback, RecordCommitter } from '../../../gateway/src/buffer/buffer.js';
import type { AclRuleConfig } from '../../../gateway/src/config/acl-schema.js';
import { gatewayError } from '../../../gateway/src/errors.js';
import { createAcl } from '../../../gateway/src/ingest/acl.js';
import { setClientIdentity } from '../../../gateway/src/ingest/client-identity.js';
import { createPublishGate, type PublishGateOptions } from '../../../gateway/src/ingest/publish-gate.js';
import type { IngestRecord } from '../../../gateway/src/record.js';
import { sleep, waitFor } from '../../support/wait.js';

/** Holds each submitted record's callback until the test commits (or fails) it. */
class HeldCommitter implements RecordCommitter {
  readonly held: Array<{ record: IngestRecord; cb: CommitCallback }> = [];
  submit(record: IngestRecord, cb: CommitCallback): void {
    this.held.push({ record, cb });
  }
  commitAll(): void {
    for (const h of this.held.splice(0)) h.cb(null);
  }
  failAll(): void {
    for (const h of this.held.splice(0)) h.cb(gatewayError('GW_ERR_BUFFER_WRITE', 'SQLITE_IOERR disk I/O error'));
  }
}

interface Rig {
  committer: HeldCommitter;
  gate: ReturnType<typeof createPublishGate>;
  warnings: Array<Record<string, unknown>>;
  connect(clientId: string): Promise<MqttClient>;
}

async function rig(t: TestContext, over: Partial<PublishGateOptions> = {}, acl: AclRuleConfig[] = []): Promise<Rig> {
  const committer = new HeldCommitter();
  const warnings: Array<Record<string, unknown>> = [];
  const gate = createPublishGate({
    routes: ['devices/{deviceId}/telemetry'],
    maxPayloadBytes: 64,
    unrouted: 'reject',
    committer,
    warnLog: { warn: (_key, fields) => (warnings.push(fields), true), size: 0 },
    logFieldMaxChars: 64,
    ...over,
  });
  const rules = createAcl({ rules: acl, sysTopics: false });
  const broker = await Aedes.createBroker({
    // Anonymous, identity = client id (what authenticate.ts admits on a loopback listener).
    authenticate: (client, _username, _password, cb) => {
      setClientIdentity(client, { id: client.id, method: 'anonymous', source: '127.0.0.1', acl: rules.forPrincipal({ clientId: client.id, username: null }) });
      cb(null, true);
    },
    authorizePublish: gate.authorizePublish,
  });
  const server = net.createServer((socket) => broker.handle(socket));
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  const port = (server.address() as net.AddressInfo).port;
  const clients: MqttClient[] = [];
  t.after(async () => {
    await Promise.all(clients.map((c) => c.endAsync(true)));
    await new Promise<void>((resolve) => broker.close(() => resolve()));
    await new Promise<void>((resolve) => server.close(() => resolve()));
  });
  return {
    committer,
    gate,
    warnings,
    async connect(clientId) {
      const c = await mqtt.connectAsync(`mqtt://127.0.0.1:${port}`, { clientId, reconnectPeriod: 0, protocolVersion: 4 });
      clients.push(c);
      return c;
    },
  };
}

/** Resolves with the PUBACK (true) or when the broker closes the connection (false). */
function publishOutcome(c: MqttClient, topic: string, payload: string): Promise<boolean> {
  return new Promise((resolve) => {
    c.once('close', () => resolve(false));
    c.publish(topic, payload, { qos: 1 }, (err) => resolve(!err));
  });
}

test('a routed QoS 1 publish is PUBACKed only after its commit, with the record as the device sent it', async (t) => {
  const r = await rig(t);
  const c = await r.connect('dev-a');
  let acked = false;
  const done = c.publishAsync('devices/dev-a/telemetry', '{"seq":1}', { qos: 1 }).then(() => (acked = true));
  await waitFor('record submitted', () => r.committer.held.length === 1, 5000, 5);
  await sleep(50);
  assert.equal(acked, false, 'no PUBACK before the commit');
  const { record } = r.committer.held[0]!;
  assert.equal(record.deviceId, 'dev-a');
  assert.equal(record.topic, 'devices/dev-a/telemetry');
  assert.equal(record.qos, 1);
  assert.equal(record.payload.toString(), '{"seq":1}');
  r.committer.commitAll();
  await done;
  assert.equal(acked, true);
  assert.equal(r.gate.counters.acceptedTotal, 1);
  assert.deepEqual(r.gate.counters.rejectedTotal, {});
});

test('a commit that fails is not acknowledged: the connection is closed (the device sends it again after reconnecting)', async (t) => {
  const r = await rig(t);
  const c = await r.connect('dev-a');
  const outcome = publishOutcome(c, 'devices/dev-a/telemetry', '{"seq":1}');
  await waitFor('record submitted', () => r.committer.held.length === 1, 5000, 5);
  r.committer.failAll();
  assert.equal(await outcome, false, 'closed without PUBACK');
});

test('rejections carry their code and reason, close the connection, and are counted', async (t) => {
  const r = await rig(t);
  const cases: Array<[string, string, string, RegExp]> = [
    ['dev-a', 'devices/dev-b/telemetry', '{}', /"dev-a" published as device "dev-b"/],
    ['dev-c', 'devices/dev-c/telemetry', 'x'.repeat(65), /65 > 64 bytes/],
    ['dev-d', 'elsewhere/dev-d', '{}', /"elsewhere\/dev-d"/],
  ];
  for (const [clientId, topic, payload] of cases) {
    const c = await r.connect(clientId);
    assert.equal(await publishOutcome(c, topic, payload), false, `${topic}: connection closed without PUBACK`);
  }
  assert.equal(r.committer.held.length, 0, 'nothing reached the buffer');
  assert.deepEqual(r.gate.counters.rejectedTotal, { GW_ERR_INGEST_IDENTITY: 1, GW_ERR_INGEST_PAYLOAD_TOO_LARGE: 1, GW_ERR_INGEST_TOPIC_UNROUTED: 1 });
  assert.deepEqual(
    r.warnings.map((w) => [w['event'], w['code'], w['clientId']]),
    [
      ['publish_rejected', 'GW_ERR_INGEST_IDENTITY', 'dev-a'],
      ['publish_rejected', 'GW_ERR_INGEST_PAYLOAD_TOO_LARGE', 'dev-c'],
      ['publish_rejected', 'GW_ERR_INGEST_TOPIC_UNROUTED', 'dev-d'],
    ],
  );
  cases.forEach(([, , , reason], i) => assert.match(String(r.warnings[i]!['reason']), reason));
});

test('unrouted: local lets the ACL decide; granted publishes reach local subscribers and are never buffered', async (t) => {
  const r = await rig(t, { unrouted: 'local' }, [
    { topic: 'local/#', access: 'readwrite' },
  ]);
  const listener = await r.connect('panel');
  await listener.subscribeAsync('local/#', { qos: 1 });
  const got = new Promise<[string, string]>((resolve) => listener.once('message', (topic, payload) => resolve([topic, payload.toString()])));
  const app = await r.connect('app');
  assert.equal(await publishOutcome(app, 'local/lights', 'on'), true, 'PUBACKed at once: no commit involved');
  assert.deepEqual(await got, ['local/lights', 'on']);
  assert.equal(r.gate.counters.localTotal, 1);
  assert.equal(r.committer.held.length, 0);

  const other = await r.connect('intruder');
  assert.equal(await publishOutcome(other, 'other/topic', 'x'), false, 'no ACL write grant: closed');
  assert.deepEqual(r.gate.counters.rejectedTotal, { GW_ERR_INGEST_NOT_AUTHORIZED: 1 });
});

test('live reconfigure: new routes and unrouted policy apply to the next publish', async (t) => {
  const r = await rig(t);
  r.gate.reconfigure({ routes: ['sites/{deviceId}/reading'], unrouted: 'reject' });
  const c = await r.connect('dev-a');
  const done = c.publishAsync('sites/dev-a/reading', '{}', { qos: 1 });
  await waitFor('record submitted', () => r.committer.held.length === 1, 5000, 5);
  r.committer.commitAll();
  await done;
  const old = await r.connect('dev-b');
  assert.equal(await publishOutcome(old, 'devices/dev-b/telemetry', '{}'), false, 'the old route is gone');
  assert.deepEqual(r.gate.counters.rejectedTotal, { GW_ERR_INGEST_TOPIC_UNROUTED: 1 });
});
