/**
 * Writes each device's configuration state to the compacted status topic (key = device id). The
 * work set holds device ids, each at most once (bounded by the own devices); the record is built
 * from the row at send time, so a device that changed five times while Kafka was down costs one
 * record with its latest state. A row is behind while `revision > status_revision` in the
 * database, so what was not sent before a restart is sent after it. Sends run in batches of 16
 * (the link's producer bounds its own queue at 100); a failed batch is retried with capped,
 * jittered backoff.
 */
import { isGatewayError } from '../errors.js';
import { createBackoff, type Backoff } from '../lib/backoff.js';
import type { RateLimitedLog } from '../lib/rate-limited-log.js';
import { configState, type DeviceStatusRecord } from './device-config-record.js';
import type { DeviceConfigRow, DeviceConfigStore } from './device-config-store.js';
import type { ControlProducer } from './kafka-link.js';

const BATCH = 16;

export interface DeviceStatusWriterOptions {
  store: DeviceConfigStore;
  topic: string;
  gatewayId: string;
  warn: RateLimitedLog;
  retry: { initialMs: number; maxMs: number };
}

export function statusRecord(row: DeviceConfigRow, gatewayId: string): DeviceStatusRecord {
  const state = configState(row);
  const rec: DeviceStatusRecord = {
    deviceId: row.deviceId,
    gatewayId,
    desiredVersion: row.desiredConfig === null ? null : row.desiredVersion,
    deliveredVersion: row.deliveredVersion,
    ackedVersion: row.ackedVersion,
    state,
    at: new Date(row.updatedAt).toISOString(),
  };
  if (state === 'rejected' && row.ackReason !== null) rec.reason = row.ackReason;
  return rec;
}

export class DeviceStatusWriter {
  sentTotal = 0;
  errorsTotal = 0;
  private producer: ControlProducer | null = null;
  private closed = false;
  private readonly dirty = new Set<string>();
  private sending: Promise<void> | null = null;
  private timer: NodeJS.Timeout | null = null;
  private readonly backoff: Backoff;

  constructor(private readonly o: DeviceStatusWriterOptions) {
    this.backoff = createBackoff(o.retry);
    // Changes the last run did not get into Kafka.
    for (const id of o.store.idsStatusDirty()) this.dirty.add(id);
  }

  get pending(): number {
    return this.dirty.size;
  }

  start(producer: ControlProducer): void {
    this.producer = producer;
    this.kick();
  }

  /** The device's row changed: its status is to be (re)written. */
  mark(deviceId: string): void {
    this.dirty.add(deviceId);
    this.kick();
  }

  /** Stops retrying; resolves with the batch in flight (bounded by the producer's timeouts). */
  close(): Promise<void> {
    this.closed = true;
    if (this.timer) clearTimeout(this.timer);
    this.timer = null;
    return this.sending ?? Promise.resolve();
  }

  private kick(): void {
    if (this.closed || this.producer === null || this.sending || this.timer || this.dirty.size === 0) return;
    this.sending = this.loop(this.producer).finally(() => {
      this.sending = null;
      if (!this.timer) this.kick();
    });
  }

  private async loop(producer: ControlProducer): Promise<void> {
    while (!this.closed && this.dirty.size > 0) {
      // One send per device at a time: a device marked again while in flight waits for the next batch.
      const batch: string[] = [];
      for (const id of this.dirty) {
        batch.push(id);
        if (batch.length === BATCH) break;
      }
      for (const id of batch) this.dirty.delete(id);
      const results = await Promise.allSettled(batch.map((id) => this.send(producer, id)));
      let failed: unknown = null;
      results.forEach((r, i) => {
        if (r.status === 'fulfilled') return;
        failed = r.reason;
        this.errorsTotal++;
        this.dirty.add(batch[i]!);
      });
      if (failed === null) {
        this.backoff.reset();
        continue;
      }
      if (this.closed) return;
      const delay = this.backoff.next();
      const code = isGatewayError(failed) ? failed.code : 'GW_ERR_CONTROL_KAFKA';
      this.o.warn.warn('status', { event: 'device_status_send_failed', code, err: failed, pending: this.dirty.size, retryInMs: delay }, 'device status not written to Kafka; retrying');
      this.timer = setTimeout(() => {
        this.timer = null;
        this.kick();
      }, delay);
      return;
    }
  }

  private async send(producer: ControlProducer, id: string): Promise<void> {
    const row = this.o.store.get(id);
    if (row === undefined || row.revision <= row.statusRevision) return;
    await producer.send(this.o.topic, id, JSON.stringify(statusRecord(row, this.o.gatewayId)));
    this.o.store.markStatusSent(id, row.revision);
    this.sentTotal++;
  }
}
