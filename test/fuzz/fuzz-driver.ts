/**
 * Runs fuzz connections against an MQTT listener: raw TCP sockets (net.Socket), at most
 * `concurrency` at once, each writing its planned frames (whole or cut into pieces, with
 * pauses), reading and discarding what comes back, and ending or dropping the socket. Every
 * connection is bounded by `connectionTimeoutMs`. Records what happened, not whether it was
 * right: the caller asserts on the gateway.
 */
import { connect, type Socket } from 'node:net';
import { DEFAULT_FAMILIES, planConnection, type ConnectionPlan, type Family, type PlanOptions } from './connection-plan.js';
import { sleep } from '../support/wait.js';

export interface FuzzOptions extends Partial<Omit<PlanOptions, 'seed'>> {
  host: string;
  port: number;
  seed: number;
  /** Stop opening connections once this many frames are planned (the run is then fixed by seed + frames). */
  frames: number;
  concurrency?: number;
  connectionTimeoutMs?: number;
  /** Checked before each new connection: true ends the run early (e.g. the gateway died). */
  shouldStop?: () => boolean;
  /** Called after every finished connection. */
  onProgress?: (s: Readonly<FuzzStats>) => void;
}

export interface FuzzStats {
  seed: number;
  connections: number;
  framesPlanned: number;
  /** Frames fully handed to the socket; the rest were skipped because the gateway had closed. */
  framesWritten: number;
  bytesWritten: number;
  bytesReceived: number;
  /** Connections the gateway ended or reset before the fuzzer did. */
  closedByGateway: number;
  /** Connections still open at connectionTimeoutMs (then destroyed by the fuzzer). */
  timeouts: number;
  /** First response packet: "connack:<code>", or "none" if the gateway answered nothing. */
  firstResponse: Record<string, number>;
  errors: Record<string, number>;
  byFamily: Record<string, number>;
  elapsedMs: number;
  /** Connections open when the run stopped early (where a crash would have come from). */
  inFlightAtStop: number[];
  stoppedEarly: boolean;
}

export function planOptions(o: FuzzOptions): PlanOptions {
  return {
    seed: o.seed,
    families: o.families ?? DEFAULT_FAMILIES,
    maxFramesPerConnection: o.maxFramesPerConnection ?? 20,
    maxPayloadBytes: o.maxPayloadBytes ?? 256 * 1024,
    maxDepth: o.maxDepth ?? 20_000,
    persistentSessionShare: o.persistentSessionShare ?? 0.1,
    retainShare: o.retainShare ?? 0.05,
    ...(o.typedTopic ? { typedTopic: o.typedTopic } : {}),
    ...(o.typedMaxDepth !== undefined ? { typedMaxDepth: o.typedMaxDepth } : {}),
  };
}

export async function runFuzz(o: FuzzOptions): Promise<FuzzStats> {
  const plan = planOptions(o);
  const concurrency = o.concurrency ?? 16;
  const timeoutMs = o.connectionTimeoutMs ?? 3000;
  const stats: FuzzStats = {
    seed: o.seed,
    connections: 0,
    framesPlanned: 0,
    framesWritten: 0,
    bytesWritten: 0,
    bytesReceived: 0,
    closedByGateway: 0,
    timeouts: 0,
    firstResponse: {},
    errors: {},
    byFamily: {},
    elapsedMs: 0,
    inFlightAtStop: [],
    stoppedEarly: false,
  };
  const inFlight = new Set<number>();
  const t0 = performance.now();
  let nextIndex = 0;

  const take = (): ConnectionPlan | null => {
    if (stats.framesPlanned >= o.frames) return null;
    if (o.shouldStop?.()) {
      if (!stats.stoppedEarly) stats.inFlightAtStop = [...inFlight].sort((a, b) => a - b);
      stats.stoppedEarly = true;
      return null;
    }
    const p = planConnection(nextIndex++, plan);
    stats.framesPlanned += p.frames.length;
    stats.connections++;
    stats.byFamily[p.family] = (stats.byFamily[p.family] ?? 0) + 1;
    return p;
  };

  const worker = async (): Promise<void> => {
    for (let p = take(); p !== null; p = take()) {
      inFlight.add(p.index);
      await runConnection(o.host, o.port, p, timeoutMs, stats);
      inFlight.delete(p.index);
      o.onProgress?.(stats);
    }
  };
  await Promise.all(Array.from({ length: concurrency }, worker));
  stats.elapsedMs = Math.round(performance.now() - t0);
  return stats;
}

const count = (m: Record<string, number>, k: string): void => {
  m[k] = (m[k] ?? 0) + 1;
};
/** One planned connection, start to close; never rejects. */
export function runConnection(host: string, port: number, p: ConnectionPlan, timeoutMs: number, stats: FuzzStats): Promise<void> {
  return new Promise<void>((resolve) => {
    const socket: Socket = connect({ host, port });
    socket.setNoDelay(true);
    let weClosed = false;
    let gatewayClosed = false;
    let closed = false;
    let head = Buffer.alloc(0);
    const markGatewayClosed = (): void => {
      if (!weClosed && !gatewayClosed) {
        gatewayClosed = true;
        stats.closedByGateway++;
      }
    };
    const timer = setTimeout(() => {
      if (closed) return;
      stats.timeouts++;
      weClosed = true;
      socket.destroy();
    }, timeoutMs);
    socket.on('data', (d: Buffer) => {
      stats.bytesReceived += d.length;
      if (head.length < 4) head = Buffer.concat([head, d]).subarray(0, 4);
    });
    socket.on('end', markGatewayClosed);
    socket.on('error', (err: NodeJS.ErrnoException) => {
      count(stats.errors, err.code ?? err.message);
      if (err.code === 'ECONNRESET' || err.code === 'EPIPE') markGatewayClosed();
    });
    socket.on('close', () => {
      closed = true;
      clearTimeout(timer);
      // CONNACK (type 2): byte 3 is the v3.1.1 return code or the v5 reason code.
      count(stats.firstResponse, head.length === 0 ? 'none' : head[0] === 0x20 && head.length >= 4 ? `connack:${head[3]}` : `type:${head[0]! >> 4}`);
      resolve();
    });
    const open = (): boolean => !closed && !gatewayClosed && !socket.destroyed && socket.writable;
    const waitDrainOrClose = (): Promise<void> => new Promise((r) => {
      const done = (): void => {
        socket.off('drain', done);
        socket.off('close', done);
        r();
      };
      socket.once('drain', done);
      socket.once('close', done);
    });

    socket.once('connect', () => {
      void (async () => {
        for (const f of p.frames) {
          if (f.pauseMs > 0) await sleep(f.pauseMs);
          let off = 0;
          for (const size of f.chunks) {
            if (!open()) break;
            const piece = f.bytes.subarray(off, off + size);
            off += size;
            stats.bytesWritten += piece.length;
            if (!socket.write(piece)) await waitDrainOrClose();
            if (f.chunks.length > 1) await sleep(0);
          }
          if (!open()) break;
          stats.framesWritten++;
        }
        if (p.lingerMs > 0 && open()) await sleep(p.lingerMs);
        if (closed) return;
        weClosed = !gatewayClosed;
        if (p.ending === 'destroy') socket.destroy();
        else {
          socket.end();
          // A peer that never answers FIN must not hold the slot: bounded by the connection timeout.
        }
      })();
    });
  });
}
