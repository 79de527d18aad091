// Confluent Schema Registry wire format, written independently of the product for tests:
// magic byte 0, the schema id as a big-endian int32, then the Avro binary body.
export const WIRE_MAGIC = 0;
export const WIRE_HEADER_BYTES = 5;

export function frameWireFormat(schemaId: number, body: Buffer): Buffer {
  const header = Buffer.alloc(WIRE_HEADER_BYTES);
  header.writeUInt8(WIRE_MAGIC, 0);
  header.writeInt32BE(schemaId, 1);
  return Buffer.concat([header, body]);
}

export function parseWireFormat(value: Buffer): { schemaId: number; body: Buffer } {
  if (value.length < WIRE_HEADER_BYTES || value[0] !== WIRE_MAGIC) {
    throw new Error(`not Schema Registry wire format: ${value.subarray(0, 8).toString('hex')}`);
  }
  return { schemaId: value.readInt32BE(1), body: value.subarray(WIRE_HEADER_BYTES) };
}
