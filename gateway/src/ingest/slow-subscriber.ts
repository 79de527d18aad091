/**
 * A subscriber that stops reading must cost only itself. In aedes a delivery completes when its
 * socket write completes; when write() returns false it waits for 'drain' (up to drainTimeout),
 * and the message's mqemitter slot is held all that time. With 100 slots (aedes' concurrency)
 * one paused subscriber to `#` stalls every publisher on the broker, queues every later message
 * in mqemitter's array, and when aedes finally drops the client that array drains through a
 * synchronous released() -> _do() recursion that overflows the stack (RangeError in the gateway,
 * reproduced before this fix: 100 devices at 20 msg/s, gateway dead at 60 s).
 *
 * Three parts, each closing one door:
 * 1. `authorizeForward` drops a message for a client whose send buffer (bytes Node holds for the
 *    socket plus bytes already authorized but not yet written) would go over `maxQueuedBytes`,
 *    counted per reason, and disconnects a client that stays over it `timeoutMs`.
 * 2. `raiseWriteHighWaterMark` lifts the socket's writable high-water mark above that bound plus
 *    one packet, so a forwarded write never returns false and never holds an mqemitter slot.
 * 3. `trampolineEmitter` turns mqemitter's synchronous drain of a long queue into bounded-depth
 *    steps, so whatever makes the queue long, draining it cannot overflow the stack.
 */
import type { Socket } from 'node:net';
import type { AedesPublishPacket, Client } from 'aedes';
import type { LimitCounters } from './limit-counters.js';
import type { RateLimitedLog } from '../lib/rate-limited-log.js';
import { truncateField } from '../lib/log-fields.js';

export interface SlowSubscriberOptions {
  maxQueuedBytes: number;
  /** Disconnect after this long continuously over the bound (0 = never). */
  timeoutMs: number;
  counters: LimitCounters;
  log: RateLimitedLog;
  logFieldMaxChars: number;
  now?: () => number;
}

export type AuthorizeForward = (client: Client, packet: AedesPublishPacket) => AedesPublishPacket | null | void;

interface SubscriberState {
  /** Bytes authorized whose write has not happened yet (aedes writes on the next setImmediate). */
  pending: number;
  /** When the client last went over the bound (null = it is under). */
  overSince: number | null;
  disconnected: boolean;
}

/** Fixed header (<= 5) + topic length (2) + message id (2) on top of topic and payload. */
const PACKET_OVERHEAD_BYTES = 9;

export function forwardedPacketBytes(packet: AedesPublishPacket): number {
  const payload = packet.payload as Buffer | string | undefined;
  const payloadBytes = payload === undefined ? 0 : typeof payload === 'string' ? Buffer.byteLength(payload) : payload.length;
  return PACKET_OVERHEAD_BYTES + Buffer.byteLength(packet.topic) + payloadBytes;
}

export function createSlowSubscriberGuard(o: SlowSubscriberOptions, next?: AuthorizeForward): AuthorizeForward {
  const states = new WeakMap<Client, SubscriberState>();
  const now = o.now ?? Date.now;

  return function slowSubscriberForward(client, packet) {
    let st = states.get(client);
    if (st === undefined) {
      st = { pending: 0, overSince: null, disconnected: false };
      states.set(client, st);
    }
    const conn = client.conn as Socket;
    const buffered = (conn.writableLength ?? 0) + st.pending;
    const size = forwardedPacketBytes(packet);
    // An empty buffer always takes one message, however large (the packet cap bounds it).
    if (buffered === 0 || buffered + size <= o.maxQueuedBytes) {
      st.overSince = null;
      const out = next ? next(client, packet) : packet;
      if (out) {
        const s = st;
        s.pending += size;
        // aedes schedules the write with setImmediate right after this returns; this immediate
        // was queued first, so the bytes move from `pending` to writableLength back to back.
        setImmediate(() => (s.pending -= size));
      }
      return out;
    }
    o.counters.slowSubscriberDroppedTotal++;
    if (st.disconnected) return null;
    const t = now();
    const overSince = (st.overSince ??= t);
    const clientId = truncateField(client.id ?? '', o.logFieldMaxChars);
    if (o.timeoutMs > 0 && t - overSince >= o.timeoutMs) {
      st.disconnected = true;
      o.counters.slowSubscriberDisconnectedTotal++;
      o.log.warn(`slow_subscriber_disconnect:${clientId}`, { event: 'slow_subscriber_disconnected', clientId, bufferedBytes: buffered, limitBytes: o.maxQueuedBytes, overForMs: t - overSince }, 'slow subscriber disconnected');
      conn.destroy();
      return null;
    }
    o.log.warn(`slow_subscriber:${clientId}`, { event: 'slow_subscriber_drop', clientId, bufferedBytes: buffered, limitBytes: o.maxQueuedBytes, droppedTotal: o.counters.slowSubscriberDroppedTotal }, 'subscriber not reading; dropping messages for it');
    return null;
  };
}

/**
 * Lets a socket buffer up to `bytes` before write() reports backpressure. Node exposes the
 * writable high-water mark only as a constructor option, and net.Server would apply one value
 * to the readable side too (which would let every connection buffer that much inbound); the
 * writable state's field is what write() compares against.
 */
export function raiseWriteHighWaterMark(socket: Socket, bytes: number): void {
  const state = (socket as unknown as { _writableState?: { highWaterMark: number } })._writableState;
  if (state && state.highWaterMark < bytes) state.highWaterMark = bytes;
}

interface MqEmitterLike {
  _do(message: unknown, callback: unknown): unknown;
  current: number;
}

/** Synchronous _do() nesting allowed before the next one is deferred to setImmediate. */
const MAX_SYNC_DEPTH = 64;

/**
 * mqemitter's released() calls _do() for the next queued message, and a message with no
 * (or only synchronous) listeners calls released() again before returning: draining N queued
 * messages nests N frames. Past MAX_SYNC_DEPTH the next _do() runs on a fresh stack. The slot is
 * kept (current++) while deferred, so later emits still queue behind it and order is kept.
 */
export function trampolineEmitter(mq: unknown): void {
  const emitter = mq as MqEmitterLike;
  const doMessage = emitter._do;
  let depth = 0;
  emitter._do = function trampolinedDo(this: MqEmitterLike, message: unknown, callback: unknown) {
    if (depth >= MAX_SYNC_DEPTH) {
      this.current++;
      setImmediate(() => {
        this.current--;
        doMessage.call(this, message, callback);
      });
      return this;
    }
    depth++;
    try {
      return doMessage.call(this, message, callback);
    } finally {
      depth--;
    }
  };
}
