/**
 * Per-source delay against password guessing. After failed logins from a source address, its
 * next attempts wait: the first failure is free (a device with a stale secret, a typo), then
 * 250 ms, 500 ms, 1 s ... doubling to a cap (10 s). Attempts are also spaced out, not only
 * delayed: each admitted attempt reserves the next slot, so a source that opens many connections
 * at once gets one guess per penalty interval, not one burst after the delay.
 *
 * A success does not clear the record: an attacker holding one valid credential could otherwise
 * log in between guesses at other devices and reset its penalty. Records fade instead: a source
 * with no failure for `forgetAfterMs` starts over. Memory is bounded: at most `maxSources`
 * records, the source whose last failure is oldest is forgotten first (counted).
 *
 * Pure: no timers, no sockets; the caller waits `admit()` ms before authenticating, and the
 * clock is injected.
 */
import { isIP } from 'node:net';
import { LruMap } from './lru-map.js';

export interface FailureThrottleOptions {
  /** Failures from one source before its attempts are delayed (default 1: the first is free). */
  freeFailures?: number;
  /** Delay after the first counted failure (default 250 ms); doubles with each further one. */
  baseDelayMs?: number;
  /** Longest delay, and the furthest ahead a slot is ever reserved (default 10 s). */
  maxDelayMs?: number;
  /** A source with no failure for this long is forgotten (default 10 min). */
  forgetAfterMs?: number;
  /** Sources tracked at once (default 10,000); the one with the oldest failure goes first. */
  maxSources?: number;
  now?: () => number;
}

export interface FailureThrottleStats {
  trackedSources: number;
  failuresTotal: number;
  /** Attempts told to wait (> 0 ms). */
  delayedTotal: number;
  /** Sources forgotten early because the table was full. */
  evictedTotal: number;
}

interface SourceRecord {
  failures: number;
  lastFailureAt: number;
  /** Earliest time the next attempt from this source may proceed. */
  nextAt: number;
}

export class FailureThrottle {
  private readonly sources: LruMap<string, SourceRecord>;
  private readonly freeFailures: number;
  private readonly baseDelayMs: number;
  private readonly maxDelayMs: number;
  private readonly forgetAfterMs: number;
  private readonly now: () => number;
  private failuresTotal = 0;
  private delayedTotal = 0;

  constructor(opts: FailureThrottleOptions = {}) {
    this.freeFailures = opts.freeFailures ?? 1;
    this.baseDelayMs = opts.baseDelayMs ?? 250;
    this.maxDelayMs = opts.maxDelayMs ?? 10_000;
    this.forgetAfterMs = opts.forgetAfterMs ?? 10 * 60_000;
    this.sources = new LruMap(opts.maxSources ?? 10_000);
    this.now = opts.now ?? Date.now;
  }

  /** Delay for the `failures`-th consecutive failure: 0 while free, then base * 2^k, capped. */
  penaltyMs(failures: number): number {
    const counted = failures - this.freeFailures;
    if (counted <= 0) return 0;
    // 2^k overflows to Infinity long after it passed the cap; min() keeps it finite.
    return Math.min(this.maxDelayMs, this.baseDelayMs * 2 ** (counted - 1));
  }

  /**
   * Milliseconds an authentication attempt from `source` must wait before it is checked, and
   * reserves the following slot for the next attempt. 0 for a source without recent failures.
   */
  admit(source: string): number {
    const rec = this.sources.peek(source);
    if (!rec) return 0;
    const now = this.now();
    if (now - rec.lastFailureAt >= this.forgetAfterMs) {
      this.sources.delete(source);
      return 0;
    }
    const penalty = this.penaltyMs(rec.failures);
    if (penalty === 0) return 0;
    const delay = Math.min(this.maxDelayMs, Math.max(0, rec.nextAt - now));
    rec.nextAt = now + Math.min(this.maxDelayMs, delay + penalty);
    if (delay > 0) this.delayedTotal++;
    return delay;
  }

  /** Counts a failed login from `source`; its next attempt waits the penalty from now. */
  recordFailure(source: string): void {
    const now = this.now();
    let rec = this.sources.get(source);
    if (rec && now - rec.lastFailureAt >= this.forgetAfterMs) rec = undefined;
    if (!rec) rec = { failures: 0, lastFailureAt: now, nextAt: now };
    rec.failures++;
    rec.lastFailureAt = now;
    rec.nextAt = Math.max(rec.nextAt, now + this.penaltyMs(rec.failures));
    this.sources.set(source, rec);
    this.failuresTotal++;
  }

  /** Consecutive recent failures counted for `source` (0 when unknown or forgotten). */
  failures(source: string): number {
    const rec = this.sources.peek(source);
    if (!rec || this.now() - rec.lastFailureAt >= this.forgetAfterMs) return 0;
    return rec.failures;
  }

  stats(): FailureThrottleStats {
    return {
      trackedSources: this.sources.size,
      failuresTotal: this.failuresTotal,
      delayedTotal: this.delayedTotal,
      evictedTotal: this.sources.evictedTotal,
    };
  }
}

export function createFailureThrottle(opts?: FailureThrottleOptions): FailureThrottle {
  return new FailureThrottle(opts);
}

/**
 * The key a login attempt is throttled under, from the socket's remote address. IPv4 (also
 * written IPv4-mapped, "::ffff:10.0.0.7", as dual-stack listeners report it): the address. IPv6:
 * its /64, since one host can use any address of its /64 and would otherwise get a fresh,
 * unpenalised record with each.
 */
export function throttleKey(remoteAddress: string | undefined): string {
  if (!remoteAddress) return 'unknown';
  const addr = remoteAddress.replace(/%.*$/, ''); // zone id (fe80::1%eth0)
  const mapped = /^::ffff:(\d+\.\d+\.\d+\.\d+)$/i.exec(addr);
  if (mapped) return mapped[1]!;
  if (isIP(addr) !== 6) return addr;
  const groups = expandIpv6(addr);
  return `${groups.slice(0, 4).join(':')}::/64`;
}

/** The 8 hextets of a valid IPv6 address, lower-case without leading zeros. */
function expandIpv6(addr: string): string[] {
  let text = addr;
  const v4 = /(\d+)\.(\d+)\.(\d+)\.(\d+)$/.exec(text);
  if (v4) {
    const [a, b, c, d] = v4.slice(1).map(Number) as [number, number, number, number];
    text = `${text.slice(0, v4.index)}${((a << 8) | b).toString(16)}:${((c << 8) | d).toString(16)}`;
  }
  const [head, tail] = text.split('::') as [string, string | undefined];
  const left = head === '' ? [] : head.split(':');
  const right = tail === undefined || tail === '' ? [] : tail.split(':');
  const zeros = tail === undefined ? [] : new Array<string>(8 - left.length - right.length).fill('0');
  return [...left, ...zeros, ...right].map((g) => parseInt(g, 16).toString(16));
}
