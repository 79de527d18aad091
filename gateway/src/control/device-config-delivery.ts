/**
 * Publishes each own device's desired config, retained and QoS 1, on devices/{id}/config through
 * the gateway's DevicePort, and records the version delivered. One publish at a time, from a work
 * set of device ids (each at most once). attach() comes after every (re)build of the gateway:
 * aedes keeps retained messages in memory, so a new broker gets every config again, with the
 * version it already had (devices answer it again without re-applying it). A port whose gateway is
 * shutting down is dropped until the next attach(); other failures are retried with backoff.
 */
import { isGatewayError } from '../errors.js';
import { createBackoff, type Backoff } from '../lib/backoff.js';
import type { Logger } from '../lib/logger.js';
import type { RateLimitedLog } from '../lib/rate-limited-log.js';
import { retainedPayload } from './device-config-record.js';
import type { DeviceConfigStore } from './device-config-store.js';
import { deviceConfigTopic, type DevicePort } from './device-port.js';

export interface DeviceConfigDeliveryOptions {
  store: DeviceConfigStore;
  logger: Logger;
  warn: RateLimitedLog;
  retry: { initialMs: number; maxMs: number };
  /** The delivered version changed (null: the retained message was cleared). */
  onDelivered(deviceId: string, version: number | null): void;
}

export class DeviceConfigDelivery {
  deliveredTotal = 0;
  errorsTotal = 0;
  private port: DevicePort | null = null;
  private portGen = 0;
  private republishAll = false;
  private closed = false;
  private readonly work = new Set<string>();
  private running: Promise<void> | null = null;
  private timer: NodeJS.Timeout | null = null;
  private readonly backoff: Backoff;

  constructor(private readonly o: DeviceConfigDeliveryOptions) {
    this.backoff = createBackoff(o.retry);
    // Left over from the last run: desired configs whose delivery was not recorded.
    for (const id of o.store.idsUndelivered()) this.work.add(id);
  }

  get attached(): boolean {
    return this.port !== null;
  }

  attach(port: DevicePort): void {
    if (this.closed) return;
    this.port = port;
    this.portGen++;
    this.republishAll = true;
    this.kick();
  }

  /** The device's desired config changed. */
  mark(deviceId: string): void {
    this.work.add(deviceId);
    this.kick();
  }

  close(): Promise<void> {
    this.closed = true;
    this.port = null;
    if (this.timer) clearTimeout(this.timer);
    this.timer = null;
    return this.running ?? Promise.resolve();
  }

  private kick(): void {
    if (this.closed || this.running || this.timer || this.port === null) return;
    if (!this.republishAll && this.work.size === 0) return;
    this.running = this.loop().finally(() => {
      this.running = null;
      if (!this.timer) this.kick();
    });
  }

  private async loop(): Promise<void> {
    while (!this.closed && this.port !== null) {
      const port = this.port;
      const gen = this.portGen;
      const force = this.republishAll;
      const ids = new Set(force ? this.o.store.idsWithConfig() : []);
      for (const id of this.work) ids.add(id);
      this.republishAll = false;
      this.work.clear();
      if (ids.size === 0) return;
      const list = [...ids];
      for (let i = 0; i < list.length; i++) {
        // Rebuilt meanwhile: the new broker gets everything (attach set republishAll).
        if (this.closed || gen !== this.portGen) return;
        try {
          await this.deliverOne(port, list[i]!, force);
          this.backoff.reset();
        } catch (err) {
          this.errorsTotal++;
          for (let j = i; j < list.length; j++) this.work.add(list[j]!);
          if (force) this.republishAll = true;
          if (isGatewayError(err, 'GW_ERR_INGEST_SHUTTING_DOWN')) {
            if (this.port === port) this.port = null;
            return;
          }
          const delay = this.backoff.next();
          this.o.warn.warn('deliver', { event: 'device_config_delivery_failed', deviceId: list[i], err, retryInMs: delay }, 'could not publish a device configuration; retrying');
          this.timer = setTimeout(() => {
            this.timer = null;
            this.kick();
          }, delay);
          return;
        }
      }
    }
  }

  /** Publishes the device's retained config (or clears it); `force`: even if that version is out. */
  private async deliverOne(port: DevicePort, id: string, force: boolean): Promise<void> {
    const row = this.o.store.get(id);
    if (row === undefined) return;
    const topic = deviceConfigTopic(id);
    let version: number | null;
    if (row.desiredConfig !== null) {
      if (!force && row.deliveredVersion === row.desiredVersion) return;
      await port.publishRetained(topic, retainedPayload(row.desiredVersion, row.desiredConfig));
      version = row.desiredVersion;
    } else if (row.deliveredVersion !== null) {
      // [MQTT-3.3.1-10] an empty retained payload removes the retained message.
      await port.publishRetained(topic, Buffer.alloc(0));
      version = null;
    } else return;
    if (!this.o.store.markDelivered(id, version, row.desiredVersion)) return;
    this.deliveredTotal++;
    this.o.logger.debug({ event: 'device_config_delivered', deviceId: id, version }, 'device configuration published (retained)');
    this.o.onDelivered(id, version);
  }
}
