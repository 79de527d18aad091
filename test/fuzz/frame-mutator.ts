/**
 * Damages a well-formed frame the way a broken radio, a buggy firmware or an attacker would:
 * bit flips, inserted/deleted bytes, truncation, a remaining length that lies, a changed type
 * or flags nibble. Each mutation is named so a finding says what was done to which packet.
 */
import type { FuzzRng } from './fuzz-rng.js';
import { bodyOffset, FIVE_BYTE_VARINT, MAX_REMAINING_LENGTH_BYTES, varint } from './raw-packet.js';

export const MUTATIONS = [
  'bitflip',
  'insert',
  'delete',
  'truncate',
  'remaining-length-wrong',
  'remaining-length-max',
  'remaining-length-5-bytes',
  'type-nibble',
  'flags-nibble',
  'interesting-byte',
  'duplicate-region',
] as const;
export type Mutation = (typeof MUTATIONS)[number];

const INTERESTING = [0x00, 0x01, 0x7f, 0x80, 0xff, 0xfe, 0xc0, 0x2f, 0x23, 0x2b];

export function mutateFrame(frame: Buffer, rng: FuzzRng, mutation: Mutation = rng.pick(MUTATIONS)): { mutation: Mutation; bytes: Buffer } {
  const b = Buffer.from(frame);
  const at = () => rng.int(Math.max(1, b.length));
  switch (mutation) {
    case 'bitflip': {
      const n = rng.range(1, 8);
      for (let i = 0; i < n && b.length > 0; i++) {
        const p = at();
        b[p] = b[p]! ^ (1 << rng.int(8));
      }
      return { mutation, bytes: b };
    }
    case 'insert': {
      const p = at();
      return { mutation, bytes: Buffer.concat([b.subarray(0, p), rng.bytes(rng.range(1, 16)), b.subarray(p)]) };
    }
    case 'delete': {
      const p = at();
      return { mutation, bytes: Buffer.concat([b.subarray(0, p), b.subarray(Math.min(b.length, p + rng.range(1, 8)))]) };
    }
    case 'truncate':
      return { mutation, bytes: b.subarray(0, rng.int(Math.max(1, b.length))) };
    case 'remaining-length-wrong':
      return { mutation, bytes: withLength(b, varint(Math.max(0, b.length - bodyOffset(b) + rng.pick([-2, -1, 1, 2, 127, 128, 16_384])))) };
    case 'remaining-length-max':
      return { mutation, bytes: withLength(b, MAX_REMAINING_LENGTH_BYTES) };
    case 'remaining-length-5-bytes':
      return { mutation, bytes: withLength(b, FIVE_BYTE_VARINT) };
    case 'type-nibble':
      b[0] = (rng.int(16) << 4) | (b[0]! & 0x0f);
      return { mutation, bytes: b };
    case 'flags-nibble':
      b[0] = (b[0]! & 0xf0) | rng.int(16);
      return { mutation, bytes: b };
    case 'interesting-byte':
      if (b.length > 0) b[at()] = rng.pick(INTERESTING);
      return { mutation, bytes: b };
    case 'duplicate-region': {
      const p = at();
      const len = rng.range(1, 64);
      return { mutation, bytes: Buffer.concat([b.subarray(0, p + len), b.subarray(p, p + len), b.subarray(p + len)]) };
    }
  }
}

/** Replaces the frame's remaining-length bytes with `lengthBytes`, keeping first byte and body. */
function withLength(frame: Buffer, lengthBytes: Buffer): Buffer {
  const off = bodyOffset(frame);
  return Buffer.concat([frame.subarray(0, 1), lengthBytes, frame.subarray(off)]);
}
