/**
 * With fresh packet objects, mqtt-packet still parses every packet however the stream is split,
 * and each packet is parsed into a new object, not into the one the parser pre-created right
 * after the previous packet (which, on a slow device, idles long enough to be promoted to V8's
 * old generation and then keeps the next payload's socket read alive until a full GC).
 */
import assert from 'node:assert/strict';
import { test } from 'node:test';
import mqttPacket from 'mqtt-packet';
import { useFreshPacketObjects } from '../../../gateway/src/ingest/fresh-packet-objects.js';

const packets = [
  mqttPacket.generate({ cmd: 'publish', topic: 'devices/dev-1/telemetry', payload: Buffer.alloc(51, 1), qos: 1, messageId: 1, retain: false, dup: false }),
  mqttPacket.generate({ cmd: 'publish', topic: 'devices/dev-2/telemetry', payload: Buffer.alloc(52, 2), qos: 1, messageId: 2, retain: false, dup: false }),
  mqttPacket.generate({ cmd: 'pingreq' }),
  mqttPacket.generate({ cmd: 'publish', topic: 'devices/dev-3/telemetry', payload: Buffer.alloc(53, 3), qos: 0, retain: false, dup: false }),
];
const expected = [
  { cmd: 'publish', topic: 'devices/dev-1/telemetry', payload: 51 },
  { cmd: 'publish', topic: 'devices/dev-2/telemetry', payload: 52 },
  { cmd: 'pingreq', topic: null, payload: 0 },
  { cmd: 'publish', topic: 'devices/dev-3/telemetry', payload: 53 },
];

interface Parsed {
  seen: Array<{ cmd: string; topic: string | null; payload: number }>;
  /** Per packet: was it parsed into the object the parser held when the previous parse() call returned? */
  preCreated: boolean[];
}

function parse(chunks: Buffer[]): Parsed {
  const p = mqttPacket.parser();
  const held = (): unknown => (p as unknown as { packet: unknown }).packet;
  const out: Parsed = { seen: [], preCreated: [] };
  let heldAfterLastCall = held();
  p.on('packet', (packet: mqttPacket.Packet) => {
    const pub = packet.cmd === 'publish' ? (packet as mqttPacket.IPublishPacket) : null;
    out.seen.push({ cmd: packet.cmd, topic: pub ? pub.topic : null, payload: pub ? (pub.payload as Buffer).length : 0 });
    out.preCreated.push(packet === heldAfterLastCall);
  });
  p.on('error', (err) => assert.fail(err));
  for (const c of chunks) {
    p.parse(c);
    heldAfterLastCall = held();
  }
  return out;
}

function splitEvery(buf: Buffer, n: number): Buffer[] {
  const out: Buffer[] = [];
  for (let at = 0; at < buf.length; at += n) out.push(buf.subarray(at, at + n));
  return out;
}

test('unpatched, mqtt-packet parses a packet into the object it created after the previous one', () => {
  // Before useFreshPacketObjects(): shows that the check below can tell the two apart.
  const r = parse(packets);
  assert.deepEqual(r.seen, expected);
  assert.deepEqual(r.preCreated.slice(1), [true, true, true]);
});

test('patched, every packet is a new object, and parsing is unchanged however the stream is split', () => {
  assert.deepEqual(useFreshPacketObjects(), { applied: true });
  assert.deepEqual(useFreshPacketObjects(), { applied: true }, 'a second call changes nothing');
  assert.deepEqual(parse(packets).preCreated, [false, false, false, false]);
  const stream = Buffer.concat(packets);
  for (const n of [1, 2, 7, 64, stream.length]) assert.deepEqual(parse(splitEvery(stream, n)).seen, expected, `chunks of ${n} bytes`);
});
