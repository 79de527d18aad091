/**
 * Avro single-object encoding: C3 01, the schema's 8-byte CRC-64-AVRO fingerprint (little
 * endian), then the Avro binary body. Any consumer holding the schema can decode it.
 */
import avro from 'avsc';
import { crc64Avro } from './crc64-avro.js';
import { exactLongHook } from './exact-numbers.js';
import { PASS_THROUGH_LOGICAL_TYPES } from './logical-types.js';

export const SINGLE_OBJECT_MAGIC = Buffer.from([0xc3, 0x01]);
export const SINGLE_OBJECT_HEADER_BYTES = 10;

export interface SingleObjectCodec {
  /** Longs as JS numbers (avsc's own long): the hot path. */
  readonly type: avro.Type;
  /** Same schema and wire bytes, longs over the full 64-bit range (BigInt beyond 2^53): for payloads that need it, and for reading. */
  readonly exactType: avro.Type;
  /** Parsing Canonical Form of the schema. */
  readonly canonical: string;
  readonly fingerprint: bigint;
  /** Hex of the little-endian fingerprint bytes, as it appears on the wire. */
  readonly fingerprintHex: string;
  /** Encodes with `type`, or with `exactType` when `exact` (the value may hold BigInt longs). */
  encode(value: unknown, exact?: boolean): Buffer;
  /** The same Avro body behind another header (the Schema Registry's 00 + id), instead of the single-object one. */
  encodeFramed(value: unknown, exact: boolean, header: Buffer): Buffer;
  /** The schema as registered with a registry: full JSON, logical types and docs kept. */
  readonly fullSchema: string;
}

/** Avro types of a schema as the gateway builds them: standard logical types kept (see logical-types.ts). */
export function avroTypes(schema: avro.Schema | avro.Type): { type: avro.Type; exactType: avro.Type } {
  const full = avro.Type.isType(schema) ? (schema as avro.Type).schema({ exportAttrs: true }) : schema;
  const logicalTypes = PASS_THROUGH_LOGICAL_TYPES as unknown as Record<string, new (schema: avro.Schema, opts?: avro.ForSchemaOptions) => avro.types.LogicalType>;
  return {
    type: avro.Type.forSchema(full, { logicalTypes }),
    exactType: avro.Type.forSchema(full, { logicalTypes, typeHook: exactLongHook as unknown as avro.ForSchemaOptions['typeHook'] }),
  };
}

export function createSingleObjectCodec(schema: avro.Schema | avro.Type): SingleObjectCodec {
  const { type, exactType } = avroTypes(schema);
  // avsc returns the Parsing Canonical Form when asked for no attributes (logicalType, doc dropped
  // per the spec's [STRIP]): a logical type in the schema never changes the fingerprint.
  const canonical = JSON.stringify(type.schema());
  const fingerprint = crc64Avro(Buffer.from(canonical, 'utf8'));
  const header = Buffer.alloc(SINGLE_OBJECT_HEADER_BYTES);
  SINGLE_OBJECT_MAGIC.copy(header, 0);
  header.writeBigUInt64LE(fingerprint, 2);
  let scratch = Buffer.allocUnsafe(64 * 1024);
  // Encode straight after the header into a reused scratch buffer, then copy out once
  // (toBuffer + concat would allocate and copy twice per record).
  const framed = (value: unknown, exact: boolean, head: Buffer): Buffer => {
    const t = exact ? exactType : type;
    head.copy(scratch, 0);
    let end = t.encode(value, scratch, head.length);
    if (end < 0) {
      scratch = Buffer.allocUnsafe(Math.max(scratch.length * 2, head.length - end + scratch.length));
      head.copy(scratch, 0);
      end = t.encode(value, scratch, head.length);
    }
    return Buffer.from(scratch.subarray(0, end));
  };
  return {
    type,
    exactType,
    canonical,
    fingerprint,
    fingerprintHex: header.subarray(2).toString('hex'),
    fullSchema: JSON.stringify(type.schema({ exportAttrs: true })),
    encode: (value: unknown, exact?: boolean): Buffer => framed(value, exact === true, header),
    encodeFramed: framed,
  };
}

/** Reads the fingerprint of a single-object encoded message, or null if the magic is absent. */
export function readFingerprint(message: Buffer): bigint | null {
  if (message.length < SINGLE_OBJECT_HEADER_BYTES || message[0] !== 0xc3 || message[1] !== 0x01) return null;
  return message.readBigUInt64LE(2);
}
