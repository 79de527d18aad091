import { connect, ErrorWithReasonCode, type MqttClient, type IClientOptions } from 'mqtt';
import { createBackoff, type Backoff } from '../../gateway/src/lib/backoff.js';
import { InflightWindow } from './inflight-window.js';
import type { LatencyHistogram } from './latency-histogram.js';
import { makeMalformedTelemetry } from './malformed-telemetry.js';
import { OfflineQueue } from './offline-queue.js';
import type { Rng } from './rng.js';
import { makeTelemetry, type TelemetryOptions } from './telemetry.js';
import type { AckedSnapshot } from './sim-types.js';
import { DeviceConfigState, extraFieldsJson, type ConfigAckPayload, type SimDeviceConfig } from './device-config.js';

export interface DeviceOptions {
  deviceId: string;
  url: string;
  /** Fully expanded publish topic. */
  topic: string;
  qos: 0 | 1 | 2;
  /** Max unacknowledged publishes at once (QoS 0: unwritten publishes). */
  inflightWindow: number;
  /** Max generated-but-unsent messages kept while offline / window full; oldest dropped beyond. */
  offlineQueueMax: number;
  /** Stop generating after this many messages (undefined = until stopGenerating()). */
  messagesPerDevice?: number;
  /** Messages per second; 0 = as fast as the in-flight window allows. */
  ratePerDevice: number;
  payloadBytes?: number;
  /** Every k-th seq carries a deliberately malformed payload. */
  malformedEvery?: number;
  /** After generation stops, wait at most this long for outstanding acks. */
  drainTimeoutMs: number;
  reconnectBaseMs: number;
  reconnectMaxMs: number;
  connectTimeoutMs: number;
  username?: string;
  password?: string;
  /** Shared publish->ack latency histogram. */
  histogram: LatencyHistogram;
  rng: Rng;
  /** Called once when the device has nothing left to do (all acked, or drain timed out). */
  onFinished?: (device: Device) => void;
  /**
   * Subscribe to devices/{id}/config (QoS 1), apply publishIntervalMs / fields and answer on
   * devices/{id}/config/ack (see device-config.ts).
   */
  acceptConfig?: boolean;
}

/** JSON-serialisable end-of-run report for one device. */
export interface DeviceReport {
  sent: number;
  acked: number;
  highestAckedSeq: number;
  ackedContiguousTo: number;
  dropped: number;
  malformedSeqs: number[];
  resent: number;
  errors: number;
  /** Inclusive [from, to] seq ranges evicted from the offline queue (never sent). */
  droppedSeqRanges: [number, number][];
  /** Seqs sent at least once but never acknowledged (in flight at the end, or rejected). */
  unackedSeqs: number[];
  /** Generated messages still queued (never sent) when the run ended. */
  unsent: number;
  reconnects: number;
  /** Configuration version applied (null: start-up settings), times a config was applied, answers sent. */
  configVersion: number | null;
  configApplied: number;
  configAcks: number;
}

const MAX_FAILED_SEQS = 10_000;
const noop = (): void => {}; // MQTT.js log sink

/**
 * One simulated device: one MQTT connection (clientId = deviceId, clean session), a per-device
 * monotonic seq starting at 1, a bounded in-flight window and a bounded offline queue.
 * Reconnects itself with full-jitter exponential backoff and re-sends every unacked message
 * (same seq, same payload) after reconnecting — at-least-once delivery, like real firmware.
 */
export class Device {
  readonly id: string;
  // --- counters -------------------------------------------------------------------------
  sent = 0;
  resent = 0;
  acked = 0;
  errors = 0;
  dropped = 0;
  reconnects = 0;
  highestAckedSeq = 0;
  connected = false;
  finished = false;

  private readonly o: DeviceOptions;
  private readonly pubOpts: { qos: 0 | 1 | 2 };
  private client: MqttClient | null = null;
  private gen = 0;
  private slotCbs: ((err?: Error) => void)[] = [];
  private started = false;
  private generating = false;
  private pumping = false;
  private pumpScheduled = false;
  private nextSeq = 1;
  private startedAt = 0;
  private readonly initialUptimeSecs: number;
  /** Full jitter spreads a reconnecting fleet over time instead of hammering the broker in lock-step. */
  private readonly reconnectBackoff: Backoff;
  private everConnected = false;
  private reconnectTimer: NodeJS.Timeout | undefined;
  private rateTimer: NodeJS.Timeout | undefined;
  private drainTimer: NodeJS.Timeout | undefined;

  private readonly window: InflightWindow;
  private readonly queue: OfflineQueue;
  /** Lowest seq that can never be acked (dropped or rejected); Infinity if none. */
  private firstHole = Infinity;
  private readonly droppedRanges: [number, number][] = [];
  private readonly failedSeqs: number[] = [];
  private readonly malformed: number[] = [];
  /** Messages per second now (0 = as fast as the window allows); a config can change it. */
  private rate: number;
  /** Rate credit is counted from here: time and the nextSeq of that moment. */
  private rateBaseAt = 0;
  private rateBaseSeq = 1;
  private telemetryOpts: TelemetryOptions | undefined;
  private readonly config = new DeviceConfigState();
  private readonly configTopic: string;
  private configApplied = 0;
  private configAcks = 0;
  private readonly pumpBound = (): void => {
    this.pumpScheduled = false;
    this.pump();
  };

  constructor(opts: DeviceOptions) {
    this.o = opts;
    this.id = opts.deviceId;
    this.pubOpts = { qos: opts.qos };
    this.window = new InflightWindow(opts.inflightWindow);
    this.queue = new OfflineQueue(opts.offlineQueueMax);
    this.initialUptimeSecs = Math.floor(opts.rng() * 7 * 86_400);
    this.reconnectBackoff = createBackoff({ initialMs: opts.reconnectBaseMs, maxMs: opts.reconnectMaxMs, random: opts.rng });
    this.rate = opts.ratePerDevice;
    this.telemetryOpts = opts.payloadBytes !== undefined ? { payloadBytes: opts.payloadBytes } : undefined;
    this.configTopic = `devices/${opts.deviceId}/config`;
  }

  get inflight(): number {
    return this.window.size;
  }

  get queued(): number {
    return this.queue.length;
  }

  /** Highest n such that every seq 1..n has been acknowledged. */
  get ackedContiguousTo(): number {
    return Math.min(this.firstHole, this.queue.peekSeq(), this.nextSeq, this.window.minSeq()) - 1;
  }

  /** Exactly the seqs acknowledged so far (see AckedSnapshot). */
  ackedSnapshot(): AckedSnapshot {
    const contiguousTo = this.ackedContiguousTo;
    const above: number[] = [];
    if (this.highestAckedSeq > contiguousTo) {
      // Not acknowledged: in flight, rejected, or dropped from the offline queue unsent.
      const open = new Set([...this.window.seqList(), ...this.failedSeqs]);
      const dropped = (s: number) => this.droppedRanges.some(([from, to]) => s >= from && s <= to);
      for (let s = contiguousTo + 1; s <= this.highestAckedSeq; s++) if (!open.has(s) && !dropped(s)) above.push(s);
    }
    return { contiguousTo, above };
  }

  /** Begin connecting and generating. */
  start(): void {
    if (this.started || this.finished) return;
    this.started = true;
    this.generating = true;
    this.startedAt = performance.now();
    this.rateBaseAt = this.startedAt;
    if (this.o.messagesPerDevice !== undefined && this.o.messagesPerDevice <= 0) {
      this.endGeneration();
      this.checkFinished();
      return;
    }
    this.startRateTimer();
    this.connect();
  }

  private startRateTimer(): void {
    if (this.rateTimer) clearInterval(this.rateTimer);
    this.rateTimer = undefined;
    if (this.rate > 0) {
      // Coarse ticks (100 ms..1 s) batch writes and timer work; generation is credit-based, so the
      // average rate is exact regardless of tick length.
      const tickMs = Math.min(1000, Math.max(100, 1000 / this.rate));
      this.rateTimer = setInterval(() => this.tick(), tickMs);
      this.tick();
    }
  }

  /** Stop producing new messages; finish once everything outstanding is acked or the drain times out. */
  stopGenerating(): void {
    if (!this.started) {
      this.finish();
      return;
    }
    this.endGeneration();
    this.checkFinished();
  }

  private endGeneration(): void {
    if (!this.generating) return;
    this.generating = false;
    if (this.rateTimer) clearInterval(this.rateTimer);
    this.rateTimer = undefined;
    if (!this.finished) this.drainTimer = setTimeout(() => this.finish(), this.o.drainTimeoutMs);
  }

  /** Disconnect (gracefully if nothing is in flight). Resolves once the socket is closed. */
  close(): Promise<void> {
    this.generating = false;
    this.finish();
    const c = this.client;
    this.client = null;
    this.connected = false;
    this.gen++;
    if (!c) return Promise.resolve();
    return new Promise<void>((resolve) => {
      const graceful = c.connected && this.inflight === 0;
      const timer = setTimeout(() => {
        c.end(true);
        resolve();
      }, 2000);
      c.end(!graceful, () => {
        clearTimeout(timer);
        resolve();
      });
    });
  }

  report(): DeviceReport {
    const unacked = this.window.seqList().concat(this.failedSeqs).sort((a, b) => a - b);
    return {
      sent: this.sent,
      acked: this.acked,
      highestAckedSeq: this.highestAckedSeq,
      ackedContiguousTo: this.ackedContiguousTo,
      dropped: this.dropped,
      malformedSeqs: this.malformed.slice(),
      resent: this.resent,
      errors: this.errors,
      droppedSeqRanges: this.droppedRanges.map((r): [number, number] => [r[0], r[1]]),
      unackedSeqs: unacked,
      unsent: this.queue.length,
      reconnects: this.reconnects,
      configVersion: this.config.appliedVersion,
      configApplied: this.configApplied,
      configAcks: this.configAcks,
    };
  }

  // --- connection management ------------------------------------------------------------

  private connect(): void {
    this.reconnectTimer = undefined;
    if (this.finished) return;
    const gen = ++this.gen;
    const opts: IClientOptions = {
      clientId: this.id,
      clean: true,
      reconnectPeriod: 0,
      connectTimeout: this.o.connectTimeoutMs,
      queueQoSZero: false,
      resubscribe: false,
      keepalive: 30,
      protocolVersion: 4,
      reschedulePings: false, // avoids a timer reset per publish
      log: noop, // MQTT.js' debug() logging costs ~5 % CPU at high rates even when disabled
    };
    if (this.o.username !== undefined) opts.username = this.o.username;
    if (this.o.password !== undefined) opts.password = this.o.password;
    const w = this.o.inflightWindow;
    const cbs = new Array<(err?: Error) => void>(w);
    for (let i = 0; i < w; i++) cbs[i] = (err?: Error) => this.onAck(gen, i, err);
    this.slotCbs = cbs;
    const client = connect(this.o.url, opts);
    this.client = client;
    client.on('connect', () => this.onConnect(gen));
    if (this.o.acceptConfig === true) client.on('message', (topic, payload) => this.onMessage(gen, topic, payload));
    client.on('close', () => this.onClose(gen));
    client.on('error', () => {
      if (gen === this.gen) this.errors++;
    });
    // QoS 0 publishes park one 'drain' listener each while the socket buffer is full.
    client.stream?.setMaxListeners(w + 16);
  }

  private onConnect(gen: number): void {
    if (gen !== this.gen || this.finished) return;
    this.connected = true;
    this.reconnectBackoff.reset();
    if (this.everConnected) this.reconnects++;
    this.everConnected = true;
    // Clean session: subscribe at every connect; the retained config (if any) arrives after SUBACK.
    if (this.o.acceptConfig === true) this.client!.subscribe(this.configTopic, { qos: 1 }, noop);
    this.resendInflight();
    this.pump();
  }

  private onClose(gen: number): void {
    if (gen !== this.gen) return;
    const c = this.client;
    this.client = null;
    this.connected = false;
    this.gen++; // invalidate callbacks still held by the dead client
    c?.end(true);
    if (this.finished) return;
    const delay = this.reconnectBackoff.next();
    this.reconnectTimer = setTimeout(() => this.connect(), delay);
  }

  /** After a reconnect: re-publish every unacked message, oldest seq first, same payload. */
  private resendInflight(): void {
    if (this.window.size === 0) return;
    const client = this.client!;
    const cbs = this.slotCbs;
    for (const slot of this.window.slotsBySeq()) {
      if (!this.connected) return;
      this.window.touch(slot, performance.now());
      this.resent++;
      client.publish(this.o.topic, this.window.payloadAt(slot), this.pubOpts, cbs[slot]);
    }
  }

  // --- configuration ---------------------------------------------------------------------------

  private onMessage(gen: number, topic: string, payload: Buffer): void {
    if (gen !== this.gen || topic !== this.configTopic || this.finished) return;
    const d = this.config.decide(payload);
    if (d.kind === 'ignore') return;
    if (d.kind === 'apply') this.applyConfig(d.config);
    this.sendConfigAck(d.ack);
  }

  private applyConfig(c: SimDeviceConfig): void {
    this.configApplied++;
    const extra = extraFieldsJson(c.fields);
    const opts: TelemetryOptions = {};
    if (this.o.payloadBytes !== undefined) opts.payloadBytes = this.o.payloadBytes;
    if (extra !== '') opts.extraFields = extra;
    this.telemetryOpts = Object.keys(opts).length > 0 ? opts : undefined;
    const rate = c.publishIntervalMs !== undefined ? 1000 / c.publishIntervalMs : this.o.ratePerDevice;
    if (rate !== this.rate && this.generating) {
      // Rebase the credit so the new period starts now (no burst to "catch up").
      this.rate = rate;
      this.rateBaseAt = performance.now();
      this.rateBaseSeq = this.nextSeq - 1;
      this.startRateTimer();
      this.pump();
    } else this.rate = rate;
  }

  private sendConfigAck(ack: ConfigAckPayload): void {
    const c = this.client;
    if (c === null || !this.connected) return;
    this.configAcks++;
    c.publish(`${this.configTopic}/ack`, JSON.stringify(ack), { qos: 1 }, noop);
  }

  // --- message flow ------------------------------------------------------------------------

  /** Rate mode: generate whatever is due; send it if the window has room, else queue it. */
  private tick(): void {
    if (!this.generating) return;
    const elapsed = performance.now() - this.rateBaseAt;
    let due = Math.floor((elapsed * this.rate) / 1000) + 1 - (this.nextSeq - this.rateBaseSeq);
    while (due-- > 0 && this.generating) {
      const seq = this.nextSeq;
      const payload = this.generate();
      if (this.connected && this.window.hasRoom && this.queue.length === 0) this.send(seq, payload);
      else {
        const evicted = this.queue.push(seq, payload);
        if (evicted >= 0) this.recordDrop(evicted);
      }
    }
    this.pump();
  }

  private generate(): string {
    const seq = this.nextSeq++;
    const k = this.o.malformedEvery;
    let payload: string;
    if (k !== undefined && k > 0 && seq % k === 0) {
      this.malformed.push(seq);
      payload = makeMalformedTelemetry(this.id, seq, seq / k);
    } else {
      const uptime = this.initialUptimeSecs + (performance.now() - this.startedAt) / 1000;
      payload = makeTelemetry(this.id, seq, uptime, this.o.rng, this.telemetryOpts);
    }
    const n = this.o.messagesPerDevice;
    if (n !== undefined && seq >= n) this.endGeneration(); // caller sends it, then checks for completion
    return payload;
  }

  private recordDrop(seq: number): void {
    this.dropped++;
    if (seq < this.firstHole) this.firstHole = seq;
    const last = this.droppedRanges[this.droppedRanges.length - 1];
    if (last && last[1] === seq - 1) last[1] = seq;
    else this.droppedRanges.push([seq, seq]);
  }

  /** Fill the in-flight window from the offline queue (or freshly generated messages in max-rate mode). */
  private pump(): void {
    if (!this.connected || this.pumping || this.finished) return;
    this.pumping = true;
    const rateMode = this.rate > 0;
    let budget = this.o.inflightWindow; // yield to the event loop now and then (QoS 0 "acks" synchronously)
    while (this.window.hasRoom && this.connected) {
      let seq: number;
      let payload: string;
      if (this.queue.length > 0) {
        seq = this.queue.peekSeq();
        payload = this.queue.peekPayload();
        this.queue.discardHead();
      } else if (!rateMode && this.generating) {
        seq = this.nextSeq;
        payload = this.generate();
      } else break;
      this.send(seq, payload);
      if (--budget === 0) {
        this.schedulePump();
        break;
      }
    }
    this.pumping = false;
    this.checkFinished();
  }

  private send(seq: number, payload: string): void {
    const slot = this.window.acquire(seq, payload, performance.now());
    this.sent++;
    this.client!.publish(this.o.topic, payload, this.pubOpts, this.slotCbs[slot]);
  }

  private onAck(gen: number, slot: number, err: Error | undefined): void {
    if (gen !== this.gen || !this.window.isBusy(slot)) return;
    const seq = this.window.seqAt(slot);
    if (err) {
      // Transport errors ("Connection closed", keepalive timeout...) leave the message in its
      // slot: it is re-sent after reconnecting. Only an explicit negative ack (MQTT 5 reason
      // code) is a permanent rejection.
      if (!(err instanceof ErrorWithReasonCode)) return;
      this.errors++;
      if (seq < this.firstHole) this.firstHole = seq;
      if (this.failedSeqs.length < MAX_FAILED_SEQS) this.failedSeqs.push(seq);
    } else {
      this.o.histogram.record(performance.now() - this.window.sentAtOf(slot));
      this.acked++;
      if (seq > this.highestAckedSeq) this.highestAckedSeq = seq;
    }
    this.window.release(slot);
    // Refill from a macrotask, never synchronously: acks can arrive inside process.nextTick chains
    // (socket 'drain', QoS 0 write callbacks), and publishing from there can starve timers.
    // Deferring also coalesces all acks of one socket read into a single refill / writev.
    if (!this.pumping) this.schedulePump();
  }

  private schedulePump(): void {
    if (this.pumpScheduled) return;
    this.pumpScheduled = true;
    setImmediate(this.pumpBound);
  }

  private checkFinished(): void {
    if (!this.finished && !this.generating && this.started && this.window.size === 0 && this.queue.length === 0) {
      this.finish();
    }
  }

  private finish(): void {
    if (this.finished) return;
    this.finished = true;
    this.generating = false;
    if (this.rateTimer) clearInterval(this.rateTimer);
    if (this.drainTimer) clearTimeout(this.drainTimer);
    if (this.reconnectTimer) clearTimeout(this.reconnectTimer);
    this.rateTimer = this.drainTimer = this.reconnectTimer = undefined;
    this.o.onFinished?.(this);
  }
}
