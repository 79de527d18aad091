/**
 * Lease -> Prepared: encodes each buffered record of a lease for Kafka. A record that cannot be
 * encoded becomes a dead letter in its place (its DLQ message in the same send), so one bad
 * record neither blocks nor reorders its device's others. Counts the JSON fields unknownFields:
 * drop left out, logging them at most once a minute.
 */
import type { EncodeOutcome, RecordEncoder } from '../encode/encoder.js';
import { describeError } from '../errors.js';
import type { Logger } from '../lib/logger.js';
import type { DeadLetter, Lease, StoredRecord } from '../record.js';
import { deadLetterMessage } from './dead-letter-message.js';
import type { OutMessage } from './sink.js';

/** A lease encoded and ready to send (retries resend the same bytes). */
export interface Prepared {
  lease: Lease;
  messages: OutMessage[];
  deadLetters: DeadLetter[];
  /** When the lease was encoded (with the encoder and topics of that moment). */
  encodedAt: number;
  /** Encoded value bytes of `messages`. */
  bytes: number;
  /** x-dlq-code of each DLQ message in `messages`; null when there is none. */
  dlqCodes: string[] | null;
  /** Codes of dead letters that have no DLQ message (it could not be encoded); null when none. */
  localOnlyCodes: string[] | null;
  /**
   * The encoder that encoded it. Re-encoding a part of it (isolating a rejected record) or its
   * dead letter uses this one, not a newer one a live reconfigure swapped in meanwhile: that one
   * may not be ready() yet (registry format: schema headers not filled), and would turn every
   * record into a GW_ERR_ENCODE_FAILED dead letter.
   */
  encoder: RecordEncoder;
}

/** Where dead letters go: the DLQ topic and the largest value it takes. */
export interface DeadLetterTarget {
  dlqTopic: string;
  maxValueBytes: number;
}

const DROPPED_LOG_INTERVAL_MS = 60_000;

export class LeaseEncoding {
  /** JSON fields left out of typed records (unknownFields: drop), per encode. */
  unknownFieldsDroppedTotal = 0;
  /** Records encoded with at least one such field left out. */
  unknownFieldRecordsTotal = 0;
  /** When unknown_fields_dropped was last logged, and the drops since (one line per interval, not per record). */
  private droppedLog = { atMs: 0, records: 0 };

  constructor(private readonly logger: Logger) {}

  /**
   * Encodes a lease; records that cannot be encoded become DLQ messages in their place. Nothing
   * one record holds may throw out of here: a throw would stop the loop with the record still
   * first in the buffer, i.e. crash the gateway again after every restart.
   */
  prepare(lease: Lease, encoder: RecordEncoder, target: DeadLetterTarget): Prepared {
    const messages: OutMessage[] = new Array(lease.records.length);
    let n = 0;
    let bytes = 0;
    let deadLetters: DeadLetter[] | null = null;
    let dlqCodes: string[] | null = null;
    let localOnlyCodes: string[] | null = null;
    for (let i = 0; i < lease.records.length; i++) {
      const r = lease.records[i]!;
      let out: EncodeOutcome;
      try {
        out = encoder.encode(r);
      } catch (err) {
        out = { ok: false, code: 'GW_ERR_ENCODE_FAILED', reason: reasonOf(err) };
      }
      if (out.ok) {
        if (out.dropped !== null) this.countDropped(r, out.dropped);
        messages[n++] = { topic: out.topic, key: r.deviceId, value: out.value };
        bytes += out.value.length;
        continue;
      }
      // The bad record goes to the DLQ in the same send, in its place: the device's other
      // messages are neither blocked nor reordered.
      (deadLetters ??= []).push({ record: r, code: out.code, reason: out.reason });
      const dlq = this.dlqMessage(encoder, r, out.code, out.reason, target);
      if (dlq !== null) {
        messages[n++] = dlq;
        bytes += dlq.value.length;
        (dlqCodes ??= []).push(out.code);
      } else {
        (localOnlyCodes ??= []).push(out.code);
      }
    }
    if (n < messages.length) messages.length = n;
    return { lease, messages, deadLetters: deadLetters ?? [], encodedAt: Date.now(), bytes, dlqCodes, localOnlyCodes, encoder };
  }

  /** Counts fields dropped by unknownFields: drop and logs them at most once a minute (the first ones named). */
  private countDropped(r: StoredRecord, paths: readonly string[]): void {
    this.unknownFieldsDroppedTotal += paths.length;
    this.unknownFieldRecordsTotal++;
    this.droppedLog.records++;
    const now = Date.now();
    if (now - this.droppedLog.atMs < DROPPED_LOG_INTERVAL_MS) return;
    this.logger.warn(
      { event: 'unknown_fields_dropped', deviceId: r.deviceId, topic: r.topic, seq: r.seq, fields: paths.slice(0, 10), records: this.droppedLog.records },
      `JSON fields the route schema does not declare were dropped (${this.droppedLog.records} record(s) since the last report); set unknownFields to reject or extra to keep them`,
    );
    this.droppedLog = { atMs: now, records: 0 };
  }

  /** The raw envelope for the DLQ topic, or null (kept only in the local table) if even that fails. */
  private dlqMessage(encoder: RecordEncoder, r: StoredRecord, code: string, reason: string, dlq: DeadLetterTarget): OutMessage | null {
    try {
      return deadLetterMessage(encoder, r, { code, reason }, dlq);
    } catch (err) {
      this.logger.error({ event: 'dlq_encode_failed', code, deviceId: r.deviceId, seq: r.seq, err }, 'cannot encode a dead letter for the DLQ topic; kept in the local dead_letters table only');
      return null;
    }
  }
}

/** An error as a dead-letter reason: its name and message, at most 200 characters. */
export function reasonOf(err: unknown): string {
  const s = `${err instanceof Error ? err.name : typeof err}: ${describeError(err)}`;
  return s.length > 200 ? `${s.slice(0, 197)}...` : s;
}
