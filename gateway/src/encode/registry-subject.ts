/** Subject names for the Schema Registry, as Confluent's serializers name them (value side). */
import type { SubjectNameStrategy } from '../config/schema-registry-schema.js';

/** A schema as registered: the subject and the exact JSON text sent to the registry. */
export interface SchemaRef {
  subject: string;
  schema: string;
}

/** TopicNameStrategy "<topic>-value", RecordNameStrategy "<full name>", TopicRecordNameStrategy "<topic>-<full name>". */
export function subjectFor(strategy: SubjectNameStrategy, topic: string, recordFullName: string): string {
  switch (strategy) {
    case 'topic':
      return `${topic}-value`;
    case 'record':
      return recordFullName;
    case 'topic-record':
      return `${topic}-${recordFullName}`;
  }
}

/** Confluent wire format header: magic byte 0, then the schema id as a big-endian int32. */
export const REGISTRY_HEADER_BYTES = 5;

export function registryHeader(id: number): Buffer {
  const h = Buffer.alloc(REGISTRY_HEADER_BYTES);
  h.writeUInt32BE(id, 1);
  return h;
}

/** The schema id of a Confluent-framed message, or null if the magic byte is absent. */
export function readSchemaId(message: Buffer): number | null {
  if (message.length < REGISTRY_HEADER_BYTES || message[0] !== 0) return null;
  return message.readUInt32BE(1);
}
