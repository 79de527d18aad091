/**
 * Avro single-object encoding: C3 01, the schema's 8-byte CRC-64-AVRO fingerprint (little
 * endian), then the Avro binary body. Any consumer holding the schema can decode it.
 */
import avro from 'avsc';
import { crc64Avro } from './crc64-avro.js';

export const SINGLE_OBJECT_MAGIC = Buffer.from([0xc3, 0x01]);
export const SINGLE_OBJECT_HEADER_BYTES = 10;

export interface SingleObjectCodec {
  readonly type: avro.Type;
  /** Parsing Canonical Form of the schema. */
  readonly canonical: string;
  readonly fingerprint: bigint;
  /** Hex of the little-endian fingerprint bytes, as it appears on the wire. */
  readonly fingerprintHex: string;
  encode(value: unknown): Buffer;
}

export function createSingleObjectCodec(type: avro.Type): SingleObjectCodec {
  // avsc returns the Parsing Canonical Form when asked for no attributes (logicalType, doc dropped).
  const canonical = JSON.stringify(type.schema());
  const fingerprint = crc64Avro(Buffer.from(canonical, 'utf8'));
  const header = Buffer.alloc(SINGLE_OBJECT_HEADER_BYTES);
  SINGLE_OBJECT_MAGIC.copy(header, 0);
  header.writeBigUInt64LE(fingerprint, 2);
  let scratch = Buffer.allocUnsafe(64 * 1024);
  header.copy(scratch, 0);
  return {
    type,
    canonical,
    fingerprint,
    fingerprintHex: header.subarray(2).toString('hex'),
    encode(value: unknown): Buffer {
      // Encode straight after the header into a reused scratch buffer, then copy out once
      // (toBuffer + concat would allocate and copy twice per record).
      let end = type.encode(value, scratch, SINGLE_OBJECT_HEADER_BYTES);
      if (end < 0) {
        scratch = Buffer.allocUnsafe(Math.max(scratch.length * 2, SINGLE_OBJECT_HEADER_BYTES - end + scratch.length));
        header.copy(scratch, 0);
        end = type.encode(value, scratch, SINGLE_OBJECT_HEADER_BYTES);
      }
      return Buffer.from(scratch.subarray(0, end));
    },
  };
}

/** Reads the fingerprint of a single-object encoded message, or null if the magic is absent. */
export function readFingerprint(message: Buffer): bigint | null {
  if (message.length < SINGLE_OBJECT_HEADER_BYTES || message[0] !== 0xc3 || message[1] !== 0x01) return null;
  return message.readBigUInt64LE(2);
}
