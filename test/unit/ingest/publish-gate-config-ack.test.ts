/**
 * The publish gate with device configuration on: a device's answer on its own
 * devices/{id}/config/ack goes to the control room (never to the buffer) and is acknowledged only
 * after it was recorded; an answer for another device, a last will there, or a refused answer is
 * rejected; devices/{id}/config is the gateway's to write. Without the hooks nothing changes.
 */
import assert from 'node:assert/strict';
import { test } from 'node:test';
import type { Client, PublishPacket } from 'aedes';
import type { RecordCommitter } from '../../../gateway/src/buffer/buffer.js';
import { gatewayError, isGatewayError } from '../../../gateway/src/errors.js';
import { createAcl } from '../../../gateway/src/ingest/acl.js';
import { setClientIdentity } from '../../../gateway/src/ingest/client-identity.js';
import { createPublishGate } from '../../../gateway/src/ingest/publish-gate.js';

function client(id: string): Client {
  const c = { id } as unknown as Client;
  setClientIdentity(c, { id, method: 'anonymous', source: '127.0.0.1', acl: createAcl({ rules: [], sysTopics: false }).forPrincipal({ clientId: id, username: null }) });
  return c;
}

const packet = (topic: string, payload: string): PublishPacket => ({ cmd: 'publish', topic, payload: Buffer.from(payload), qos: 1, retain: false, dup: false, messageId: 1 }) as PublishPacket;

function gate(withHooks: boolean) {
  const submitted: string[] = [];
  const acks: Array<[string, string]> = [];
  let refuse: Error | null = null;
  const committer: RecordCommitter = { submit: (r, cb) => (submitted.push(r.topic), cb(null)) };
  const g = createPublishGate({
    routes: ['devices/{deviceId}/telemetry'],
    maxPayloadBytes: 1024,
    unrouted: 'reject',
    committer,
    warnLog: { warn: () => true, size: 0 },
    logFieldMaxChars: 64,
    deviceControl: withHooks
      ? {
          enabled: () => true,
          onConfigAck: (id, payload) => {
            if (refuse) throw refuse;
            acks.push([id, payload.toString()]);
          },
        }
      : undefined,
  });
  const run = (c: Client, p: PublishPacket) => new Promise<Error | null>((resolve) => g.authorizePublish(c, p, (e) => resolve(e ?? null)));
  return { g, run, submitted, acks, setRefuse: (e: Error | null) => (refuse = e) };
}

test('config acks: own id to the control room, never buffered; another id, a will or a refused ack rejected', async () => {
  const { g, run, submitted, acks, setRefuse } = gate(true);
  const a = client('dev-a');
  assert.equal(await run(a, packet('devices/dev-a/config/ack', '{"version":1,"state":"applied"}')), null);
  assert.deepEqual(acks, [['dev-a', '{"version":1,"state":"applied"}']]);
  assert.deepEqual(submitted, []);
  assert.equal(g.counters.configAcksTotal, 1);

  const c = client('dev-c');
  const forged = await run(c, packet('devices/dev-a/config/ack', '{"version":1,"state":"rejected"}'));
  assert.ok(isGatewayError(forged, 'GW_ERR_INGEST_IDENTITY'), String(forged));
  assert.equal(acks.length, 1);

  setRefuse(gatewayError('GW_ERR_DEVICE_CONFIG_ACK_INVALID', 'state must be "applied" or "rejected"'));
  assert.ok(isGatewayError(await run(a, packet('devices/dev-a/config/ack', '{}')), 'GW_ERR_DEVICE_CONFIG_ACK_INVALID'));
  setRefuse(new Error('disk I/O error'));
  assert.ok(isGatewayError(await run(a, packet('devices/dev-a/config/ack', '{}')), 'GW_ERR_CONTROL_STORE'), 'a store failure refuses (not acknowledged, the device retries)');
  setRefuse(null);

  const will = packet('devices/dev-a/config/ack', '{"version":1,"state":"applied"}');
  (a as unknown as { will: PublishPacket }).will = will;
  assert.ok(isGatewayError(await run(a, will), 'GW_ERR_INGEST_NOT_AUTHORIZED'));

  assert.ok(isGatewayError(await run(a, packet('devices/dev-a/config', '{"version":9,"config":{}}')), 'GW_ERR_INGEST_NOT_AUTHORIZED'), 'devices cannot write configs');
  assert.equal(await run(a, packet('devices/dev-a/telemetry', '{"seq":1}')), null);
  assert.deepEqual(submitted, ['devices/dev-a/telemetry']);
  assert.deepEqual(g.counters.rejectedTotal, { GW_ERR_INGEST_IDENTITY: 1, GW_ERR_DEVICE_CONFIG_ACK_INVALID: 1, GW_ERR_CONTROL_STORE: 1, GW_ERR_INGEST_NOT_AUTHORIZED: 2 });
});

test('without device configuration the ack topic is an ordinary unrouted topic', async () => {
  const { run, submitted } = gate(false);
  assert.ok(isGatewayError(await run(client('dev-a'), packet('devices/dev-a/config/ack', '{}')), 'GW_ERR_INGEST_TOPIC_UNROUTED'));
  assert.deepEqual(submitted, []);
});
