/**
 * The simulated firmware's side of configuration: parsing and validation, the answer for each
 * case (applied, rejected with a reason, the same version answered again but not re-applied, an
 * older version refused), and, against an in-process aedes broker, a device that receives a
 * retained config, answers on its ack topic, and then publishes at the new rate with the new
 * fields.
 */
import assert from 'node:assert/strict';
import net from 'node:net';
import { test } from 'node:test';
import { Aedes } from 'aedes';
import { DeviceConfigState, extraFieldsJson, parseDeviceConfig } from '../../../firmware-sim/src/device-config.js';
import { runSimulation } from '../../../firmware-sim/src/load-generator.js';
import { parseCliArgs } from '../../../firmware-sim/src/cli-args.js';

const msg = (version: unknown, config: unknown) => JSON.stringify({ version, config });

test('parsing: what the firmware understands, and why it refuses', () => {
  assert.deepEqual(parseDeviceConfig(msg(3, { publishIntervalMs: 100, fields: { fw: '2', beta: true }, future: 'ignored' })), {
    ok: true,
    version: 3,
    config: { publishIntervalMs: 100, fields: { fw: '2', beta: true } },
  });
  assert.deepEqual(parseDeviceConfig(msg(1, {})), { ok: true, version: 1, config: {} });
  const refused: Array<[string, RegExp]> = [
    [msg(2, { publishIntervalMs: 0 }), /publishIntervalMs must be a positive number/],
    [msg(2, { publishIntervalMs: '100' }), /publishIntervalMs/],
    [msg(2, { publishIntervalMs: -5 }), /publishIntervalMs/],
    [msg(2, { fields: [] }), /fields must be an object/],
    [msg(2, { fields: { seq: 1 } }), /part of the telemetry/],
    [msg(2, { fields: { 'a b': 1 } }), /not an identifier/],
    [msg(2, { fields: { x: { nested: 1 } } }), /must be a number, a boolean or a string/],
    [msg(2, 'flat'), /config must be an object/],
  ];
  for (const [text, why] of refused) {
    const p = parseDeviceConfig(text);
    assert.equal(p.ok, false, text);
    assert.equal(p.version, 2, text);
    assert.match((p as { reason: string }).reason, why);
  }
  for (const text of ['', 'nope', '[]', msg(0, {}), msg('1', {}), msg(1.5, {})]) assert.equal(parseDeviceConfig(text).version, null, text);
  assert.equal(extraFieldsJson({ fw: '2', n: 3 }), ',"fw":"2","n":3');
  assert.equal(extraFieldsJson(undefined), '');
});

test('answers: applied once, the same version answered again, rejections with reasons, older versions refused', () => {
  const s = new DeviceConfigState();
  assert.equal(s.decide('').kind, 'ignore', 'a cleared (empty) retained message');
  const first = s.decide(msg(1, { publishIntervalMs: 100 }));
  assert.deepEqual(first, { kind: 'apply', config: { publishIntervalMs: 100 }, ack: { version: 1, state: 'applied' } });
  assert.deepEqual(s.decide(msg(1, { publishIntervalMs: 100 })), { kind: 'reack', ack: { version: 1, state: 'applied' } }, 'after a gateway restart');
  const bad = s.decide(msg(2, { publishIntervalMs: 0 }));
  assert.equal(bad.kind, 'reject');
  assert.equal(bad.kind === 'reject' && bad.ack.state, 'rejected');
  assert.equal(s.appliedVersion, 1, 'a rejected config leaves the applied one in place');
  assert.equal(s.decide(msg(2, { publishIntervalMs: 0 })).kind, 'reack');
  assert.equal(s.decide(msg(3, {})).kind, 'apply');
  const old = s.decide(msg(1, { publishIntervalMs: 100 }));
  assert.equal(old.kind, 'reject');
  assert.match(old.kind === 'reject' ? (old.ack.reason ?? '') : '', /older than the applied version 3/);
});

test('cli: --accept-config is the default; --no-accept-config turns it off', () => {
  assert.equal(parseCliArgs([]).sim.acceptConfig, undefined);
  assert.equal(parseCliArgs(['--no-accept-config']).sim.acceptConfig, false);
  assert.equal(parseCliArgs(['--accept-config']).sim.acceptConfig, true);
  assert.throws(() => parseCliArgs(['--accept-config', '--no-accept-config']), /exclude each other/);
});

test('a simulated device applies a retained config: acks it, then publishes at the new rate with the new fields', async (t) => {
  const broker = await Aedes.createBroker();
  const acks: string[] = [];
  const telemetry: Array<{ at: number; body: Record<string, unknown> }> = [];
  broker.authorizePublish = (_client, packet, cb) => {
    if (packet.topic.endsWith('/config/ack')) acks.push(packet.payload.toString());
    else telemetry.push({ at: Date.now(), body: JSON.parse(packet.payload.toString()) as Record<string, unknown> });
    cb(null);
  };
  const server = net.createServer((s) => broker.handle(s));
  await new Promise<void>((r) => server.listen(0, '127.0.0.1', () => r()));
  t.after(async () => {
    await new Promise<void>((r) => broker.close(() => r()));
    server.close();
  });
  const url = `mqtt://127.0.0.1:${(server.address() as net.AddressInfo).port}`;
  await new Promise<void>((r, j) =>
    broker.publish({ cmd: 'publish', topic: 'devices/dev-00001/config', payload: Buffer.from(msg(4, { publishIntervalMs: 50, fields: { fw: '2' } })), qos: 1, retain: true, dup: false }, (e) => (e ? j(e) : r())),
  );
  // Started at 1 message per second; the retained config makes it 20 per second.
  const summary = await runSimulation({ url, devices: 1, qos: 1, ratePerDevice: 1, durationMs: 2000 });
  assert.deepEqual(acks, ['{"version":4,"state":"applied"}']);
  const d = summary.perDevice['dev-00001']!;
  assert.deepEqual([d.configVersion, d.configApplied, d.configAcks], [4, 1, 1]);
  const withFw = telemetry.filter((m) => m.body['fw'] === '2');
  assert.ok(withFw.length >= 15, `about 40 messages at 50 ms in 2 s, got ${withFw.length} (of ${telemetry.length})`);
  assert.ok(telemetry.length - withFw.length <= 2, 'at most the first message or two before the config arrived');
});
