/**
 * The frame guard follows fixed headers and remaining-length varints across arbitrary chunk
 * splits, and rejects a declared length over the cap, a malformed varint, or a first packet that
 * is not CONNECT, before the body arrives.
 */
import assert from 'node:assert/strict';
import { test } from 'node:test';
import mqttPacket from 'mqtt-packet';
import { FrameGuard, FrameVerdict } from '../../../gateway/src/ingest/frame-guard.js';

const connect = mqttPacket.generate({ cmd: 'connect', protocolId: 'MQTT', protocolVersion: 4, clientId: 'dev-1', clean: true, keepalive: 30 });
const publish = (bytes: number) => mqttPacket.generate({ cmd: 'publish', topic: 'devices/dev-1/telemetry', payload: Buffer.alloc(bytes, 7), qos: 1, messageId: 1, retain: false, dup: false });
const pingreq = mqttPacket.generate({ cmd: 'pingreq' });

function feedSplit(guard: FrameGuard, stream: Buffer, cuts: number[]): FrameVerdict[] {
  const out: FrameVerdict[] = [];
  let at = 0;
  for (const c of [...cuts, stream.length]) {
    out.push(guard.feed(stream.subarray(at, c)));
    at = c;
  }
  return out;
}

test('valid packets pass however the stream is split (every single cut point, and byte by byte)', () => {
  // 200-byte payload: two-byte remaining length; 20,000: three bytes.
  const stream = Buffer.concat([connect, publish(200), pingreq, publish(20_000), pingreq]);
  const limit = 64 * 1024;
  for (let cut = 0; cut <= stream.length; cut += cut < 400 ? 1 : 997) {
    const v = feedSplit(new FrameGuard(limit), stream, [cut]);
    assert.ok(v.every((x) => x === FrameVerdict.ok), `cut at ${cut}`);
  }
  const g = new FrameGuard(limit);
  for (let i = 0; i < stream.length; i++) assert.equal(g.feed(stream.subarray(i, i + 1)), FrameVerdict.ok, `byte ${i}`);
});

test('a declared length over the cap is rejected from the header alone, whatever the split', () => {
  // PUBLISH declaring 256 MB (0xFF 0xFF 0xFF 0x7F = 268,435,455), no body sent.
  const header = Buffer.from([0x30, 0xff, 0xff, 0xff, 0x7f]);
  const stream = Buffer.concat([connect, header]);
  for (let cut = connect.length; cut < stream.length; cut++) {
    const g = new FrameGuard(1024 * 1024);
    const v = feedSplit(g, stream, [cut]);
    assert.equal(v.at(-1), FrameVerdict.tooLarge, `cut at ${cut}`);
    assert.equal(g.declaredBytes, 1 + 4 + 268_435_455);
  }
});

test('a packet exactly at the cap passes; one byte more is rejected', () => {
  const p = publish(1000);
  assert.equal(new FrameGuard(connect.length).feed(connect), FrameVerdict.ok);
  const at = new FrameGuard(p.length);
  assert.equal(at.feed(Buffer.concat([connect, p])), FrameVerdict.ok);
  const over = new FrameGuard(p.length - 1);
  assert.equal(over.feed(Buffer.concat([connect, p])), FrameVerdict.tooLarge);
});

test('a fifth remaining-length byte is malformed [MQTT-2.2.3]', () => {
  const g = new FrameGuard(Number.MAX_SAFE_INTEGER);
  assert.equal(g.feed(connect), FrameVerdict.ok);
  assert.equal(g.feed(Buffer.from([0x30, 0x80, 0x80, 0x80])), FrameVerdict.ok, 'three continuation bytes: still waiting');
  assert.equal(g.feed(Buffer.from([0x80])), FrameVerdict.malformed);
});

test('the first packet must be CONNECT [MQTT-3.1.0-1]', () => {
  assert.equal(new FrameGuard(1024).feed(pingreq), FrameVerdict.notConnect);
  assert.equal(new FrameGuard(1024).feed(publish(10)), FrameVerdict.notConnect);
});
