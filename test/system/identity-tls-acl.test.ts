/**
 * Proves a device can only speak as itself, and only where it may, against the real gateway
 * process with Debian's mosquitto clients as the independent peer and real Kafka:
 * - mTLS: the identity comes from the certificate; the client id must equal it; the record
 *   reaches Kafka keyed by that identity; an untrusted certificate or none is refused (CONNACK 5);
 * - a listener without anonymous refuses clients without credentials;
 * - the ACL: `#`, `devices/+/telemetry` and `$SYS/#` get SUBACK 0x80; a device's own config topic
 *   is granted and receives what a local operator publishes (unrouted: local);
 * - an anonymous client cannot take over an authenticated device's session;
 * - [MQTT-3.1.3-8]: empty client id with CleanSession=0 gets CONNACK 2;
 * - SIGHUP reloads the server certificate without dropping established connections.
 */
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { copyFileSync, readFileSync } from 'node:fs';
import { connect as netConnect } from 'node:net';
import { connect as tlsConnect } from 'node:tls';
import mqtt from 'mqtt';
import { sharedKafka } from '../kafka/shared-kafka.js';
import { GatewayProcess } from '../support/gateway-process.js';
import { createTestPki } from '../support/pki.js';
import { runMosquitto } from '../support/mosquitto-cli.js';
import { readEnvelopesUntil } from '../support/read-back.js';
import { uniqueTopics } from '../support/topics.js';
import { waitFor } from '../support/wait.js';

test('identity from certificates, listener policies, ACL and takeover rules', async (t) => {
  const kafka = await sharedKafka();
  const { topic, dlqTopic } = uniqueTopics('ident');
  await kafka.createTopics([topic, dlqTopic], 3);
  const pki = createTestPki();
  t.after(() => pki.close());
  const rogue = createTestPki('rogue');
  t.after(() => rogue.close());
  const server = pki.server();
  const dev1 = pki.client('dev-1');
  const untrusted = rogue.client('dev-1');

  const gw = new GatewayProcess({
    config: {
      mqtt: {
        listeners: [
          { host: '127.0.0.1', port: 0 }, // loopback: anonymous by default
          { host: '127.0.0.1', port: 0, allowAnonymous: false }, // stands in for a LAN listener
          { host: '127.0.0.1', port: 0, allowAnonymous: false, tls: { certFile: server.cert, keyFile: server.key, caFile: pki.ca.cert, clientCert: 'optional' } },
        ],
        unrouted: 'local',
        acl: [
          { topic: 'devices/%c/config', access: 'read' },
          { anonymous: true, topic: 'devices/+/config', access: 'write' },
        ],
      },
      kafka: { brokers: kafka.brokers, topic, dlqTopic },
    },
  });
  t.after(() => gw.close());
  await gw.start();
  await waitFor('three listeners', () => gw.ports.length === 3 || null, 10_000);
  const [anonPort, lanPort, tlsPort] = gw.ports.map(String) as [string, string, string];
  const tlsArgs = (files: { cert: string; key: string } | null) => ['-h', '127.0.0.1', '-p', tlsPort, '--cafile', pki.ca.cert, ...(files ? ['--cert', files.cert, '--key', files.key] : [])];

  // mTLS: publish as dev-1; the record is keyed by the certificate's identity.
  const ok = await runMosquitto('mosquitto_pub', [...tlsArgs(dev1), '-i', 'dev-1', '-q', '1', '-t', 'devices/dev-1/telemetry', '-m', '{"seq":1,"via":"mtls"}']);
  assert.equal(ok.code, 0, ok.stderr);

  // The same certificate under another client id, an untrusted certificate, or none: refused.
  const spoof = await runMosquitto('mosquitto_pub', [...tlsArgs(dev1), '-i', 'dev-2', '-q', '1', '-t', 'devices/dev-2/telemetry', '-m', '{"seq":1,"forged":true}']);
  assert.notEqual(spoof.code, 0);
  assert.match(spoof.stderr, /not authori[sz]ed/i);
  const rogueRes = await runMosquitto('mosquitto_pub', [...tlsArgs(untrusted), '-i', 'dev-1', '-q', '1', '-t', 'devices/dev-1/telemetry', '-m', '{"seq":2,"forged":true}']);
  assert.notEqual(rogueRes.code, 0);
  const noCert = await runMosquitto('mosquitto_pub', [...tlsArgs(null), '-i', 'dev-1', '-q', '1', '-t', 'devices/dev-1/telemetry', '-m', '{"seq":3,"forged":true}']);
  assert.notEqual(noCert.code, 0);
  assert.match(noCert.stderr, /not authori[sz]ed/i);

  // A listener without anonymous: no credentials, no entry.
  const lan = await runMosquitto('mosquitto_sub', ['-h', '127.0.0.1', '-p', lanPort, '-i', 'snoop', '-t', '#', '-W', '3']);
  assert.notEqual(lan.code, 0);
  assert.match(lan.stderr, /not authori[sz]ed/i);

  // ACL on the anonymous loopback listener: every snooping filter is denied (SUBACK 0x80).
  for (const filter of ['#', 'devices/+/telemetry', '$SYS/#', 'devices/dev-1/config']) {
    const r = await runMosquitto('mosquitto_sub', ['-h', '127.0.0.1', '-p', anonPort, '-i', 'snoop', '-t', filter, '-W', '3']);
    assert.match(r.stderr, /All subscription requests were denied/, `${filter}: ${r.stderr}`);
  }

  // dev-1 (mTLS, MQTT.js) subscribes to its own config topic and receives what a local operator
  // publishes with mosquitto_pub; while dev-1 holds its session, an anonymous local client cannot
  // take it over.
  const keeper = await mqtt.connectAsync(`mqtts://127.0.0.1:${tlsPort}`, { clientId: 'dev-1', ca: readFileSync(pki.ca.cert), cert: readFileSync(dev1.cert), key: readFileSync(dev1.key), reconnectPeriod: 0 });
  t.after(() => keeper.endAsync(true));
  const granted = await keeper.subscribeAsync('devices/dev-1/config', { qos: 1 });
  assert.equal(granted[0]?.qos, 1);
  const configs: string[] = [];
  keeper.on('message', (tp, payload) => configs.push(`${tp} ${payload.toString()}`));
  const takeover = await runMosquitto('mosquitto_pub', ['-h', '127.0.0.1', '-p', anonPort, '-i', 'dev-1', '-q', '1', '-t', 'devices/dev-1/telemetry', '-m', '{"seq":4,"forged":true}']);
  assert.notEqual(takeover.code, 0);
  assert.match(takeover.stderr, /not authori[sz]ed/i);
  const push = await runMosquitto('mosquitto_pub', ['-h', '127.0.0.1', '-p', anonPort, '-i', 'operator', '-q', '1', '-t', 'devices/dev-1/config', '-m', '{"rateHz":5}']);
  assert.equal(push.code, 0, push.stderr);
  await waitFor('config delivered', () => configs.length > 0 || null, 10_000);
  assert.deepEqual(configs, ['devices/dev-1/config {"rateHz":5}']);
  assert.ok(keeper.connected, 'the takeover attempt did not disconnect dev-1');
  // The operator may not write to another kind of topic.
  const denied = await runMosquitto('mosquitto_pub', ['-h', '127.0.0.1', '-p', anonPort, '-i', 'operator', '-q', '1', '-t', 'devices/dev-1/commands/reboot', '-m', 'x']);
  assert.notEqual(denied.code, 0);

  // [MQTT-3.1.3-8]: zero-length client id with CleanSession=0 -> CONNACK 2.
  const connack = await new Promise<Buffer>((resolve, reject) => {
    const s = netConnect(Number(anonPort), '127.0.0.1', () => s.write(Buffer.from('100c00044d5154540400003c0000', 'hex')));
    s.once('data', (d) => {
      resolve(d);
      s.destroy();
    });
    s.once('error', reject);
  });
  assert.equal(connack.toString('hex'), '20020002');

  // Kafka holds exactly the authenticated record for dev-1, keyed dev-1; no forged one.
  const records = await readEnvelopesUntil({ brokers: kafka.brokers, topic }, (rs) => rs.length >= 1);
  assert.deepEqual(
    records.map((r) => [r.key, r.env.deviceId, Buffer.from(r.env.payload as Buffer).toString()]),
    [['dev-1', 'dev-1', '{"seq":1,"via":"mtls"}']],
  );

  // SIGHUP: a new server certificate for new handshakes; an established connection keeps working.
  const serialOf = () =>
    new Promise<string>((resolve, reject) => {
      const s = tlsConnect({ host: '127.0.0.1', port: Number(tlsPort), ca: readFileSync(pki.ca.cert), servername: 'localhost' }, () => {
        resolve(s.getPeerCertificate().serialNumber);
        s.destroy();
      });
      s.once('error', reject);
    });
  const before = await serialOf();
  const renewed = pki.server('server-renewed');
  copyFileSync(renewed.cert, server.cert);
  copyFileSync(renewed.key, server.key);
  process.kill(gw.pid!, 'SIGHUP');
  await gw.waitForEvent('tls_reloaded', 10_000);
  const after = await serialOf();
  assert.notEqual(after, before, 'new handshakes see the renewed certificate');
  await keeper.publishAsync('devices/dev-1/telemetry', '{"seq":5,"after":"reload"}', { qos: 1 });
  assert.ok(keeper.connected, 'the connection made before the reload is still up');
});

