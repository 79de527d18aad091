/**
 * Dead letters on the DLQ topic: the record as a raw envelope (the device's payload as bytes, so
 * one consumer reads every DLQ record, whatever its route), keyed by device id, with headers
 * saying why. The envelope's payload is cut so the value stays within `maxValueBytes`: a record
 * Kafka refused as too large must fit the DLQ topic, or the cloud never learns of it.
 */
import type { GatewayError } from '../errors.js';
import type { RecordEncoder } from '../encode/encoder.js';
import type { StoredRecord } from '../record.js';
import type { OutMessage } from './sink.js';

export const DlqHeader = {
  code: 'x-dlq-code',
  reason: 'x-dlq-reason',
  seq: 'x-gateway-seq',
  /** 'true' when the envelope's payload was cut to fit kafka.dlqMaxValueBytes. */
  truncated: 'x-dlq-truncated',
  /** Kafka rejections only: the topic the record was meant for, and the size of the value refused. */
  sourceTopic: 'x-dlq-source-topic',
  originalBytes: 'x-dlq-original-bytes',
} as const;

/** What Kafka refused: the message as it was sent. */
export interface RefusedMessage {
  topic: string;
  value: Buffer;
}

/** Header values travel to every DLQ consumer: bounded like the reasons of encode failures. */
const REASON_MAX_CHARS = 200;

/**
 * The raw envelope of `r`, its payload cut (from the end) so the value is at most `maxValueBytes`.
 * Only the payload is cut: the envelope stays decodable and keeps device, topic and seq. If the
 * envelope without any payload is already larger (a pathological topic), it is returned with an
 * empty payload; the DLQ send then decides.
 */
export function rawEnvelopeWithin(encoder: Pick<RecordEncoder, 'encodeRaw'>, r: StoredRecord, maxValueBytes: number): { value: Buffer; truncated: boolean } {
  const whole = encoder.encodeRaw(r);
  if (whole.length <= maxValueBytes) return { value: whole, truncated: false };
  // Everything but the payload bytes, including the payload's length prefix (a varint that can
  // only shrink with a shorter payload): so the cut value cannot exceed the bound.
  const overhead = whole.length - r.payload.length;
  const keep = Math.max(0, maxValueBytes - overhead);
  return { value: encoder.encodeRaw({ ...r, payload: r.payload.subarray(0, keep) }), truncated: true };
}

/**
 * The DLQ message for a dead letter. `refused` is set when Kafka itself rejected the record (it
 * adds the source topic and the refused size); absent for records that could not be encoded.
 * Throws only if encodeRaw does (the caller keeps the record locally then).
 */
export function deadLetterMessage(
  encoder: Pick<RecordEncoder, 'encodeRaw'>,
  r: StoredRecord,
  dead: { code: string; reason: string },
  opts: { dlqTopic: string; maxValueBytes: number },
  refused?: RefusedMessage,
): OutMessage {
  const { value, truncated } = rawEnvelopeWithin(encoder, r, opts.maxValueBytes);
  const headers: Record<string, string> = {
    [DlqHeader.code]: dead.code,
    [DlqHeader.reason]: clip(dead.reason, REASON_MAX_CHARS),
    [DlqHeader.seq]: String(r.seq),
    [DlqHeader.truncated]: String(truncated),
  };
  if (refused !== undefined) {
    headers[DlqHeader.sourceTopic] = refused.topic;
    headers[DlqHeader.originalBytes] = String(refused.value.length);
  }
  return { topic: opts.dlqTopic, key: r.deviceId, value, headers };
}

/**
 * What to do when Kafka rejects a send: a telemetry record is isolated and sent to the DLQ topic;
 * a DLQ record is never sent again (that would loop): it stays in the local table only.
 */
export function onRejected(refused: RefusedMessage | undefined, dlqTopic: string): 'sendToDlq' | 'keepLocally' {
  return refused === undefined || refused.topic === dlqTopic ? 'keepLocally' : 'sendToDlq';
}

/** Whether a failed DLQ send is retried (Kafka down, topic missing: like any send) or final. */
export function isPermanentRefusal(e: GatewayError): boolean {
  return e.code === 'GW_ERR_FORWARD_REJECTED';
}

function clip(s: string, max: number): string {
  return s.length > max ? `${s.slice(0, max - 3)}...` : s;
}
