import { Device } from './device.js';
import { formatDeviceId, topicFor } from './device-id.js';
import { LatencyHistogram } from './latency-histogram.js';
import { createRng, hashString } from './rng.js';
import type { AckedSnapshot, SimFleet, SimOptions, SimProgress, SimSummary } from './sim-types.js';

export type { AckedSnapshot, SimFleet, SimOptions, SimProgress, SimSummary, PerDeviceSummary } from './sim-types.js';

export interface SimHooks {
  onProgress?(p: SimProgress): void;
  /** Aborting stops publishing; outstanding messages are drained (bounded by drainTimeoutMs). */
  signal?: AbortSignal;
  /** Called once the devices exist, with a live view of them (power-cut tests read the acks). */
  onStart?(fleet: SimFleet): void;
}

function positiveInt(name: string, v: number | undefined, dflt: number, min = 1): number {
  const x = v ?? dflt;
  if (!Number.isInteger(x) || x < min) throw new RangeError(`${name} must be an integer >= ${min}, got ${String(v)}`);
  return x;
}

function nonNegative(name: string, v: number | undefined, dflt: number): number {
  const x = v ?? dflt;
  if (!Number.isFinite(x) || x < 0) throw new RangeError(`${name} must be a finite number >= 0, got ${String(v)}`);
  return x;
}

const PROTOCOLS = new Set(['mqtt:', 'mqtts:', 'tcp:', 'tls:', 'ssl:', 'ws:', 'wss:']);

function checkUrl(url: string): void {
  let u: URL;
  try {
    u = new URL(url);
  } catch {
    throw new RangeError(`invalid broker url "${url}"`);
  }
  if (!PROTOCOLS.has(u.protocol)) throw new RangeError(`unsupported broker url protocol "${u.protocol}" in "${url}"`);
}

function round3(v: number): number {
  return Math.round(v * 1000) / 1000;
}

/**
 * Run a fleet of simulated devices against an MQTT broker and return a JSON-serialisable summary.
 * Ends when every device has finished (count reached / duration over / aborted, then all acked or
 * drain timed out).
 */
export async function runSimulation(opts: SimOptions, hooks: SimHooks = {}): Promise<SimSummary> {
  const n = positiveInt('devices', opts.devices, 1);
  checkUrl(opts.url);
  if (opts.qos !== 0 && opts.qos !== 1 && opts.qos !== 2) throw new RangeError(`qos must be 0, 1 or 2, got ${String(opts.qos)}`);
  if (opts.messagesPerDevice !== undefined) positiveInt('messagesPerDevice', opts.messagesPerDevice, 0, 0);
  const durationMs = opts.durationMs === undefined ? undefined : nonNegative('durationMs', opts.durationMs, 0);
  const rate = nonNegative('ratePerDevice', opts.ratePerDevice, 0);
  const window = positiveInt('inflightWindow', opts.inflightWindow, 64);
  const queueMax = positiveInt('offlineQueueMax', opts.offlineQueueMax, 10_000);
  const spreadMs = nonNegative('connectSpreadMs', opts.connectSpreadMs, Math.min(n * 2, 2000));
  const drainTimeoutMs = nonNegative('drainTimeoutMs', opts.drainTimeoutMs, 30_000);
  const progressMs = positiveInt('progressIntervalMs', opts.progressIntervalMs, 1000);
  const malformedEvery = opts.malformedEvery === undefined ? undefined : positiveInt('malformedEvery', opts.malformedEvery, 1);
  const prefix = opts.deviceIdPrefix ?? 'dev-';
  const firstId = positiveInt('deviceIdStart', opts.deviceIdStart, 1, 0);
  const idWidth = Math.max(5, String(firstId + n - 1).length);
  const template = opts.topicTemplate ?? 'devices/{deviceId}/telemetry';
  const seed = opts.seed ?? 1;

  const histogram = new LatencyHistogram();
  const devices: Device[] = [];
  let finishedCount = 0;
  let allFinished!: () => void;
  const done = new Promise<void>((resolve) => (allFinished = resolve));
  const onFinished = (): void => {
    if (++finishedCount === n) allFinished();
  };

  for (let i = 0; i < n; i++) {
    const deviceId = formatDeviceId(prefix, firstId + i, idWidth);
    devices.push(
      new Device({
        deviceId,
        url: opts.url,
        topic: topicFor(template, deviceId),
        qos: opts.qos,
        inflightWindow: window,
        offlineQueueMax: queueMax,
        ...(opts.messagesPerDevice !== undefined ? { messagesPerDevice: opts.messagesPerDevice } : {}),
        ratePerDevice: rate,
        ...(opts.payloadBytes !== undefined ? { payloadBytes: opts.payloadBytes } : {}),
        ...(malformedEvery !== undefined ? { malformedEvery } : {}),
        drainTimeoutMs,
        reconnectBaseMs: nonNegative('reconnectBaseMs', opts.reconnectBaseMs, 250),
        reconnectMaxMs: nonNegative('reconnectMaxMs', opts.reconnectMaxMs, 10_000),
        connectTimeoutMs: positiveInt('connectTimeoutMs', opts.connectTimeoutMs, 10_000),
        ...(opts.username !== undefined ? { username: opts.username } : {}),
        ...(opts.password !== undefined ? { password: opts.password } : {}),
        histogram,
        acceptConfig: opts.acceptConfig ?? true,
        rng: createRng((seed * 0x9e3779b1) ^ hashString(deviceId)),
        onFinished,
      }),
    );
  }

  hooks.onStart?.({
    connected: () => devices.reduce((n, d) => n + (d.connected ? 1 : 0), 0),
    ackedSnapshot: () => {
      const out: Record<string, AckedSnapshot> = {};
      for (const d of devices) out[d.id] = d.ackedSnapshot();
      return out;
    },
  });

  const t0 = performance.now();
  let stopped = false;
  const startTimers: NodeJS.Timeout[] = [];
  const stopAll = (): void => {
    if (stopped) return;
    stopped = true;
    for (const t of startTimers) clearTimeout(t);
    for (const d of devices) d.stopGenerating();
  };

  // Stagger start-up so a large fleet doesn't stampede the broker.
  for (let i = 0; i < n; i++) {
    const d = devices[i]!;
    const delay = n > 1 ? (i * spreadMs) / n : 0;
    if (delay === 0) d.start();
    else startTimers.push(setTimeout(() => d.start(), delay));
  }

  const durationTimer = durationMs !== undefined ? setTimeout(stopAll, durationMs) : undefined;
  const onAbort = (): void => stopAll();
  if (hooks.signal?.aborted) stopAll();
  else hooks.signal?.addEventListener('abort', onAbort, { once: true });

  let lastAcked = 0;
  let lastAt = t0;
  const progressTimer = hooks.onProgress
    ? setInterval(() => {
        const now = performance.now();
        const p = collectProgress(devices, now - t0, stopped);
        const dt = (now - lastAt) / 1000;
        p.msgsPerSec = dt > 0 ? Math.round((p.acked - lastAcked) / dt) : 0;
        lastAcked = p.acked;
        lastAt = now;
        hooks.onProgress?.(p);
      }, progressMs)
    : undefined;

  try {
    await done;
  } finally {
    clearTimeout(durationTimer);
    clearInterval(progressTimer);
    hooks.signal?.removeEventListener('abort', onAbort);
  }
  const elapsedMs = performance.now() - t0;
  await Promise.all(devices.map((d) => d.close()));
  return buildSummary(devices, opts.qos, elapsedMs, histogram);
}

function collectProgress(devices: Device[], elapsedMs: number, draining: boolean): SimProgress {
  const p: SimProgress = {
    elapsedMs: Math.round(elapsedMs),
    phase: draining ? 'draining' : 'running',
    devices: devices.length,
    connected: 0,
    sent: 0,
    resent: 0,
    acked: 0,
    errors: 0,
    dropped: 0,
    inflight: 0,
    queued: 0,
    msgsPerSec: 0,
  };
  for (const d of devices) {
    if (d.connected) p.connected++;
    p.sent += d.sent;
    p.resent += d.resent;
    p.acked += d.acked;
    p.errors += d.errors;
    p.dropped += d.dropped;
    p.inflight += d.inflight;
    p.queued += d.queued;
  }
  return p;
}

function buildSummary(devices: Device[], qos: 0 | 1 | 2, elapsedMs: number, h: LatencyHistogram): SimSummary {
  const s: SimSummary = {
    devices: devices.length,
    qos,
    sent: 0,
    resent: 0,
    acked: 0,
    errors: 0,
    dropped: 0,
    unsent: 0,
    reconnects: 0,
    elapsedMs: Math.round(elapsedMs),
    msgsPerSec: 0,
    latencyMs: { p50: round3(h.percentile(50)), p99: round3(h.percentile(99)), p999: round3(h.percentile(99.9)), max: round3(h.maxMs) },
    perDevice: {},
  };
  for (const d of devices) {
    const r = d.report();
    s.perDevice[d.id] = r;
    s.sent += r.sent;
    s.resent += r.resent;
    s.acked += r.acked;
    s.errors += r.errors;
    s.dropped += r.dropped;
    s.unsent += r.unsent;
    s.reconnects += r.reconnects;
  }
  s.msgsPerSec = elapsedMs > 0 ? Math.round((s.acked / elapsedMs) * 1000) : 0;
  return s;
}
