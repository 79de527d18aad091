/**
 * Accepted publishes per device over a sliding window of two generations (the "busiest devices"
 * of the status page). On the hot path this is one Map lookup and set per accepted publish; every
 * `windowMs` the generations rotate, so a device that went quiet falls out after at most two
 * windows. Bounded: at most `maxDevices` ids per generation; publishes of devices beyond that are
 * counted together as `untracked` instead of growing the map, and so are ids no device may have
 * (device-id.ts: an anonymous client id is not checked at login and may be 64 KB long or hold
 * control characters), so the map's size in bytes is bounded too.
 */
import { isValidDeviceId } from './device-id.js';

export interface BusyDevice {
  deviceId: string;
  messages: number;
}

export interface BusiestDevices {
  /** The span the counts cover: from the start of the previous generation to now. */
  windowMs: number;
  devices: BusyDevice[];
  /** Publishes in that span by devices over the per-generation cap. */
  untracked: number;
}

export interface DeviceActivity {
  count(deviceId: string): void;
  /** The `k` devices with the most accepted publishes in the window, most first. */
  busiest(k: number): BusiestDevices;
  /** Starts a new generation (the timer calls it; exposed for tests). */
  rotate(): void;
  close(): void;
}

export function createDeviceActivity(opts: { maxDevices: number; windowMs: number; now?: () => number }): DeviceActivity {
  const now = opts.now ?? Date.now;
  let current = new Map<string, number>();
  let previous = new Map<string, number>();
  let untrackedCurrent = 0;
  let untrackedPrevious = 0;
  // Start of the previous generation (= of the current one until the first rotation).
  let windowStart = now();
  let currentStart = windowStart;
  const timer = opts.windowMs > 0 ? setInterval(rotate, opts.windowMs).unref() : null;

  function count(deviceId: string): void {
    const n = current.get(deviceId);
    if (n !== undefined) current.set(deviceId, n + 1);
    else if (current.size < opts.maxDevices && isValidDeviceId(deviceId)) current.set(deviceId, 1);
    else untrackedCurrent++;
  }

  function rotate(): void {
    previous = current;
    untrackedPrevious = untrackedCurrent;
    current = new Map();
    untrackedCurrent = 0;
    windowStart = currentStart;
    currentStart = now();
  }

  function busiest(k: number): BusiestDevices {
    const span = { windowMs: now() - windowStart, untracked: untrackedCurrent + untrackedPrevious };
    if (k <= 0) return { ...span, devices: [] };
    // Insertion into a small sorted array: O(n * k) with k ~ 5, no copy of the maps.
    const top: BusyDevice[] = [];
    const consider = (deviceId: string, messages: number): void => {
      if (top.length === k && messages <= top[k - 1]!.messages) return;
      let i = top.length;
      while (i > 0 && top[i - 1]!.messages < messages) i--;
      top.splice(i, 0, { deviceId, messages });
      if (top.length > k) top.pop();
    };
    for (const [id, n] of current) consider(id, n + (previous.get(id) ?? 0));
    for (const [id, n] of previous) if (!current.has(id)) consider(id, n);
    return { ...span, devices: top };
  }

  return {
    count,
    busiest,
    rotate,
    close() {
      if (timer !== null) clearInterval(timer);
    },
  };
}
