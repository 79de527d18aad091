/**
 * Admission of accepted sockets: at most `maxConnections` in total and `maxConnectionsPerAddress`
 * from one source IP (0 = unlimited). Over a bound the socket is destroyed before aedes sees it,
 * counted, and logged once per source per interval, so an operator sees why a device was refused
 * instead of the process silently running out of file descriptors.
 */
import type { Socket } from 'node:net';
import type { LimitCounters } from './limit-counters.js';
import type { RateLimitedLog } from '../lib/rate-limited-log.js';

export interface ConnectionLimitsOptions {
  maxConnections: number;
  maxConnectionsPerAddress: number;
  counters: LimitCounters;
  log: RateLimitedLog;
}

export interface ConnectionLimits {
  /** Returns false (and has destroyed the socket) when it is over a bound. */
  admit(socket: Socket): boolean;
  readonly open: number;
}

export function createConnectionLimits(o: ConnectionLimitsOptions): ConnectionLimits {
  const perAddress = new Map<string, number>();
  let open = 0;

  function release(address: string): void {
    open--;
    const n = (perAddress.get(address) ?? 1) - 1;
    if (n <= 0) perAddress.delete(address);
    else perAddress.set(address, n);
  }

  return {
    admit(socket) {
      const address = socket.remoteAddress ?? 'unknown';
      const fromAddress = perAddress.get(address) ?? 0;
      if (o.maxConnections > 0 && open >= o.maxConnections) {
        o.counters.connectionsRefusedTotal++;
        o.log.warn('max_connections', { event: 'connection_refused', reason: 'maxConnections', address, open, limit: o.maxConnections }, 'connection refused: maxConnections reached');
        socket.destroy();
        return false;
      }
      if (o.maxConnectionsPerAddress > 0 && fromAddress >= o.maxConnectionsPerAddress) {
        o.counters.connectionsRefusedPerAddressTotal++;
        o.log.warn(`max_per_address:${address}`, { event: 'connection_refused', reason: 'maxConnectionsPerAddress', address, open: fromAddress, limit: o.maxConnectionsPerAddress }, 'connection refused: maxConnectionsPerAddress reached');
        socket.destroy();
        return false;
      }
      open++;
      perAddress.set(address, fromAddress + 1);
      socket.once('close', () => release(address));
      return true;
    },
    get open() {
      return open;
    },
  };
}
