/**
 * The forward pump: lease -> encode -> send -> ack, one lease in flight so per-device order
 * holds from buffer to partition. Invariant: rows are deleted (ack) only after the sink
 * resolved, i.e. after Kafka acknowledged them with acks=all. Failures keep the same lease and
 * retry it after a capped, jittered backoff; a record Kafka permanently rejects is isolated by
 * halving the lease, sent (truncated) to the DLQ topic and dead-lettered, so the queue moves on.
 */
import type { TelemetryBuffer } from '../buffer/buffer.js';
import { isPoisonRow, type CrashGuard, type CrashGuardStore } from '../buffer/crash-guard.js';
import type { RecordEncoder } from '../encode/encoder.js';
import { describeError, gatewayError, isGatewayError, type GatewayError } from '../errors.js';
import { createBackoff, sleep, type Backoff } from '../lib/backoff.js';
import type { Logger } from '../lib/logger.js';
import type { PipelineObserver } from '../lib/pipeline-observer.js';
import type { DeadLetter, Lease, StoredRecord } from '../record.js';
import { deadLetterMessage, isPermanentRefusal, onRejected } from './dead-letter-message.js';
import { LeaseEncoding, reasonOf, type Prepared } from './lease-encoding.js';
import type { OutMessage, TelemetrySink } from './sink.js';

export interface PumpOptions {
  buffer: TelemetryBuffer;
  encoder: RecordEncoder;
  sink: TelemetrySink;
  logger: Logger;
  dlqTopic: string;
  /** Largest value sent to the DLQ topic: a dead letter's payload is cut to fit. */
  dlqMaxValueBytes: number;
  batchMaxRecords: number;
  batchMaxBytes: number;
  lingerMs: number;
  retryInitialMs: number;
  retryMaxMs: number;
  /** Rows left the buffer (space freed): lets ingest resume held publishes. */
  onAcked?: () => void;
  /** Rows in flight during earlier crashes (read once at start); none when absent. */
  crashGuard?: CrashGuardStore;
  /** Consecutive crashes a row alone in flight may cause before it is dead-lettered unsent. */
  crashLimit?: number;
  /** Send duration and publish -> Kafka-ack latency, per acknowledged send; none when absent. */
  observer?: PipelineObserver | undefined;
}


/**
 * The forwarder's own counters. Dead letters are counted by the buffer, which stores them
 * (BufferStats.deadLetteredByCode), not here: one owner per counter.
 */
export interface PumpStats {
  kafkaUp: boolean;
  /** Messages Kafka acknowledged (dead letters sent to the DLQ topic included). */
  sentTotal: number;
  /** Encoded value bytes of those messages. */
  sentBytesTotal: number;
  batchesTotal: number;
  /** Failed connects and sends (each retry counts), the sum of sendErrorsByCode. */
  sendErrorsTotal: number;
  sendErrorsByCode: Readonly<Record<string, number>>;
  /** Rows dead-lettered unsent by the crash breaker (GW_ERR_FORWARD_POISON_ROW). */
  poisonRowsTotal: number;
  /** DLQ messages Kafka acknowledged, by x-dlq-code (encode failures and Kafka rejections). */
  dlqSentByCode: Readonly<Record<string, number>>;
  /**
   * Dead letters that could not be put on the DLQ topic (it refused them too, or they could not
   * be encoded for it), by code: the cloud does not know of them; only the local table has them.
   */
  dlqUndeliverableByCode: Readonly<Record<string, number>>;
  /** JSON fields left out of typed records because the schema does not declare them (unknownFields: drop), per encode. */
  unknownFieldsDroppedTotal: number;
  /** Records encoded with at least one such field left out. */
  unknownFieldRecordsTotal: number;
  lastSendMs: number;
  /** Encoding time (epoch ms) of the newest batch Kafka acknowledged; 0 = none yet. */
  lastAckedEncodedAt: number;
  lastError: { code: string; message: string } | null;
  /** Why nothing is leased now although Kafka may be up (registry format: a schema id not yet known); null when not waiting. */
  waitingFor: { code: string; reason: string } | null;
}


export class ForwardPump {
  private readonly abort = new AbortController();
  private wake: (() => void) | null = null;
  private loop: Promise<void> | null = null;
  private backoff;
  private kafkaUp = false;
  private lastDownCode: string | null = null;
  /** Kafka acknowledged this lease; its rows are deleted while the next send is in flight. */
  private deferredAck: Prepared | null = null;
  private readonly s: Omit<PumpStats, 'sendErrorsTotal' | 'sendErrorsByCode' | 'dlqSentByCode' | 'dlqUndeliverableByCode' | 'unknownFieldsDroppedTotal' | 'unknownFieldRecordsTotal'> = { kafkaUp: false, sentTotal: 0, sentBytesTotal: 0, batchesTotal: 0, poisonRowsTotal: 0, lastSendMs: 0, lastAckedEncodedAt: 0, lastError: null, waitingFor: null };
  private readonly sendErrors: Record<string, number> = {};
  private readonly dlqSent: Record<string, number> = {};
  private readonly dlqUndeliverable: Record<string, number> = {};
  /** While set, the rows it names are forwarded one at a time (see forwardGuarded). */
  private guard: CrashGuard | null = null;

  private readonly encoding: LeaseEncoding;

  constructor(private o: PumpOptions) {
    this.encoding = new LeaseEncoding(o.logger);
    this.backoff = createBackoff({ initialMs: o.retryInitialMs, maxMs: o.retryMaxMs });
  }

  /**
   * Live config: the encoder (routes, schemas, topics) and the batching and retry settings. A
   * lease already encoded is sent as it is; the next lease uses the new values.
   */
  reconfigure(next: Pick<PumpOptions, 'encoder' | 'dlqTopic' | 'dlqMaxValueBytes' | 'batchMaxRecords' | 'batchMaxBytes' | 'lingerMs' | 'retryInitialMs' | 'retryMaxMs'>): void {
    const retryChanged = next.retryInitialMs !== this.o.retryInitialMs || next.retryMaxMs !== this.o.retryMaxMs;
    this.o = { ...this.o, ...next };
    if (retryChanged) this.backoff = createBackoff({ initialMs: next.retryInitialMs, maxMs: next.retryMaxMs });
    this.notify();
  }

  start(): void {
    if (this.loop) return;
    this.loop = this.run().catch((err) => {
      this.o.logger.fatal({ event: 'forward_pump_crashed', err }, 'forward pump crashed');
      throw err;
    });
  }

  /** New rows were committed: wake the pump if it is idle. Cheap; called per group commit. */
  notify(): void {
    const w = this.wake;
    if (w) {
      this.wake = null;
      w();
    }
  }

  stats(): PumpStats {
    let total = 0;
    for (const code in this.sendErrors) total += this.sendErrors[code]!;
    return {
      ...this.s,
      kafkaUp: this.kafkaUp,
      sendErrorsTotal: total,
      sendErrorsByCode: { ...this.sendErrors },
      dlqSentByCode: { ...this.dlqSent },
      dlqUndeliverableByCode: { ...this.dlqUndeliverable },
      unknownFieldsDroppedTotal: this.encoding.unknownFieldsDroppedTotal,
      unknownFieldRecordsTotal: this.encoding.unknownFieldRecordsTotal,
    };
  }

  private countError(e: GatewayError): void {
    this.sendErrors[e.code] = (this.sendErrors[e.code] ?? 0) + 1;
    this.s.lastError = { code: e.code, message: e.message };
  }

  /**
   * Stops leasing; waits up to `graceMs` for the send in flight to be acknowledged. Rows not
   * acknowledged stay buffered and are sent after restart (possibly a second time: counted by
   * the auditor as duplicates, never lost).
   */
  async stop(graceMs: number): Promise<void> {
    this.abort.abort();
    this.notify();
    if (!this.loop) return;
    let timer: NodeJS.Timeout | undefined;
    await Promise.race([this.loop.catch(() => undefined), new Promise<void>((r) => (timer = setTimeout(r, graceMs)))]);
    clearTimeout(timer);
  }

  private get stopping(): boolean {
    return this.abort.signal.aborted;
  }

  private async run(): Promise<void> {
    this.guard = this.readGuard();
    let ahead: Prepared | null = null;
    while (!this.stopping) {
      // Connect first (also while idle) so operators learn at once that Kafka is unreachable.
      if (!this.o.sink.state().connected && !(await this.tryConnect())) continue;
      let current = ahead;
      ahead = null;
      if (current === null) {
        if (await this.waitForEncoder()) continue;
        let lease;
        try {
          lease = this.o.buffer.lease(this.guard === null ? this.o.batchMaxRecords : 1, this.o.batchMaxBytes);
        } catch (err) {
          this.o.logger.error({ event: 'buffer_read_failed', code: isGatewayError(err) ? err.code : undefined, err }, 'buffer read failed; retrying');
          await sleep(this.backoff.next(), this.abort.signal);
          continue;
        }
        // Past the guarded rows (or none left): they went through without a crash.
        if (this.guard !== null && (lease === null || lease.firstSeq > this.guard.lastSeq)) this.clearGuard();
        if (this.guard !== null && lease !== null) {
          await this.forwardGuarded(lease, this.guard);
          continue;
        }
        if (lease === null) {
          await this.flushDeferredAck();
          await this.idle();
          // Let a trickle accumulate into one batch instead of one send per message.
          if (this.o.lingerMs > 0) await sleep(this.o.lingerMs, this.abort.signal);
          continue;
        }
        current = this.prepare(lease);
      }
      const delivering = this.deliver(current, true);
      // While this lease is on the wire (waiting on a network hop and the broker): delete
      // the previous, already acknowledged lease and encode the next one. Still one send in
      // flight, so order holds; only SQLite and CPU work overlap the wait.
      ahead = await this.whileInFlight(delivering);
      await delivering;
    }
    await this.flushDeferredAck();
  }

  /**
   * One row of a crash guard's range. Sent alone and acknowledged before the next is leased (no
   * read-ahead, no deferred ack), so if it crashes the process the guard narrows to exactly it.
   * A row that alone was in flight during `crashLimit` consecutive crashes is dead-lettered
   * locally without being encoded or sent: whatever in it kills the process is never touched.
   */
  private async forwardGuarded(lease: Lease, guard: CrashGuard): Promise<void> {
    const r = lease.records[0]!;
    if (!isPoisonRow(guard, r.seq, this.o.crashLimit ?? 2)) {
      await this.deliver(this.prepare(lease));
      return;
    }
    const reason = `in flight during ${guard.crashes} consecutive crashes (last: ${guard.lastCode}); dead-lettered without being encoded or sent`;
    this.o.logger.error(
      { event: 'poison_row_dead_lettered', code: 'GW_ERR_FORWARD_POISON_ROW', seq: r.seq, deviceId: r.deviceId, topic: r.topic, crashes: guard.crashes, lastCode: guard.lastCode },
      'a buffered row crashed the gateway repeatedly; moved to the local dead_letters table',
    );
    await this.ackDurably(lease, [{ record: r, code: 'GW_ERR_FORWARD_POISON_ROW', reason }]);
    if (this.stopping) return;
    this.s.poisonRowsTotal++;
  }

  private readGuard(): CrashGuard | null {
    const store = this.o.crashGuard;
    if (store === undefined) return null;
    try {
      const g = store.read();
      if (g !== null) {
        this.o.logger.warn(
          { event: 'crash_guard_active', firstSeq: g.firstSeq, lastSeq: g.lastSeq, crashes: g.crashes, lastCode: g.lastCode, crashLimit: this.o.crashLimit ?? 2 },
          'rows were in flight when the gateway crashed; forwarding them one at a time',
        );
      }
      return g;
    } catch (err) {
      this.o.logger.error({ event: 'crash_guard_read_failed', code: isGatewayError(err) ? err.code : undefined, err }, 'cannot read the crash guard; forwarding normally');
      return null;
    }
  }

  private clearGuard(): void {
    const g = this.guard!;
    this.guard = null;
    try {
      this.o.crashGuard?.clear();
      this.o.logger.info({ event: 'crash_guard_cleared', firstSeq: g.firstSeq, lastSeq: g.lastSeq }, 'rows of the previous crash forwarded; back to batches');
    } catch (err) {
      // Left on disk, the guard only makes the next start forward those rows one at a time again.
      this.o.logger.error({ event: 'crash_guard_clear_failed', code: isGatewayError(err) ? err.code : undefined, err }, 'cannot clear the crash guard');
    }
  }

  private async whileInFlight(delivering: Promise<void>): Promise<Prepared | null> {
    let settled = false;
    void delivering.finally(() => (settled = true));
    await new Promise<void>((r) => setImmediate(r));
    await this.flushDeferredAck();
    if (settled || this.stopping || this.encoderWaits() !== null) return null;
    try {
      const lease = this.o.buffer.lease(this.o.batchMaxRecords, this.o.batchMaxBytes);
      return lease === null ? null : this.prepare(lease);
    } catch {
      return null; // the main loop reports buffer read errors
    }
  }

  private encoderWaits(): { code: string; reason: string } | null {
    try {
      return this.o.encoder.ready?.() ?? null;
    } catch (err) {
      return { code: 'GW_ERR_ENCODE_FAILED', reason: reasonOf(err) };
    }
  }

  /**
   * True (after a pause) when the encoder cannot encode yet (registry format: a schema id not
   * known). Rows stay buffered, nothing is dead-lettered; logged when the reason changes.
   */
  private async waitForEncoder(): Promise<boolean> {
    const waiting = this.encoderWaits();
    const was = this.s.waitingFor;
    this.s.waitingFor = waiting;
    if (waiting === null) {
      if (was !== null) this.o.logger.info({ event: 'forward_resumed', code: was.code }, 'every schema has its registry id; forwarding resumes');
      return false;
    }
    if (was?.code !== waiting.code) {
      this.o.logger.warn({ event: 'forward_waiting', code: waiting.code, reason: waiting.reason }, `records wait in the buffer: ${waiting.reason}`);
    }
    await this.flushDeferredAck();
    await sleep(250, this.abort.signal);
    return true;
  }

  private async tryConnect(): Promise<boolean> {
    try {
      await this.o.sink.connect();
      // A connection proves Kafka is up only if reaching it was the problem; after a send-level
      // failure (timeout, missing topic) wait for a send to succeed, so the log does not flap.
      if (this.lastDownCode !== 'GW_ERR_FORWARD_SEND' && this.lastDownCode !== 'GW_ERR_FORWARD_TOPIC_MISSING') {
        this.backoff.reset();
        this.markUp();
      }
      return true;
    } catch (err) {
      const e: GatewayError = isGatewayError(err) ? err : gatewayError('GW_ERR_FORWARD_CONNECT', describeError(err), { cause: err });
      this.countError(e);
      this.markDown(e);
      await sleep(this.backoff.next(), this.abort.signal);
      return false;
    }
  }

  private idle(): Promise<void> {
    if (this.stopping) return Promise.resolve();
    return new Promise<void>((resolve) => {
      this.wake = resolve;
      // Safety net: re-check periodically even if a notify was missed.
      setTimeout(() => this.notify(), 1000).unref();
    });
  }

  /**
   * Delivers one prepared lease, retrying until Kafka acknowledged it or the pump stops. With
   * `deferAck` the row delete is left to flushDeferredAck() (run while the next send is in
   * flight); a crash before it only means the lease is sent again after restart.
   */
  private async deliver(p: Prepared, deferAck = false): Promise<void> {
    const rejected = await this.sendUntilSettled(p, deferAck);
    if (rejected !== null) await this.isolateRejected(p, rejected);
  }

  /**
   * Sends until Kafka acknowledged (null) or the pump stops (null, rows stay buffered); returns
   * the error if Kafka permanently rejected the send. Other failures are retried after backoff.
   */
  private async sendUntilSettled(p: Prepared, deferAck: boolean): Promise<GatewayError | null> {
    for (;;) {
      try {
        await this.sendOnce(p, deferAck);
        this.backoff.reset();
        this.markUp();
        return null;
      } catch (err) {
        const e: GatewayError = isGatewayError(err) ? err : gatewayError('GW_ERR_FORWARD_SEND', describeError(err), { cause: err });
        if (isPermanentRefusal(e)) {
          this.markUp();
          return e;
        }
        this.countError(e);
        this.markDown(e);
        if (this.stopping) return null;
        await sleep(this.backoff.next(), this.abort.signal);
        if (this.stopping) return null;
      }
    }
  }

  /**
   * Finds the record Kafka rejects and dead-letters it. A send spanning several partitions is
   * not atomic (the other partitions may already be written), so first split by device: a
   * device's records share one partition, whose produce is all-or-nothing. Only then halve
   * within the offending device. Other devices are thus re-sent at most once.
   */
  private async isolateRejected(p: Prepared, err: GatewayError): Promise<void> {
    const lease = p.lease;
    const byDevice = new Map<string, StoredRecord[]>();
    for (const r of lease.records) {
      const list = byDevice.get(r.deviceId);
      if (list) list.push(r);
      else byDevice.set(r.deviceId, [r]);
    }
    if (byDevice.size > 1) {
      for (const group of byDevice.values()) {
        if (this.stopping) return;
        await this.deliver(this.prepare(subLease(group), p.encoder));
      }
      return;
    }
    if (lease.records.length === 1) {
      await this.deadLetterRejected(p, err);
      return;
    }
    const mid = Math.floor(lease.records.length / 2);
    for (const part of [lease.records.slice(0, mid), lease.records.slice(mid)]) {
      if (this.stopping) return;
      await this.deliver(this.prepare(subLease(part), p.encoder));
    }
  }

  /**
   * One record Kafka permanently rejected (`p` holds it alone). It goes to the DLQ topic, cut to
   * kafka.dlqMaxValueBytes, and to the local table; the row leaves the buffer only once the DLQ
   * record is acknowledged. If the DLQ topic refuses it too, or what was refused already was a
   * DLQ record, it is kept locally only (one attempt each: never a loop) and counted.
   */
  private async deadLetterRejected(p: Prepared, err: GatewayError): Promise<void> {
    const record = p.lease.records[0]!;
    const refused = p.messages[0];
    const dead: DeadLetter = p.deadLetters[0] ?? { record, code: err.code, reason: err.message };
    const log = { code: err.code, deviceId: record.deviceId, seq: record.seq, reason: err.message };
    if (onRejected(refused, this.o.dlqTopic) === 'keepLocally') {
      this.o.logger.error({ event: 'dlq_refused', ...log, dlqCode: dead.code }, 'Kafka refused a dead letter on the DLQ topic; kept in the local dead_letters table only');
      await this.keepLocally(p.lease, { ...dead, reason: `${dead.reason}; DLQ topic refused it: ${err.message}` });
      return;
    }
    this.o.logger.warn({ event: 'record_rejected', ...log, dlqTopic: this.o.dlqTopic }, 'Kafka rejected a record; sending it to the DLQ topic and the local dead_letters table');
    let message: OutMessage;
    try {
      message = deadLetterMessage(p.encoder, record, dead, { dlqTopic: this.o.dlqTopic, maxValueBytes: this.o.dlqMaxValueBytes }, refused);
    } catch (e) {
      this.o.logger.error({ event: 'dlq_encode_failed', code: dead.code, deviceId: record.deviceId, seq: record.seq, err: e }, 'cannot encode a dead letter for the DLQ topic; kept in the local dead_letters table only');
      await this.keepLocally(p.lease, dead);
      return;
    }
    const dlq: Prepared = { lease: p.lease, messages: [message], deadLetters: [dead], encodedAt: p.encodedAt, bytes: message.value.length, dlqCodes: [dead.code], localOnlyCodes: null, encoder: p.encoder };
    const refusedToo = await this.sendUntilSettled(dlq, false);
    if (refusedToo === null) return; // acknowledged (row moved to dead_letters), or stopping (row stays)
    this.o.logger.error({ event: 'dlq_refused', ...log, dlqReason: refusedToo.message, dlqTopic: this.o.dlqTopic }, 'the DLQ topic refused the dead letter too; kept in the local dead_letters table only');
    await this.keepLocally(p.lease, { ...dead, reason: `${dead.reason}; DLQ topic refused it too: ${refusedToo.message}` });
  }

  /** A dead letter the DLQ topic will not have: the local table keeps it, and it is counted. */
  private async keepLocally(lease: Lease, dead: DeadLetter): Promise<void> {
    await this.ackDurably(lease, [dead]);
    if (this.stopping) return;
    count(this.dlqUndeliverable, dead.code);
  }

  /** Encodes a lease (see lease-encoding.ts) with `encoder`, the current one unless a part of an earlier lease is re-encoded. */
  private prepare(lease: Lease, encoder: RecordEncoder = this.o.encoder): Prepared {
    return this.encoding.prepare(lease, encoder, { dlqTopic: this.o.dlqTopic, maxValueBytes: this.o.dlqMaxValueBytes });
  }

  private async sendOnce(p: Prepared, deferAck: boolean): Promise<void> {
    const t0 = performance.now();
    await this.o.sink.send(p.messages);
    this.s.lastSendMs = performance.now() - t0;
    const observer = this.o.observer;
    if (observer !== undefined) {
      observer.sent(this.s.lastSendMs / 1000);
      observer.acked(p.lease.records, Date.now());
    }
    this.s.lastAckedEncodedAt = Math.max(this.s.lastAckedEncodedAt, p.encodedAt);
    // Kafka acknowledged every message (acks=all): only now may the rows leave the buffer.
    if (deferAck) this.deferredAck = p;
    else await this.ackDurably(p.lease, p.deadLetters);
    this.s.batchesTotal++;
    this.s.sentTotal += p.messages.length;
    this.s.sentBytesTotal += p.bytes;
    // Counted once Kafka acknowledged the send: a lease prepared again (isolation) counts once.
    if (p.dlqCodes !== null) for (const code of p.dlqCodes) count(this.dlqSent, code);
    if (p.localOnlyCodes !== null) for (const code of p.localOnlyCodes) count(this.dlqUndeliverable, code);
  }

  private async flushDeferredAck(): Promise<void> {
    const p = this.deferredAck;
    if (p === null) return;
    this.deferredAck = null;
    await this.ackDurably(p.lease, p.deadLetters);
  }

  /**
   * Deletes acknowledged rows. If the disk refuses (full, I/O error) the delete is retried; the
   * lease is NOT re-sent, since Kafka already has it. If we stop first, the rows stay and are
   * sent again after restart: a bounded duplicate, never a loss.
   */
  private async ackDurably(lease: Lease, deadLetters: readonly DeadLetter[]): Promise<void> {
    let retry: Backoff | null = null;
    for (;;) {
      try {
        this.o.buffer.ack(lease, deadLetters);
        this.o.onAcked?.();
        return;
      } catch (err) {
        if (this.stopping) return;
        if (retry === null) {
          this.o.logger.error({ event: 'buffer_ack_failed', code: isGatewayError(err) ? err.code : undefined, err }, 'cannot delete acknowledged rows; retrying');
          retry = createBackoff({ initialMs: this.o.retryInitialMs, maxMs: this.o.retryMaxMs });
        }
        await sleep(retry.next(), this.abort.signal);
      }
    }
  }

  private markUp(): void {
    if (!this.kafkaUp) {
      this.kafkaUp = true;
      this.lastDownCode = null;
      const st = this.o.buffer.stats();
      this.o.logger.info({ event: 'kafka_up', bufferedRows: st.rows }, 'Kafka reachable; forwarding');
    }
  }

  private markDown(e: GatewayError): void {
    // One line per state change, and again if the reason changes (e.g. unreachable -> auth).
    if (this.kafkaUp || this.lastDownCode !== e.code) {
      this.kafkaUp = false;
      this.lastDownCode = e.code;
      const st = this.o.buffer.stats();
      this.o.logger.warn(
        { event: 'kafka_down', code: e.code, reason: e.message, bufferedRows: st.rows },
        'Kafka unreachable; buffering to disk and retrying',
      );
    }
  }

}

export function createForwardPump(opts: PumpOptions): ForwardPump {
  return new ForwardPump(opts);
}

/** Error name and message, bounded: it travels in a Kafka header and the dead_letters table. */

function count(byCode: Record<string, number>, code: string): void {
  byCode[code] = (byCode[code] ?? 0) + 1;
}

function subLease(records: StoredRecord[]): Lease {
  return { records, firstSeq: records[0]!.seq, lastSeq: records[records.length - 1]!.seq, sparse: true };
}
