/**
 * Device configuration, down to the devices. Reads the compacted device-config topic (key =
 * device id, no consumer group, from the beginning at every start), keeps the desired config of
 * this gateway's own devices in SQLite, publishes it retained (QoS 1) on devices/{id}/config,
 * records the devices' answers (devices/{id}/config/ack) and writes every change to the
 * compacted status topic (key = device id). A device that was offline, or a gateway that
 * restarted, catches up from the database; a version is never handed out twice as new (the
 * retained message is re-published after a rebuild with the same version, which devices ignore).
 *
 * Scale (why this reads the whole topic, and where that stops being fine): every gateway reads
 * every device's record at every start. Fleet F devices x average record S bytes: F = 10,000,
 * S = 500 B is 5 MB per gateway start, nothing; F = 1,000,000 is 500 MB per start, and 1,000
 * gateways restarting after an upgrade pull 500 GB from the brokers. Past ~100k devices, key the
 * topic by gateway (or one topic per site) so each gateway reads only its share.
 *
 * A device seen for the first time after its record was read (pushed before it ever connected
 * here, or provisioned while the gateway runs) gets it through a re-read: the keys of records
 * ignored as not ours are remembered (keys only, at most 50,000, ~5 MB; past that every
 * first-seen device triggers the re-read), and a first-seen device among them starts one re-read
 * of the topic (only its key's partition when it is the only one waiting), coalesced: at most one
 * at a time.
 *
 * Bounds: work sets (to deliver, status to send, seen to record) hold device ids, each at most
 * once, so they are bounded by the own devices; status sends are retried with capped backoff
 * while Kafka is down, latest state only (the row is read at send time), never a queue of records.
 * Delivery (device-config-delivery.ts) and the status topic (device-status-writer.ts) are rooms
 * of their own; this one reads Kafka, tracks devices and records their answers.
 */
import type { Database } from 'better-sqlite3';
import type { ControlConfig } from '../config/control-schema.js';
import { describeError, gatewayError, type GatewayError } from '../errors.js';
import { isValidDeviceId } from '../ingest/device-id.js';
import { createBackoff } from '../lib/backoff.js';
import type { Logger } from '../lib/logger.js';
import { createRateLimitedLog, type RateLimitedLog } from '../lib/rate-limited-log.js';
import { DeviceConfigDelivery } from './device-config-delivery.js';
import { parseConfigAck, parseDesiredConfig, type DesiredConfig } from './device-config-record.js';
import { createDeviceConfigStore, type DeviceConfigStore } from './device-config-store.js';
import type { DeviceControlHooks, DevicePort } from './device-port.js';
import { DeviceStatusWriter } from './device-status-writer.js';
import type { ControlProducer, ControlRecord, KafkaLink, TopicReader, TopicReaderState } from './kafka-link.js';

export interface DeviceConfigServiceOptions {
  /** The buffer's database (migrated, v3+), on a connection of its own; the caller closes it. */
  database: Database;
  link: KafkaLink;
  config: ControlConfig['deviceConfig'];
  gatewayId: string;
  logger: Logger;
  /** Longest wait of one fetch on the config topic (default 5 s). */
  pollMaxWaitMs?: number;
  /** Connected devices are written to devices_seen in one transaction this often (default 1 s). */
  seenFlushMs?: number;
  /** Status send retry backoff (defaults 1 s .. 30 s); delivery retries use the same. */
  retryInitialMs?: number;
  retryMaxMs?: number;
  /** Repeated warnings of one kind are logged once per interval (default 10 s). */
  warnIntervalMs?: number;
  /** Keys of ignored (not own) records remembered for first-seen devices (default 50,000). */
  maxIgnoredKeys?: number;
  maxSeenDevices?: number;
  now?: () => number;
}

export interface DeviceConfigStats {
  recordsTotal: number;
  invalidTotal: number;
  /** Records for devices that are not this gateway's. */
  notOwnTotal: number;
  replayedTotal: number;
  storedTotal: number;
  clearedTotal: number;
  deliveredTotal: number;
  deliveryErrorsTotal: number;
  acksTotal: { applied: number; rejected: number };
  /** Valid acks that changed nothing or did not match a desired version (accepted, not recorded). */
  acksIgnoredTotal: number;
  acksInvalidTotal: number;
  statusSentTotal: number;
  statusErrorsTotal: number;
  statusPending: number;
  rescansTotal: number;
  caughtUp: boolean;
  attached: boolean;
  reader: TopicReaderState | null;
}

export interface DeviceConfigService {
  readonly hooks: DeviceControlHooks;
  /** After every (re)build of the gateway: re-publishes every own device's retained config. */
  attach(port: DevicePort): void;
  start(): void;
  close(): Promise<void>;
  stats(): DeviceConfigStats;
}

type OwnCounters = Pick<DeviceConfigStats, 'recordsTotal' | 'invalidTotal' | 'notOwnTotal' | 'replayedTotal' | 'storedTotal' | 'clearedTotal' | 'acksTotal' | 'acksIgnoredTotal' | 'acksInvalidTotal' | 'rescansTotal' | 'caughtUp'>;

const SEEN_FLUSH_NOW = 10_000;
const RESCAN_SPACING_MS = 1_000;
const CLOSE_WAIT_MS = 2_000;

class Service implements DeviceConfigService {
  readonly hooks: DeviceControlHooks;
  private readonly store: DeviceConfigStore;
  private readonly log: Logger;
  private readonly warn: RateLimitedLog;
  private readonly cfg: ControlConfig['deviceConfig'];
  private readonly maxIgnoredKeys: number;
  /** Counters this room owns; delivery and status own theirs. */
  private readonly c: OwnCounters;

  private started = false;
  private closed = false;
  private markClosed!: () => void;
  private readonly closedSignal = new Promise<void>((resolve) => (this.markClosed = resolve));
  private reader: TopicReader | null = null;
  private rescanReader: TopicReader | null = null;
  private producer: ControlProducer | null = null;

  private readonly delivery: DeviceConfigDelivery;
  private readonly status: DeviceStatusWriter;

  private readonly pendingSeen = new Set<string>();
  private seenTimer: NodeJS.Timeout | null = null;
  /** Keys of records ignored as not own; null once more than maxIgnoredKeys (then: unknown). */
  private ignoredKeys: Set<string> | null = new Set();
  private readonly rescanIds = new Set<string>();
  private rescanning: Promise<void> | null = null;
  private rescanTimer: NodeJS.Timeout | null = null;

  constructor(private readonly o: DeviceConfigServiceOptions) {
    this.log = o.logger;
    this.cfg = o.config;
    this.warn = createRateLimitedLog(o.logger, o.warnIntervalMs ?? 10_000);
    this.maxIgnoredKeys = o.maxIgnoredKeys ?? 50_000;
    this.store = createDeviceConfigStore(o.database, { ...(o.maxSeenDevices !== undefined ? { maxSeenDevices: o.maxSeenDevices } : {}), ...(o.now ? { now: o.now } : {}) });
    const retry = { initialMs: o.retryInitialMs ?? 1000, maxMs: o.retryMaxMs ?? 30_000 };
    this.status = new DeviceStatusWriter({ store: this.store, topic: o.config.statusTopic, gatewayId: o.gatewayId, warn: this.warn, retry });
    this.delivery = new DeviceConfigDelivery({ store: this.store, logger: o.logger, warn: this.warn, retry, onDelivered: (id: string) => this.status.mark(id) });
    this.c = {
      recordsTotal: 0,
      invalidTotal: 0,
      notOwnTotal: 0,
      replayedTotal: 0,
      storedTotal: 0,
      clearedTotal: 0,
      acksTotal: { applied: 0, rejected: 0 },
      acksIgnoredTotal: 0,
      acksInvalidTotal: 0,
      rescansTotal: 0,
      caughtUp: false,
    };
    this.hooks = {
      enabled: () => !this.closed,
      onDeviceConnected: (deviceId) => this.onDeviceConnected(deviceId),
      onConfigAck: (deviceId, payload) => this.onConfigAck(deviceId, payload),
    };
  }

  start(): void {
    if (this.started || this.closed) return;
    this.started = true;
    this.producer = this.o.link.producer();
    const reader = this.o.link.reader({ topic: this.cfg.topic, key: null, maxWaitMs: this.o.pollMaxWaitMs ?? 5000, onRecords: (rs) => this.onRecords(rs) });
    this.reader = reader;
    reader.caughtUp.then(
      () => {
        if (this.closed) return;
        this.c.caughtUp = true;
        this.log.info(
          { event: 'device_config_caught_up', topic: this.cfg.topic, records: this.c.recordsTotal, stored: this.c.storedTotal, notOwn: this.c.notOwnTotal, invalid: this.c.invalidTotal },
          'device configuration topic read up to its end',
        );
      },
      () => undefined,
    );
    reader.start();
    this.log.info({ event: 'device_config_start', topic: this.cfg.topic, statusTopic: this.cfg.statusTopic }, 'delivering device configuration');
    this.status.start(this.producer);
  }

  attach(port: DevicePort): void {
    if (this.closed) return;
    this.delivery.attach(port);
  }

  stats(): DeviceConfigStats {
    return {
      ...this.c,
      acksTotal: { ...this.c.acksTotal },
      deliveredTotal: this.delivery.deliveredTotal,
      deliveryErrorsTotal: this.delivery.errorsTotal,
      statusSentTotal: this.status.sentTotal,
      statusErrorsTotal: this.status.errorsTotal,
      statusPending: this.status.pending,
      attached: this.delivery.attached,
      reader: this.reader?.state() ?? null,
    };
  }

  async close(): Promise<void> {
    if (this.closed) return;
    this.closed = true;
    this.markClosed();
    for (const t of [this.seenTimer, this.rescanTimer]) if (t) clearTimeout(t);
    this.seenTimer = this.rescanTimer = null;
    try {
      this.flushSeen();
    } catch (err) {
      this.log.warn({ event: 'device_seen_write_failed', code: 'GW_ERR_CONTROL_STORE', err }, 'could not record connected devices');
    }
    const inFlight = [this.delivery.close(), this.status.close(), this.rescanning];
    await Promise.allSettled([this.reader?.close(), this.rescanReader?.close()]);
    // A send in flight while Kafka is down ends with the producer; its row stays dirty in the DB.
    await this.producer?.close().catch((err: unknown) => this.log.warn({ event: 'device_status_producer_close_failed', err }, 'device status producer close failed'));
    // Loops notice `closed` at their next step; a publish or send stuck on a dead peer is not
    // waited for longer than this (what it did not finish stays in the database).
    let timer: NodeJS.Timeout | undefined;
    await Promise.race([Promise.allSettled(inFlight), new Promise((r) => (timer = setTimeout(r, CLOSE_WAIT_MS)))]);
    clearTimeout(timer);
  }

  // --- devices -------------------------------------------------------------------------------

  private onDeviceConnected(deviceId: string): void {
    if (this.closed) return;
    this.pendingSeen.add(deviceId);
    if (this.pendingSeen.size >= SEEN_FLUSH_NOW) this.flushSeenSafely();
    else this.seenTimer ??= setTimeout(() => this.flushSeenSafely(), this.o.seenFlushMs ?? 1000);
  }

  private flushSeenSafely(): void {
    try {
      this.flushSeen();
    } catch (err) {
      // Kept in pendingSeen (isOwn still sees them); retried at the next connect or batch.
      this.warn.warn('seen_write', { event: 'device_seen_write_failed', code: 'GW_ERR_CONTROL_STORE', err }, 'could not record connected devices; retrying');
      this.seenTimer ??= setTimeout(() => this.flushSeenSafely(), this.o.retryMaxMs ?? 30_000);
    }
  }

  /** Writes pending connects to devices_seen; first-seen devices whose record we skipped get a re-read. */
  private flushSeen(): void {
    if (this.seenTimer) clearTimeout(this.seenTimer);
    this.seenTimer = null;
    if (this.pendingSeen.size === 0) return;
    const ids = [...this.pendingSeen];
    const fresh = this.store.recordSeen(ids);
    this.pendingSeen.clear();
    for (const id of fresh) {
      if (this.ignoredKeys === null || this.ignoredKeys.delete(id)) this.rescanIds.add(id);
    }
    if (this.rescanIds.size > 0) this.scheduleRescan();
  }

  private isOwn(deviceId: string): boolean {
    return this.pendingSeen.has(deviceId) || this.store.isOwn(deviceId);
  }

  // --- records from Kafka --------------------------------------------------------------------

  private async onRecords(records: ControlRecord[]): Promise<void> {
    const changed: string[] = [];
    // A failing disk must not lose records (the reader does not hand them over again): hold the
    // reader (backpressure) and retry the batch until it commits or the service closes.
    const backoff = createBackoff({ initialMs: this.o.retryInitialMs ?? 1000, maxMs: this.o.retryMaxMs ?? 30_000 });
    for (;;) {
      if (this.closed) return;
      changed.length = 0;
      try {
        this.flushSeen();
        this.store.transaction(() => {
          for (const r of records) this.applyRecord(r, changed);
        });
        break;
      } catch (err) {
        this.warn.warn('store', { event: 'device_config_store_failed', code: 'GW_ERR_CONTROL_STORE', err }, 'device configuration store failed; retrying the batch');
        await new Promise((r) => setTimeout(r, backoff.next()));
      }
    }
    this.c.recordsTotal += records.length;
    for (const id of changed) {
      this.delivery.mark(id);
      this.status.mark(id);
    }
  }

  private applyRecord(r: ControlRecord, changed: string[]): void {
    const id = r.key;
    if (id === null || !isValidDeviceId(id)) return this.invalid(r, gatewayError('GW_ERR_DEVICE_CONFIG_INVALID', 'key is not a valid device id'));
    let desired: DesiredConfig | null = null;
    if (r.value !== null) {
      try {
        desired = parseDesiredConfig(r.value);
      } catch (err) {
        return this.invalid(r, err as GatewayError);
      }
    }
    if (!this.isOwn(id)) {
      this.c.notOwnTotal++;
      this.rememberIgnored(id);
      return;
    }
    const outcome = this.store.applyDesired(id, desired, { partition: r.partition, offset: r.offset });
    if (outcome === 'replay') this.c.replayedTotal++;
    else if (outcome === 'stored' || outcome === 'cleared') {
      if (outcome === 'stored') this.c.storedTotal++;
      else this.c.clearedTotal++;
      changed.push(id);
      this.log.debug({ event: `device_config_${outcome}`, deviceId: id, version: desired?.version ?? null, partition: r.partition, offset: String(r.offset) }, 'device configuration changed');
    }
  }

  private invalid(r: ControlRecord, err: GatewayError): void {
    this.c.invalidTotal++;
    this.warn.warn(
      'invalid',
      { event: 'device_config_invalid', code: err.code, reason: err.message, key: r.key?.slice(0, 140) ?? null, partition: r.partition, offset: String(r.offset), invalidTotal: this.c.invalidTotal },
      'device configuration record skipped',
    );
  }

  private rememberIgnored(id: string): void {
    const keys = this.ignoredKeys;
    if (keys === null || keys.has(id)) return;
    if (keys.size >= this.maxIgnoredKeys) {
      // Forget them all: from now on every first-seen device triggers a re-read.
      this.ignoredKeys = null;
      return;
    }
    keys.add(id);
  }

  // --- re-read for devices seen for the first time ---------------------------------------------

  private scheduleRescan(): void {
    if (this.closed || !this.started || this.rescanning || this.rescanTimer) return;
    this.rescanning = this.rescan().finally(() => {
      this.rescanning = null;
      if (this.rescanIds.size > 0 && !this.closed) this.rescanTimer = setTimeout(() => {
        this.rescanTimer = null;
        this.scheduleRescan();
      }, RESCAN_SPACING_MS);
    });
  }

  private async rescan(): Promise<void> {
    const ids = [...this.rescanIds];
    this.rescanIds.clear();
    this.c.rescansTotal++;
    const key = ids.length === 1 ? ids[0]! : null;
    // Rare (a device's first connection here after its record was read): worth a line.
    this.log.info({ event: 'device_config_reread', devices: ids.length, deviceId: key }, 're-reading device configuration for devices seen for the first time');
    const reader = this.o.link.reader({ topic: this.cfg.topic, key, maxWaitMs: this.o.pollMaxWaitMs ?? 5000, onRecords: (rs) => this.onRecords(rs) });
    this.rescanReader = reader;
    reader.start();
    try {
      // close() closes this reader; caughtUp may then never settle.
      await Promise.race([reader.caughtUp, this.closedSignal]);
    } finally {
      this.rescanReader = null;
      await reader.close();
    }
  }

  // --- acknowledgements (synchronous: before the device's PUBACK) -----------------------------

  private onConfigAck(deviceId: string, payload: Buffer): void {
    let ack;
    try {
      ack = parseConfigAck(payload);
    } catch (err) {
      this.c.acksInvalidTotal++;
      throw err;
    }
    let outcome;
    try {
      outcome = this.store.recordAck(deviceId, ack);
    } catch (cause) {
      // Not stored, so not acknowledged: the publish is refused and the device sends it again.
      throw gatewayError('GW_ERR_CONTROL_STORE', `recording the config ack of ${deviceId}: ${describeError(cause)}`, { cause });
    }
    if (outcome !== 'recorded') {
      this.c.acksIgnoredTotal++;
      this.log.debug({ event: 'device_config_ack_ignored', deviceId, version: ack.version, state: ack.state, outcome }, 'device configuration ack not recorded');
      return;
    }
    this.c.acksTotal[ack.state]++;
    if (ack.state === 'rejected') {
      this.warn.warn(`rejected:${deviceId}`, { event: 'device_config_rejected', deviceId, version: ack.version, reason: ack.reason }, 'device rejected its configuration', 'info');
    } else {
      this.log.debug({ event: 'device_config_applied', deviceId, version: ack.version }, 'device applied its configuration');
    }
    this.status.mark(deviceId);
  }
}

export function createDeviceConfigService(opts: DeviceConfigServiceOptions): DeviceConfigService {
  return new Service(opts);
}
