/**
 * CONNECT keepalive bounds, with mosquitto 2.x's meaning of max_keepalive: MQTT 3.1.1 cannot
 * tell a client which keepalive to use, so a keepalive over the maximum is refused with CONNACK
 * 2 ("identifier rejected", as mosquitto does) and the connection closed; with a maximum set,
 * keepalive 0 ("never time me out") is refused too, so every connection is timed out when its
 * peer goes silent (aedes closes after 1.5 x keepalive [MQTT-3.1.2-24]).
 */
import type { Client, ConnectPacket } from 'aedes';
import type { LimitCounters } from './limit-counters.js';
import type { RateLimitedLog } from '../lib/rate-limited-log.js';
import { truncateField } from '../lib/log-fields.js';

export interface KeepalivePolicyOptions {
  maxKeepaliveSecs: number;
  minKeepaliveSecs: number;
  counters: LimitCounters;
  log: RateLimitedLog;
  logFieldMaxChars: number;
}

/** CONNACK, return code 2 (identifier rejected), session present 0 [MQTT-3.2.2-3]. */
const CONNACK_IDENTIFIER_REJECTED = Buffer.from([0x20, 0x02, 0x00, 0x02]);

export type PreConnect = (client: Client, packet: ConnectPacket, callback: (error: Error | null, success: boolean) => void) => void;

/** Returns why the keepalive is refused, or null when it is acceptable. */
export function keepaliveRefusal(keepaliveSecs: number, maxSecs: number, minSecs: number): string | null {
  if (maxSecs > 0 && keepaliveSecs === 0) return 'keepalive 0 is refused while maxKeepaliveSecs is set';
  if (maxSecs > 0 && keepaliveSecs > maxSecs) return `keepalive ${keepaliveSecs} s > maxKeepaliveSecs ${maxSecs}`;
  if (minSecs > 0 && keepaliveSecs > 0 && keepaliveSecs < minSecs) return `keepalive ${keepaliveSecs} s < minKeepaliveSecs ${minSecs}`;
  return null;
}

/** An aedes preConnect that applies the policy, then hands over to `next` (if any). */
export function createKeepalivePolicy(o: KeepalivePolicyOptions, next?: PreConnect): PreConnect {
  return function keepalivePreConnect(client, packet, callback) {
    const refusal = keepaliveRefusal(packet.keepalive ?? 0, o.maxKeepaliveSecs, o.minKeepaliveSecs);
    if (refusal === null) return next ? next(client, packet, callback) : callback(null, true);
    o.counters.keepaliveRefusedTotal++;
    const conn = client.conn as unknown as { remoteAddress?: string; end(b: Buffer, cb: () => void): void; destroy(): void };
    const address = conn.remoteAddress ?? 'unknown';
    o.log.warn(`keepalive:${address}`, { event: 'connect_refused', reason: 'keepalive', address, clientId: truncateField(packet.clientId ?? '', o.logFieldMaxChars), keepaliveSecs: packet.keepalive, detail: refusal }, 'CONNECT refused: keepalive out of bounds');
    // end() flushes the CONNACK; then destroy, so a peer that never sends FIN cannot keep the
    // half-closed socket. aedes sees a refused (not failed) pre-connect.
    conn.end(CONNACK_IDENTIFIER_REJECTED, () => conn.destroy());
    callback(null, false);
  };
}
