import { hashString, type Rng } from './rng.js';

export const FIRMWARE_VERSION = '1.4.2';

export interface TelemetryOptions {
  /** Pad the JSON with a `"pad":"xxx…"` field so the payload is (at least) this many bytes. */
  payloadBytes?: number;
  /** Override the timestamp (epoch ms); defaults to Date.now(). */
  ts?: number;
  /** Extra fields as JSON text to append inside the object (`,"fw":"2"`), from the device's config. */
  extraFields?: string;
}

const TWO_PI = Math.PI * 2;
const PAD_OVERHEAD = ',"pad":""'.length;
let padCache = 'x'.repeat(256);

function pad(n: number): string {
  if (n > padCache.length) padCache = 'x'.repeat(Math.max(n, padCache.length * 2));
  return padCache.slice(0, n);
}

function round(v: number, decimals: 1 | 2): number {
  const f = decimals === 1 ? 10 : 100;
  return Math.round(v * f) / f;
}

/**
 * One telemetry reading as a JSON string. Values drift plausibly with uptime (slow sinusoidal
 * temperature/humidity cycles around a per-device baseline, battery draining) plus a little
 * noise from `rng`.
 */
export function makeTelemetry(
  deviceId: string,
  seq: number,
  uptimeSecs: number,
  rng: Rng,
  opts?: TelemetryOptions,
): string {
  const h = hashString(deviceId);
  const baseTemp = 18 + (h & 0xff) / 32; // 18..26 °C
  const baseHum = 35 + ((h >>> 8) & 0xff) / 10; // 35..60 %
  const batteryStart = 70 + ((h >>> 16) & 0xff) / 8.5; // 70..100 %
  const phase = ((h >>> 24) / 256) * TWO_PI;

  const temperature = round(
    baseTemp + 2.5 * Math.sin((TWO_PI * uptimeSecs) / 3600 + phase) + (rng() - 0.5) * 0.4,
    2,
  );
  const humidity = round(
    Math.min(100, Math.max(0, baseHum + 8 * Math.sin((TWO_PI * uptimeSecs) / 5400 + phase) + (rng() - 0.5) * 1.5)),
    1,
  );
  const battery = round(Math.max(0, batteryStart - (uptimeSecs / 3600) * 0.8), 1); // drains monotonically
  const ts = opts?.ts ?? Date.now();

  const body =
    `{"deviceId":${JSON.stringify(deviceId)},"seq":${seq},"ts":${ts},"temperature":${temperature},` +
    `"humidity":${humidity},"battery":${battery},"firmwareVersion":"${FIRMWARE_VERSION}","uptimeSecs":${Math.floor(uptimeSecs)}` +
    (opts?.extraFields ?? '');

  const target = opts?.payloadBytes;
  if (target !== undefined && target > 0) {
    const missing = target - Buffer.byteLength(body) - 1 - PAD_OVERHEAD;
    if (missing >= 0) return `${body},"pad":"${pad(missing)}"}`;
  }
  return `${body}}`;
}
