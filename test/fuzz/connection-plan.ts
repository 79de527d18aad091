/**
 * What one fuzz connection does, decided up front from (seed, connection index) alone: its
 * frames, how each is cut into TCP writes, the pauses, and how the connection ends. The same
 * seed therefore gives the same frames on any machine and under any scheduling, and a finding
 * is replayed from its seed and connection index.
 */
import { FuzzRng } from './fuzz-rng.js';
import { mutateFrame } from './frame-mutator.js';
import { hostileConnect, hostileFraming, hostilePublish, hostileSubscribe, type Frame } from './hostile-frames.js';
import { hostilePayload, type PayloadOptions } from './hostile-payloads.js';
import * as valid from './valid-frames.js';

export const FAMILIES = ['garbage', 'before-connect', 'bad-connect', 'session', 'payload'] as const;
export type Family = (typeof FAMILIES)[number];

export interface PlanOptions extends PayloadOptions {
  seed: number;
  families: Readonly<Record<Family, number>>;
  /** Most frames in one connection. */
  maxFramesPerConnection: number;
  /**
   * A second, typed route (valueSchema) to aim payloads at, as a topic for a client id; its
   * payloads' JSON nesting is capped at `typedMaxDepth`.
   */
  typedTopic?: (clientId: string) => string;
  typedMaxDepth?: number;
  /** Share of sessions that ask for a persistent session (clean=false), which outlives the socket. */
  persistentSessionShare: number;
  /** Share of publishes with RETAIN set (see SessionContext.retainShare). */
  retainShare: number;
}

export interface PlannedFrame extends Frame {
  /** Sizes of the writes the frame is cut into (sum = frame length). */
  chunks: number[];
  /** Pause before writing this frame. */
  pauseMs: number;
}

export interface ConnectionPlan {
  index: number;
  family: Family;
  clientId: string;
  version: valid.ProtocolVersion;
  frames: PlannedFrame[];
  /** After the last frame: wait this long for the gateway (reading), then end. */
  lingerMs: number;
  /** 'end' sends FIN; 'destroy' drops the socket (RST if data is unread). */
  ending: 'end' | 'destroy';
}

export const DEFAULT_FAMILIES: Readonly<Record<Family, number>> = { garbage: 5, 'before-connect': 10, 'bad-connect': 20, session: 40, payload: 25 };

export function planConnection(index: number, o: PlanOptions): ConnectionPlan {
  const rng = FuzzRng.forConnection(o.seed, index);
  const family = rng.weighted(o.families);
  const clientId = `fz-${index.toString(36)}`;
  const version: valid.ProtocolVersion = rng.chance(0.3) ? 5 : 4;
  const ctx: valid.SessionContext = { clientId, version, ownTopic: `devices/${clientId}/telemetry`, retainShare: o.retainShare };
  const frames: Frame[] = [];
  const n = rng.range(1, o.maxFramesPerConnection);
  const connect = () => valid.connectFrame(ctx, rng, { clean: !rng.chance(o.persistentSessionShare) });

  switch (family) {
    case 'garbage':
      for (let i = 0; i < n; i++) frames.push({ label: 'random-bytes', bytes: rng.bytes(rng.range(1, 512)) });
      break;
    case 'before-connect':
      // [MQTT-3.1.0-1]: the first packet must be CONNECT.
      for (let i = 0; i < n; i++) frames.push(relabel(sessionFrame(ctx, rng, o), 'before-connect'));
      break;
    case 'bad-connect':
      frames.push(rng.chance(0.5) ? hostileConnect(ctx, rng) : mutated('connect', connect(), rng));
      for (let i = 1; i < n; i++) frames.push(sessionFrame(ctx, rng, o));
      break;
    case 'session':
      frames.push({ label: 'connect', bytes: connect() });
      for (let i = 1; i < n; i++) frames.push(sessionFrame(ctx, rng, o));
      if (rng.chance(0.3)) frames.push({ label: 'disconnect', bytes: valid.disconnectFrame(ctx) });
      break;
    case 'payload': {
      frames.push({ label: 'connect', bytes: connect() });
      for (let i = 1; i < n; i++) {
        const typed = o.typedTopic !== undefined && rng.chance(0.5);
        const { kind, payload } = hostilePayload(rng, { maxPayloadBytes: o.maxPayloadBytes, maxDepth: typed ? (o.typedMaxDepth ?? o.maxDepth) : o.maxDepth });
        const qos = rng.pick([0, 1, 1, 2] as const);
        const id = rng.range(1, 65_535);
        frames.push({ label: `payload-${kind}${typed ? '-typed' : ''}-qos${qos}`, bytes: valid.publishFrame(ctx, rng, typed ? o.typedTopic!(clientId) : ctx.ownTopic, payload, qos, id) });
        if (qos === 2) frames.push({ label: 'pubrel', bytes: valid.pubrelFrame(ctx, id) });
      }
      break;
    }
  }

  return {
    index,
    family,
    clientId,
    version,
    frames: frames.map((f) => ({ ...f, chunks: cut(f.bytes.length, rng), pauseMs: rng.chance(0.05) ? rng.range(1, 50) : 0 })),
    lingerMs: rng.pick([0, 0, 10, 50, 200]),
    ending: rng.chance(0.3) ? 'destroy' : 'end',
  };
}

/** One frame inside an established session: mostly legal traffic, some of it damaged or hostile. */
function sessionFrame(ctx: valid.SessionContext, rng: FuzzRng, o: PlanOptions): Frame {
  const id = rng.range(0, 65_535);
  switch (rng.int(14)) {
    case 0:
      return { label: 'publish-own', bytes: valid.publishFrame(ctx, rng, ctx.ownTopic, Buffer.from(`{"seq":${id}}`), rng.pick([0, 1, 2] as const), Math.max(1, id)) };
    case 1:
      return { label: 'subscribe', bytes: valid.subscribeFrame(ctx, rng, valid.someFilters(ctx, rng), Math.max(1, id)) };
    case 2:
      return { label: 'unsubscribe', bytes: valid.unsubscribeFrame(ctx, valid.someFilters(ctx, rng), Math.max(1, id)) };
    case 3:
      return { label: 'pubrel', bytes: valid.pubrelFrame(ctx, Math.max(1, id)) };
    case 4:
      return { label: rng.pick(['puback', 'pubrec', 'pubcomp']), bytes: valid.ackFrame(ctx, rng.pick(['puback', 'pubrec', 'pubcomp'] as const), Math.max(1, id)) };
    case 5:
      return { label: 'pingreq', bytes: valid.pingreqFrame(ctx) };
    case 6:
      // [MQTT-3.1.0-2]: a second CONNECT is a protocol violation.
      return { label: 'duplicate-connect', bytes: valid.connectFrame(ctx, rng) };
    case 7:
      return hostilePublish(ctx, rng, Buffer.from('{"seq":1}'));
    case 8:
      return hostileSubscribe(ctx, rng);
    case 9:
      return hostileFraming(rng);
    case 10:
      return hostileConnect(ctx, rng);
    case 11: {
      const { kind, payload } = hostilePayload(rng, { maxPayloadBytes: o.maxPayloadBytes, maxDepth: o.maxDepth });
      return { label: `payload-${kind}`, bytes: valid.publishFrame(ctx, rng, ctx.ownTopic, payload, rng.pick([0, 1] as const), Math.max(1, id)) };
    }
    default: {
      const base = rng.pick([
        () => ({ name: 'publish', bytes: valid.publishFrame(ctx, rng, ctx.ownTopic, Buffer.from('{"seq":1}'), rng.pick([0, 1, 2] as const), Math.max(1, id)) }),
        () => ({ name: 'subscribe', bytes: valid.subscribeFrame(ctx, rng, valid.someFilters(ctx, rng), Math.max(1, id)) }),
        () => ({ name: 'pubrel', bytes: valid.pubrelFrame(ctx, Math.max(1, id)) }),
        () => ({ name: 'pingreq', bytes: valid.pingreqFrame(ctx) }),
        () => ({ name: 'disconnect', bytes: valid.disconnectFrame(ctx) }),
        () => ({ name: 'connect', bytes: valid.connectFrame(ctx, rng) }),
      ])();
      return mutated(base.name, base.bytes, rng);
    }
  }
}

function mutated(name: string, bytes: Buffer, rng: FuzzRng): Frame {
  const m = mutateFrame(bytes, rng);
  return { label: `${name}~${m.mutation}`, bytes: m.bytes };
}

function relabel(f: Frame, prefix: string): Frame {
  return { label: `${prefix}:${f.label}`, bytes: f.bytes };
}

/** Mostly one write; sometimes a few random cuts, sometimes byte by byte for short frames. */
function cut(length: number, rng: FuzzRng): number[] {
  if (length <= 1 || rng.chance(0.7)) return [length];
  if (length <= 16 && rng.chance(0.5)) return Array.from({ length }, () => 1);
  const points = new Set<number>();
  const pieces = rng.range(1, 5);
  for (let i = 0; i < pieces; i++) points.add(rng.range(1, length - 1));
  const sorted = [...points].sort((a, b) => a - b);
  const out: number[] = [];
  let prev = 0;
  for (const p of [...sorted, length]) {
    out.push(p - prev);
    prev = p;
  }
  return out;
}
