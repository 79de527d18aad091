/**
 * Hand-built frames that break one MQTT rule each (or stress one limit), written at the byte
 * level because generate() would refuse them. Labels name the rule so a finding reads as
 * "which frame", not "which bytes".
 */
import type { FuzzRng } from './fuzz-rng.js';
import { FIVE_BYTE_VARINT, MAX_REMAINING_LENGTH_BYTES, mqttString, rawPacket, u16, varint } from './raw-packet.js';
import type { SessionContext } from './valid-frames.js';

export interface Frame {
  label: string;
  bytes: Buffer;
}

/** Topic names a device should never get away with (or that stress the parser). */
export function hostileTopic(ctx: SessionContext, rng: FuzzRng): { label: string; topic: Buffer } {
  const own = ctx.ownTopic;
  switch (rng.int(9)) {
    case 0:
      return { label: 'topic-wildcard', topic: Buffer.from(rng.pick(['devices/+/telemetry', '#', `${own}/#`, 'devices/#', '+'])) };
    case 1:
      return { label: 'topic-nul', topic: Buffer.from(`${own}\u0000x`) };
    case 2:
      return { label: 'topic-invalid-utf8', topic: Buffer.concat([Buffer.from('devices/'), rng.pick([Buffer.from([0xc0, 0xaf]), Buffer.from([0xff, 0xfe]), Buffer.from([0xed, 0xa0, 0x80])]), Buffer.from('/telemetry')]) };
    case 3:
      return { label: 'topic-65k', topic: Buffer.alloc(65_535, rng.pick(['a', '/', 'é'.charAt(0)])) };
    case 4:
      return { label: 'topic-empty', topic: Buffer.alloc(0) };
    case 5:
      return { label: 'topic-other-device', topic: Buffer.from(`devices/fz-victim-${rng.int(10)}/telemetry`) };
    case 6:
      return { label: 'topic-sys', topic: Buffer.from(rng.pick(['$SYS/broker/x', '$share/g/devices/x/telemetry', '$foo'])) };
    case 7:
      return { label: 'topic-deep-levels', topic: Buffer.from(`${'/'.repeat(rng.range(100, 20_000))}`) };
    default:
      return { label: 'topic-unrouted', topic: Buffer.from(`fz/${rng.int(1000)}`) };
  }
}

/** CONNECT written by hand: protocol levels, client ids, flags and properties generate() won't make. */
export function hostileConnect(ctx: SessionContext, rng: FuzzRng): Frame {
  let level = ctx.version as number;
  let name = 'MQTT';
  let flags = 0x02; // clean session
  let clientId: Buffer = Buffer.from(ctx.clientId);
  let extra: Buffer = Buffer.alloc(0);
  let props: Buffer | null = level === 5 ? Buffer.from([0]) : null;
  let label: string;
  switch (rng.int(10)) {
    case 0:
      level = rng.pick([0, 1, 2, 3, 6, 255]);
      name = level === 3 ? 'MQIsdp' : rng.pick(['MQTT', 'MQIsdp', 'XXXX', '']);
      label = `connect-level-${level}-${name || 'empty'}`;
      break;
    case 1:
      clientId = Buffer.alloc(0);
      flags = rng.pick([0x00, 0x02]);
      label = `connect-empty-clientid-clean${flags >> 1}`;
      break;
    case 2:
      clientId = Buffer.alloc(rng.pick([24, 256, 4096, 65_535]), 'c');
      label = `connect-clientid-${clientId.length}`;
      break;
    case 3:
      clientId = rng.pick([Buffer.from([0xc0, 0xaf, 0x41]), Buffer.from('fz\u0000nul'), Buffer.from([0xed, 0xa0, 0x80])]);
      label = 'connect-clientid-bad-utf8';
      break;
    case 4:
      flags = 0x03; // reserved bit set [MQTT-3.1.2-3]
      label = 'connect-reserved-flag';
      break;
    case 5:
      flags = 0x02 | 0x04 | (3 << 3); // will QoS 3 [MQTT-3.1.2-14]
      extra = Buffer.concat([...(props ? [Buffer.from([0])] : []), mqttString('fz/will'), mqttString('x')]);
      label = 'connect-will-qos3';
      break;
    case 6:
      flags = 0x02 | 0x40; // password without username [MQTT-3.1.2-22]
      extra = mqttString('secret');
      label = 'connect-password-no-user';
      break;
    case 7:
      flags = 0x02 | 0x80 | 0x40;
      extra = Buffer.concat([mqttString(Buffer.alloc(rng.pick([1000, 65_535]), 'u')), mqttString(Buffer.alloc(rng.pick([1000, 65_535]), 'p'))]);
      label = 'connect-huge-credentials';
      break;
    case 8:
      level = 5;
      props = garbageProperties(rng);
      label = 'connect-v5-garbage-properties';
      break;
    default:
      flags = rng.int(256);
      label = `connect-random-flags-${flags}`;
      break;
  }
  const head = Buffer.concat([mqttString(name), Buffer.from([level, flags]), u16(rng.pick([0, 10, 60]))]);
  const body = Buffer.concat([head, level === 5 ? (props ?? Buffer.from([0])) : Buffer.alloc(0), mqttString(clientId), extra]);
  return { label, bytes: rawPacket(0x10, body) };
}

/** A v5 property block: a length that may lie, then ids that may not exist, values cut short. */
export function garbageProperties(rng: FuzzRng): Buffer {
  const content = Buffer.concat(
    Array.from({ length: rng.range(0, 6) }, () => {
      const id = rng.pick([0x00, 0x01, 0x02, 0x03, 0x08, 0x0b, 0x11, 0x21, 0x22, 0x23, 0x26, 0x27, 0x7f, 0xff]);
      return Buffer.concat([Buffer.from([id]), rng.bytes(rng.range(0, 8))]);
    }),
  );
  const declared = rng.pick([content.length, content.length + rng.range(1, 100), Math.max(0, content.length - 1), 268_435_455]);
  return Buffer.concat([varint(declared), content]);
}

/** PUBLISH written by hand (after CONNECT): bad QoS, packet id 0, hostile topics, garbage properties. */
export function hostilePublish(ctx: SessionContext, rng: FuzzRng, payload: Buffer): Frame {
  const qosBits = rng.pick([0, 1, 2, 3]);
  let messageId = rng.pick([0, 1, 65_535, rng.range(1, 65_535)]);
  let { label, topic } = rng.chance(0.6) ? hostileTopic(ctx, rng) : { label: 'topic-own', topic: Buffer.from(ctx.ownTopic) };
  if (qosBits === 3) label = `publish-qos3-${label}`;
  else if (qosBits > 0 && messageId === 0) label = `publish-qos${qosBits}-packetid0-${label}`;
  else label = `publish-qos${qosBits}-${label}`;
  if (qosBits === 0) messageId = -1;
  const props = ctx.version === 5 ? (rng.chance(0.5) ? garbageProperties(rng) : Buffer.from([0])) : Buffer.alloc(0);
  const flags = (qosBits << 1) | (rng.chance(0.1) ? 0x08 : 0) | (rng.chance(ctx.retainShare * 2) ? 0x01 : 0);
  const body = Buffer.concat([mqttString(topic), messageId >= 0 ? u16(messageId) : Buffer.alloc(0), props, payload]);
  return { label, bytes: rawPacket(0x30 | flags, body) };
}

/** SUBSCRIBE written by hand: wrong fixed-header flags, no filters, huge counts, bad filters. */
export function hostileSubscribe(ctx: SessionContext, rng: FuzzRng): Frame {
  let firstByte = 0x82; // [MQTT-3.8.1-1]: flags must be 0010
  const filters: Buffer[] = [];
  let label: string;
  switch (rng.int(6)) {
    case 0:
      firstByte = rng.pick([0x80, 0x83, 0x8f]);
      filters.push(Buffer.from('#'));
      label = 'subscribe-bad-flags';
      break;
    case 1:
      label = 'subscribe-no-filters';
      break;
    case 2: {
      const n = rng.pick([1000, 5000, 20_000]);
      for (let i = 0; i < n; i++) filters.push(Buffer.from(`fz/${i}/#`));
      label = `subscribe-${n}-filters`;
      break;
    }
    case 3:
      filters.push(Buffer.from(rng.pick(['a/#/b', 'a+', '#/a', 'x\u0000y', '']) ));
      label = 'subscribe-invalid-filter';
      break;
    case 4:
      filters.push(Buffer.from([0x61, 0xc0, 0xaf]));
      label = 'subscribe-invalid-utf8';
      break;
    default:
      filters.push(Buffer.alloc(65_535, '+'));
      label = 'subscribe-65k-filter';
      break;
  }
  const qos = rng.chance(0.3) ? 3 : rng.int(3);
  if (qos === 3) label += '-qos3';
  const entries = filters.map((f) => Buffer.concat([mqttString(f), Buffer.from([ctx.version === 5 ? qos | (rng.int(4) << 4) : qos])]));
  const props = ctx.version === 5 ? Buffer.from([0]) : Buffer.alloc(0);
  return { label, bytes: rawPacket(firstByte, Buffer.concat([u16(rng.pick([0, 1, 7])), props, ...entries])) };
}

/** Framing-level abuse: reserved types, bad fixed-header flags, lying remaining lengths. */
export function hostileFraming(rng: FuzzRng): Frame {
  switch (rng.int(7)) {
    case 0:
      return { label: 'reserved-type-0', bytes: rawPacket(0x00 | rng.int(16), rng.bytes(rng.range(0, 16))) };
    case 1:
      return { label: 'reserved-type-15', bytes: rawPacket(0xf0 | rng.int(16), rng.bytes(rng.range(0, 16))) };
    case 2:
      return { label: 'max-remaining-length-4-bytes', bytes: rawPacket(rng.pick([0x10, 0x30, 0x82, 0xc0]), rng.bytes(rng.range(0, 64)), MAX_REMAINING_LENGTH_BYTES) };
    case 3:
      return { label: 'remaining-length-5-byte-varint', bytes: rawPacket(rng.pick([0x10, 0x30, 0xc0]), rng.bytes(rng.range(0, 8)), FIVE_BYTE_VARINT) };
    case 4:
      return { label: 'remaining-length-overlong-zero', bytes: rawPacket(0xc0, Buffer.alloc(0), Buffer.from([0x80, 0x80, 0x80, 0x00])) };
    case 5:
      return { label: 'bad-flags', bytes: rawPacket(rng.pick([0xc1, 0xe3, 0x60, 0x61, 0xa0, 0x41]), rng.pick([Buffer.alloc(0), u16(1)])) };
    default: {
      const body = rng.bytes(rng.range(0, 32));
      return { label: 'remaining-length-lies', bytes: rawPacket(rng.pick([0x30, 0x82, 0x62, 0x40]), body, varint(Math.max(0, body.length + rng.pick([-3, -1, 1, 100, 70_000])))) };
    }
  }
}
