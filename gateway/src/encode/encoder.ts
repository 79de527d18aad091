/** The encode stage's interface: buffered record -> Kafka value, or a dead-letter reason. */
import type { StoredRecord } from '../record.js';

export type EncodeOutcome =
  /** `dropped`: paths of JSON fields the schema does not declare, left out (unknownFields: drop); null when none. */
  | { ok: true; topic: string; value: Buffer; dropped: readonly string[] | null }
  | { ok: false; code: EncodeFailureCode; reason: string };

export type EncodeFailureCode =
  | 'GW_ERR_ENCODE_PAYLOAD_NOT_JSON'
  | 'GW_ERR_ENCODE_PAYLOAD_TOO_DEEP'
  | 'GW_ERR_ENCODE_SCHEMA_MISMATCH'
  | 'GW_ERR_ENCODE_UNKNOWN_FIELD'
  | 'GW_ERR_ENCODE_FAILED'
  | 'GW_ERR_ENCODE_UNROUTED';

export interface RecordEncoder {
  /** Encodes for the record's route (typed when the route has a schema). Should not throw; the pump still guards. */
  encode(record: StoredRecord): EncodeOutcome;
  /** Raw envelope (payload as bytes) as the dead-letter topic takes it: always succeeds once ready(). */
  encodeRaw(record: StoredRecord): Buffer;
  /**
   * Null when records can be encoded now; else what they wait for (registry format: a schema id
   * the registry has not given yet). Records wait in the buffer meanwhile; none is dead-lettered.
   */
  ready?(): { code: string; reason: string } | null;
}
