/**
 * Proves per-device credentials end to end, with mosquitto_pub as the independent client:
 * a device provisioned with `edge-gateway devices add` (before the first start) logs in with
 * username = device id and its secret on a listener without anonymous, and its record reaches
 * Kafka keyed by that identity; a wrong secret gets CONNACK 4, a username that is not the client
 * id CONNACK 5, and an anonymous loopback client cannot use the provisioned id.
 */
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { execFileSync } from 'node:child_process';
import { join, resolve } from 'node:path';
import { fileURLToPath } from 'node:url';
import { sharedKafka } from '../kafka/shared-kafka.js';
import { GatewayProcess } from '../support/gateway-process.js';
import { runMosquitto } from '../support/mosquitto-cli.js';
import { readEnvelopesUntil } from '../support/read-back.js';
import { uniqueTopics } from '../support/topics.js';
import { waitFor } from '../support/wait.js';

const mainJs = join(resolve(fileURLToPath(new URL('../../../', import.meta.url))), 'build/gateway/src/main.js');

test('password login: provisioned device in, wrong secret and borrowed ids out', async (t) => {
  const kafka = await sharedKafka();
  const { topic, dlqTopic } = uniqueTopics('pwd');
  await kafka.createTopics([topic, dlqTopic], 3);
  const gw = new GatewayProcess({
    config: {
      mqtt: { listeners: [{ host: '127.0.0.1', port: 0 }, { host: '127.0.0.1', port: 0, allowAnonymous: false }] },
      kafka: { brokers: kafka.brokers, topic, dlqTopic },
    },
  });
  t.after(() => gw.close());
  const secret = execFileSync(process.execPath, [mainJs, 'devices', 'add', 'dev-7', '--db', gw.dbPath], { encoding: 'utf8' }).trim();
  assert.match(secret, /^[A-Za-z0-9_-]{20,}$/);
  await gw.start();
  await waitFor('two listeners', () => gw.ports.length === 2 || null, 10_000);
  const [anonPort, lanPort] = gw.ports.map(String) as [string, string];
  const lan = ['-h', '127.0.0.1', '-p', lanPort, '-q', '1'];

  const ok = await runMosquitto('mosquitto_pub', [...lan, '-i', 'dev-7', '-u', 'dev-7', '-P', secret, '-t', 'devices/dev-7/telemetry', '-m', '{"seq":1,"via":"password"}']);
  assert.equal(ok.code, 0, ok.stderr);
  const wrong = await runMosquitto('mosquitto_pub', [...lan, '-i', 'dev-7', '-u', 'dev-7', '-P', `${secret}x`, '-t', 'devices/dev-7/telemetry', '-m', '{"seq":2,"forged":true}']);
  assert.notEqual(wrong.code, 0);
  assert.match(wrong.stderr, /bad user name or password/i);
  const borrowed = await runMosquitto('mosquitto_pub', [...lan, '-i', 'dev-8', '-u', 'dev-7', '-P', secret, '-t', 'devices/dev-8/telemetry', '-m', '{"seq":3,"forged":true}']);
  assert.notEqual(borrowed.code, 0);
  assert.match(borrowed.stderr, /not authori[sz]ed/i);
  const anon = await runMosquitto('mosquitto_pub', ['-h', '127.0.0.1', '-p', anonPort, '-q', '1', '-i', 'dev-7', '-t', 'devices/dev-7/telemetry', '-m', '{"seq":4,"forged":true}']);
  assert.notEqual(anon.code, 0);
  assert.match(anon.stderr, /not authori[sz]ed/i);

  const records = await readEnvelopesUntil({ brokers: kafka.brokers, topic }, (rs) => rs.length >= 1);
  assert.deepEqual(
    records.map((r) => [r.key, Buffer.from(r.env.payload as Buffer).toString()]),
    [['dev-7', '{"seq":1,"via":"password"}']],
  );
  const refusals = gw.logs.filter((l) => l.event === 'auth_refused').map((l) => l['reason']);
  assert.ok(refusals.includes('bad_credentials') && refusals.includes('identity_mismatch'), JSON.stringify(refusals));
  assert.ok(!JSON.stringify(gw.logs).includes(secret), 'the secret never appears in the log');
});
