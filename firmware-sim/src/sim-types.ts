import type { DeviceReport } from './device.js';

export interface SimOptions {
  /** Broker URL, e.g. mqtt://127.0.0.1:1883 */
  url: string;
  devices: number;
  qos: 0 | 1 | 2;
  /** Each device publishes exactly this many messages, then drains. */
  messagesPerDevice?: number;
  /** Publish until this much time has passed since the start, then drain. */
  durationMs?: number;
  /** Messages per second per device; 0/undefined = as fast as the in-flight window allows. */
  ratePerDevice?: number;
  /** Default 'dev-'. */
  deviceIdPrefix?: string;
  /** Number of the first device; default 1 (-> dev-00001). */
  deviceIdStart?: number;
  /** Default 'devices/{deviceId}/telemetry'. */
  topicTemplate?: string;
  /** Pad telemetry JSON to this many bytes. */
  payloadBytes?: number;
  /** Max unacked publishes per device; default 64. */
  inflightWindow?: number;
  /** Max queued unsent messages per device; default 10,000 (oldest dropped beyond). */
  offlineQueueMax?: number;
  /** Spread device start-up over this many ms; default min(devices * 2, 2000). */
  connectSpreadMs?: number;
  /** After publishing ends, wait at most this long for acks; default 30,000. */
  drainTimeoutMs?: number;
  /** Every k-th message per device is deliberately malformed (seq sequence stays contiguous). */
  malformedEvery?: number;
  username?: string;
  password?: string;
  /** Reconnect backoff base; default 250 ms. */
  reconnectBaseMs?: number;
  /** Reconnect backoff cap; default 10,000 ms. */
  reconnectMaxMs?: number;
  /** MQTT CONNECT->CONNACK timeout; default 10,000 ms. */
  connectTimeoutMs?: number;
  /** How often hooks.onProgress fires; default 1,000 ms. */
  progressIntervalMs?: number;
  /** PRNG seed for payload noise and jitter; default 1. */
  seed?: number;
  /**
   * Each device subscribes to devices/{id}/config and applies what it understands
   * (publishIntervalMs, fields), answering on devices/{id}/config/ack; default true.
   */
  acceptConfig?: boolean;
}

export interface SimProgress {
  elapsedMs: number;
  phase: 'running' | 'draining';
  devices: number;
  connected: number;
  sent: number;
  resent: number;
  acked: number;
  errors: number;
  dropped: number;
  inflight: number;
  queued: number;
  /** Acks per second over the last progress interval. */
  msgsPerSec: number;
}

export type PerDeviceSummary = DeviceReport;

/** The seqs one device has had acknowledged so far: every seq 1..contiguousTo, and `above`. */
export interface AckedSnapshot {
  contiguousTo: number;
  /** Seqs above contiguousTo that were acknowledged too (a QoS 1 ack can pass an older one). */
  above: number[];
}

/** A live view of a running fleet (SimHooks.onStart), for tests that need the acks of a moment. */
export interface SimFleet {
  /** Devices connected now. */
  connected(): number;
  /** Per device id: exactly the seqs acknowledged up to now. */
  ackedSnapshot(): Record<string, AckedSnapshot>;
}

export interface SimSummary {
  devices: number;
  qos: 0 | 1 | 2;
  /** First sends (re-sends not included). */
  sent: number;
  resent: number;
  acked: number;
  errors: number;
  dropped: number;
  /** Generated but never sent (still queued when the run ended). */
  unsent: number;
  reconnects: number;
  elapsedMs: number;
  /** acked / elapsed seconds. */
  msgsPerSec: number;
  /** Publish -> PUBACK (QoS 1) / PUBCOMP (QoS 2) / socket write (QoS 0), from the latest (re)send. */
  latencyMs: { p50: number; p99: number; p999: number; max: number };
  perDevice: Record<string, PerDeviceSummary>;
}
