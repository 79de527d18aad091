/**
 * Byte-level MQTT writers for frames that mqtt-packet's generate() refuses to build (it
 * validates): any first byte, any remaining-length encoding, strings from raw bytes.
 */

/** MQTT variable byte integer [MQTT-2.2.3]; `minBytes` pads it with continuation bytes (over-long forms). */
export function varint(value: number, minBytes = 1): Buffer {
  const out: number[] = [];
  let v = value;
  do {
    let b = v % 128;
    v = Math.floor(v / 128);
    if (v > 0 || out.length + 1 < minBytes) b |= 0x80;
    out.push(b);
  } while (v > 0 || out.length < minBytes);
  return Buffer.from(out);
}

/** The largest remaining length MQTT allows: 268,435,455 in four bytes. */
export const MAX_REMAINING_LENGTH_BYTES = Buffer.from([0xff, 0xff, 0xff, 0x7f]);

/** Five length bytes: a varint longer than the four MQTT allows [MQTT-1.5.5]. */
export const FIVE_BYTE_VARINT = Buffer.from([0x80, 0x80, 0x80, 0x80, 0x01]);

/** Two-byte length prefix then the bytes as they are (no UTF-8 validation on purpose). */
export function mqttString(s: string | Buffer): Buffer {
  const b = typeof s === 'string' ? Buffer.from(s, 'utf8') : s;
  const len = Buffer.alloc(2);
  len.writeUInt16BE(b.length & 0xffff);
  return Buffer.concat([len, b]);
}

export function u16(n: number): Buffer {
  const b = Buffer.alloc(2);
  b.writeUInt16BE(n & 0xffff);
  return b;
}

/** A whole packet: first byte, remaining length (correct unless `lengthBytes` is given), body. */
export function rawPacket(firstByte: number, body: Buffer, lengthBytes?: Buffer): Buffer {
  return Buffer.concat([Buffer.from([firstByte & 0xff]), lengthBytes ?? varint(body.length), body]);
}

/** Offset of the body: after the first byte and the remaining-length bytes (at most 4 read). */
export function bodyOffset(frame: Buffer): number {
  let i = 1;
  while (i < frame.length && i < 5 && (frame[i]! & 0x80) !== 0) i++;
  return Math.min(frame.length, i + 1);
}
