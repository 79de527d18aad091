/**
 * Proves each MQTT resource bound against the real gateway process and real sockets (issue 9,
 * section 2): a packet declaring 256 MB is refused from its header (socket closed while the body
 * is still being sent, RSS flat); connections over the total and per-address caps are refused
 * and logged while a device from another address is served; keepalive 0 and too-large
 * keepalives get CONNACK 2; subscriptions over the cap get SUBACK 0x80; a persistent session's
 * offline queue stops at its cap; a retained message on a telemetry route is not stored; a
 * client over its QoS 2 in-flight cap is disconnected; a rejected publish with a 65 KB topic
 * yields one short log line per interval. Debian's mosquitto_pub is the independent device.
 */
import { test, type TestContext } from 'node:test';
import assert from 'node:assert/strict';
import { execFile } from 'node:child_process';
import { connect, type Socket } from 'node:net';
import { promisify } from 'node:util';
import mqtt from 'mqtt';
import mqttPacket from 'mqtt-packet';
import { sharedKafka } from '../kafka/shared-kafka.js';
import { GatewayProcess } from '../support/gateway-process.js';
import { uniqueTopics } from '../support/topics.js';
import { rssBytes } from '../support/buffer-db.js';
import { waitFor } from '../support/wait.js';

const MiB = 1024 * 1024;
const run = promisify(execFile);

async function startGateway(t: TestContext, limits: Record<string, unknown>): Promise<GatewayProcess> {
  const kafka = await sharedKafka();
  const { topic, dlqTopic } = uniqueTopics('limits');
  // Local apps here read anything (the limits, not the ACL, are under test).
  const gw = new GatewayProcess({ config: { mqtt: { limits, acl: [{ anonymous: true, topic: '#', access: 'read' }] }, kafka: { brokers: kafka.brokers, topic, dlqTopic }, log: { statsIntervalSecs: 0 } } });
  t.after(() => gw.close());
  await gw.start();
  return gw;
}

/** mosquitto_pub as a legitimate device: resolves with its exit code and output. */
async function mosquittoPub(port: number, clientId: string, extra: string[] = [], message = '{"seq":1}'): Promise<{ code: number; out: string }> {
  try {
    const r = await run('mosquitto_pub', ['-h', '127.0.0.1', '-p', String(port), '-i', clientId, '-q', '1', '-t', `devices/${clientId}/telemetry`, '-m', message, ...extra], { timeout: 15_000 });
    return { code: 0, out: r.stdout + r.stderr };
  } catch (err) {
    const e = err as { code?: number; stdout?: string; stderr?: string };
    return { code: typeof e.code === 'number' ? e.code : -1, out: `${e.stdout ?? ''}${e.stderr ?? ''}` };
  }
}

function rawSocket(t: TestContext, port: number, localAddress = '127.0.0.1'): Promise<Socket> {
  return new Promise((resolve, reject) => {
    const s = connect({ host: '127.0.0.1', port, localAddress }, () => resolve(s));
    s.once('error', reject);
    t.after(() => s.destroy());
  });
}

const closed = (s: Socket) => new Promise<void>((r) => (s.destroyed ? r() : s.once('close', () => r())));
const connectPacket = (clientId: string, keepalive = 60, clean = true) => mqttPacket.generate({ cmd: 'connect', protocolId: 'MQTT', protocolVersion: 4, clientId, clean, keepalive });

test('a CONNECT declaring 256 MB is refused from its header: socket closed mid-body, RSS flat', async (t) => {
  const gw = await startGateway(t, {});
  const before = rssBytes(gw.pid!)!;
  const s = await rawSocket(t, gw.port);
  s.on('error', () => {});
  // Fixed header of a CONNECT whose remaining length is 268,435,455 bytes, then body bytes for
  // as long as the socket is open (up to 64 MiB): without the guard the gateway buffers them all.
  s.write(Buffer.from([0x10, 0xff, 0xff, 0xff, 0x7f]));
  const chunk = Buffer.alloc(MiB, 0x41);
  let sent = 0;
  const wasClosed = closed(s);
  while (!s.destroyed && sent < 64 * MiB) {
    if (!s.write(chunk)) await Promise.race([new Promise((r) => s.once('drain', r)), wasClosed]);
    sent += MiB;
  }
  await wasClosed;
  const after = rssBytes(gw.pid!)!;
  t.diagnostic(`sent ${sent / MiB} MiB before the close; RSS ${(before / MiB).toFixed(0)} -> ${(after / MiB).toFixed(0)} MiB`);
  assert.ok(sent < 64 * MiB, 'the gateway closed the socket while the body was still coming');
  const line = await gw.waitForEvent('packet_too_large', 5000);
  assert.equal(line['declaredBytes'], 1 + 4 + 268_435_455);
  assert.ok(after - before < 32 * MiB, `RSS grew ${((after - before) / MiB).toFixed(1)} MiB`);
  assert.equal((await mosquittoPub(gw.port, 'dev-1')).code, 0, 'a legitimate device is served');
});

/** A raw MQTT connection from `localAddress`: resolves once CONNACK 0 arrived. */
async function heldConnection(t: TestContext, port: number, localAddress: string, clientId: string): Promise<Socket> {
  const s = await rawSocket(t, port, localAddress);
  s.write(connectPacket(clientId));
  await new Promise<void>((resolve, reject) => {
    s.once('data', (d: Buffer) => (d[0] === 0x20 && d[3] === 0 ? resolve() : reject(new Error(`no CONNACK 0: ${d.toString('hex')}`))));
    s.once('close', () => reject(new Error('closed before CONNACK')));
  });
  return s;
}

test('connections over maxConnectionsPerAddress and maxConnections are refused and logged; other sources served', async (t) => {
  // Loopback answers on all of 127.0.0.0/8 (Linux), so binding 127.0.0.2 etc. gives distinct sources.
  const gw = await startGateway(t, { maxConnections: 4, maxConnectionsPerAddress: 2 });
  await heldConnection(t, gw.port, '127.0.0.2', 'b-1');
  await heldConnection(t, gw.port, '127.0.0.2', 'b-2');
  const third = await rawSocket(t, gw.port, '127.0.0.2');
  await closed(third);
  const perAddr = await gw.waitForEvent('connection_refused', 5000, (l) => l['reason'] === 'maxConnectionsPerAddress');
  assert.equal(perAddr['address'], '127.0.0.2');
  assert.equal((await mosquittoPub(gw.port, 'dev-a')).code, 0, 'a device from 127.0.0.1 is served');

  const c1 = await heldConnection(t, gw.port, '127.0.0.3', 'c-1');
  const c2 = await heldConnection(t, gw.port, '127.0.0.3', 'c-2');
  const fifth = await rawSocket(t, gw.port, '127.0.0.4');
  await closed(fifth);
  await gw.waitForEvent('connection_refused', 5000, (l) => l['reason'] === 'maxConnections');
  assert.notEqual((await mosquittoPub(gw.port, 'dev-a')).code, 0, 'at maxConnections nobody else gets in');
  c1.destroy();
  c2.destroy();
  let served = false;
  for (let i = 0; i < 50 && !served; i++) {
    served = (await mosquittoPub(gw.port, 'dev-a')).code === 0;
    if (!served) await new Promise((r) => setTimeout(r, 100));
  }
  assert.ok(served, 'once connections close, devices are served again');
});

test('keepalive 0 and keepalive over maxKeepaliveSecs are refused with CONNACK 2 (mosquitto max_keepalive)', async (t) => {
  const gw = await startGateway(t, { maxKeepaliveSecs: 120 });
  const tooLong = await mosquittoPub(gw.port, 'dev-k1', ['-k', '300']);
  assert.notEqual(tooLong.code, 0);
  assert.match(tooLong.out, /identifier rejected/i);
  assert.equal((await mosquittoPub(gw.port, 'dev-k2', ['-k', '60'])).code, 0, 'keepalive within bounds is served');

  const s = await rawSocket(t, gw.port);
  const got: Buffer[] = [];
  s.on('data', (d: Buffer) => got.push(d));
  s.write(connectPacket('dev-k3', 0));
  await closed(s);
  assert.deepEqual([...Buffer.concat(got)], [0x20, 0x02, 0x00, 0x02], 'CONNACK return code 2, then close');
  // Both refusals come from 127.0.0.1 within warnIntervalMs: one line, for the first.
  const line = await gw.waitForEvent('connect_refused', 5000, (l) => l['keepaliveSecs'] === 300);
  assert.equal(line['reason'], 'keepalive');
});

test('subscriptions over maxSubscriptionsPerClient get SUBACK 0x80; held filters stay granted', async (t) => {
  const gw = await startGateway(t, { maxSubscriptionsPerClient: 3 });
  const c = await mqtt.connectAsync(gw.url, { clientId: 'app-1', reconnectPeriod: 0 });
  t.after(() => c.end(true));
  // MQTT.js rejects a SUBACK holding any 0x80; the packet is on the error.
  const suback = await c.subscribeAsync(['a/1', 'a/2', 'a/3', 'a/4', 'a/5'], { qos: 1 }).then(
    () => assert.fail('expected refusals'),
    (err: { packet?: { granted?: number[] } }) => err.packet,
  );
  assert.deepEqual(suback?.granted, [1, 1, 1, 128, 128]);
  const again = await c.subscribeAsync('a/2', { qos: 0 });
  assert.equal(again[0]!.qos, 0, 're-subscribing a held filter is allowed');
  await c.unsubscribeAsync('a/1');
  const after = await c.subscribeAsync('a/4', { qos: 1 });
  assert.equal(after[0]!.qos, 1, 'an unsubscribe frees a slot');
  await gw.waitForEvent('subscription_refused', 5000);
});

test('an offline persistent session queues at most maxQueuedMessages; newer ones are dropped and logged', async (t) => {
  const gw = await startGateway(t, { maxQueuedMessages: 10 });
  const app = await mqtt.connectAsync(gw.url, { clientId: 'app-q', clean: false, reconnectPeriod: 0 });
  await app.subscribeAsync('devices/+/telemetry', { qos: 1 });
  await app.endAsync();
  const dev = await mqtt.connectAsync(gw.url, { clientId: 'dev-q', reconnectPeriod: 0 });
  t.after(() => dev.end(true));
  for (let i = 1; i <= 30; i++) await dev.publishAsync('devices/dev-q/telemetry', JSON.stringify({ seq: i }), { qos: 1 });
  const full = await gw.waitForEvent('queue_full', 5000);
  assert.equal(full['clientId'], 'app-q');

  const seqs: number[] = [];
  const back = mqtt.connect(gw.url, { clientId: 'app-q', clean: false, reconnectPeriod: 0 });
  t.after(() => back.end(true));
  back.on('message', (_topic, payload) => seqs.push((JSON.parse(payload.toString()) as { seq: number }).seq));
  await new Promise<void>((r) => back.once('connect', () => r()));
  // A live marker after reconnecting: the queued messages are delivered before it.
  await dev.publishAsync('devices/dev-q/telemetry', JSON.stringify({ seq: 1000 }), { qos: 1 });
  // Generous: on a loaded 2-core machine the queued messages can take seconds to come back.
  await waitFor('the queue and the marker', () => seqs.includes(1000) && seqs.length >= 11, 30_000).catch((err: Error) => {
    const events = gw.logs.filter((l) => ['queue_full', 'client_disconnected', 'publish_rejected', 'auth_refused'].includes(String(l.event)));
    throw new Error(`${err.message}; received seqs ${JSON.stringify(seqs)}; gateway events ${JSON.stringify(events).slice(0, 2000)}`);
  });
  assert.deepEqual(seqs.filter((n) => n !== 1000), [1, 2, 3, 4, 5, 6, 7, 8, 9, 10], 'the oldest 10 were kept, newer ones dropped');
  assert.equal(seqs.length, 11);
});

test('a retained publish on a telemetry route is accepted but not stored as retained', async (t) => {
  const gw = await startGateway(t, {});
  assert.equal((await mosquittoPub(gw.port, 'dev-r', ['-r'])).code, 0, 'the retained publish is accepted');
  const app = await mqtt.connectAsync(gw.url, { clientId: 'app-r', reconnectPeriod: 0 });
  t.after(() => app.end(true));
  const got: Array<{ retain: boolean; payload: string }> = [];
  app.on('message', (_t, payload, packet) => got.push({ retain: packet.retain, payload: payload.toString() }));
  await app.subscribeAsync('devices/+/telemetry', { qos: 1 });
  assert.equal((await mosquittoPub(gw.port, 'dev-r', [], '{"seq":2}')).code, 0);
  await waitFor('the live message', () => got.some((m) => m.payload === '{"seq":2}'), 10_000);
  assert.deepEqual(got, [{ retain: false, payload: '{"seq":2}' }], 'no retained copy was delivered on subscribe');
});

test('a client over maxInflightInbound (PUBREL withheld) is disconnected; others served', async (t) => {
  const gw = await startGateway(t, { maxInflightInbound: 5 });
  const s = await rawSocket(t, gw.port);
  s.on('error', () => {});
  let pubrecs = 0;
  const parser = mqttPacket.parser();
  parser.on('packet', (p) => p.cmd === 'pubrec' && pubrecs++);
  s.on('data', (d: Buffer) => parser.parse(d));
  s.write(connectPacket('dev-q2'));
  for (let id = 1; id <= 5; id++) s.write(mqttPacket.generate({ cmd: 'publish', topic: 'devices/dev-q2/telemetry', payload: Buffer.from(`{"seq":${id}}`), qos: 2, messageId: id, retain: false, dup: false }));
  await waitFor('five PUBRECs', () => pubrecs === 5, 10_000);
  s.write(mqttPacket.generate({ cmd: 'publish', topic: 'devices/dev-q2/telemetry', payload: Buffer.from('{"seq":6}'), qos: 2, messageId: 6, retain: false, dup: false }));
  await closed(s);
  assert.equal(pubrecs, 5, 'the sixth was not acknowledged');
  assert.equal((await mosquittoPub(gw.port, 'dev-x', ['-q', '2'])).code, 0, 'another device completes QoS 2');
});

test('a rejected publish with a 65 KB topic logs one short line per interval', async (t) => {
  const gw = await startGateway(t, { warnIntervalMs: 60_000 });
  const topic = `devices/dev-l/${'x'.repeat(65_000)}`;
  for (let i = 0; i < 3; i++) {
    const c = await mqtt.connectAsync(gw.url, { clientId: 'dev-l', reconnectPeriod: 0 });
    c.on('error', () => {});
    c.publish(topic, '{}', { qos: 1 });
    await new Promise<void>((r) => c.once('close', () => r()));
    c.end(true);
  }
  // Another client's rejection is logged (another key); pino writes in order, so once it is
  // seen every line the three rejections could have produced has been written too.
  const other = await mqtt.connectAsync(gw.url, { clientId: 'dev-m', reconnectPeriod: 0 });
  other.on('error', () => {});
  other.publish('nowhere', '{}', { qos: 1 });
  t.after(() => other.end(true));
  await waitFor('the other rejection', () => gw.logs.some((l) => l['clientId'] === 'dev-m'), 10_000);
  const lines = gw.logs.filter((l) => l.msg === 'publish rejected; closing connection' && l['clientId'] === 'dev-l');
  assert.equal(lines.length, 1, 'three rejections, one line within the interval');
  const size = JSON.stringify(lines[0]).length;
  t.diagnostic(`log line: ${size} bytes`);
  assert.ok(size < 2048, `the line is ${size} bytes`);
  assert.equal(lines[0]!['code'], 'GW_ERR_INGEST_TOPIC_UNROUTED');
});
