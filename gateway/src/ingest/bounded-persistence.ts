/**
 * aedes' memory persistence holds, for as long as the process lives, every retained message,
 * every QoS 1/2 message queued for a persistent session (clean=false, online or offline) and
 * every inbound QoS 2 packet awaiting PUBREL, disconnected sessions included. Its fields are
 * private, so this wraps it by delegation (a new object whose prototype is the inner one) and
 * bounds what goes in, tracking counts itself:
 * - retained: never stored for telemetry-route topics (the record already went to Kafka; a
 *   retained copy would be a second, unbounded store of device data), and capped in count and
 *   payload bytes for other topics (a message over the cap is not retained, counted); topics
 *   `exemptRetained` names (device configurations: written by the gateway only, one per own
 *   device, at most 64 KiB each) are outside that cap, tracked in their own gauges;
 * - queued: at most `maxQueuedMessages` per client id; newer messages are not queued (dropped,
 *   counted), as mosquitto's max_queued_messages;
 * - inbound QoS 2: the payload is already committed to SQLite before PUBREC (publish gate), so
 *   the store keeps the packet id only (dedup needs nothing more), and at most
 *   `maxStoredInboundPackets` ids in total; beyond it the store fails and aedes closes that
 *   connection without PUBREC (the device retries later).
 */
import type { LimitCounters } from './limit-counters.js';
import type { RateLimitedLog } from '../lib/rate-limited-log.js';
import { truncateField } from '../lib/log-fields.js';

export interface BoundedPersistenceOptions {
  isRoutedTopic: (topic: string) => boolean;
  /** Retained messages on these topics are not counted against the caps (bounded elsewhere). */
  exemptRetained?: ((topic: string) => boolean) | undefined;
  maxRetainedMessages: number;
  maxRetainedBytes: number;
  /** Per client id; 0 = unlimited. */
  maxQueuedMessages: number;
  /** Across all sessions (their number is not otherwise bounded); 0 = unlimited. */
  maxQueuedMessagesTotal: number;
  /** 0 = unlimited. */
  maxStoredInboundPackets: number;
  /**
   * Keep only the id of inbound QoS 2 packets (the gateway committed the payload before PUBREC;
   * aedes reads the stored packet only to detect duplicates and on PUBREL).
   */
  stripInboundPayloads: boolean;
  counters: LimitCounters;
  log: RateLimitedLog;
  logFieldMaxChars: number;
}

interface ClientRef {
  id: string;
}
interface PacketLike {
  topic: string;
  payload: Buffer | string;
  messageId?: number;
  [k: string]: unknown;
}

/** The subset of the aedes persistence interface the bounds intercept. */
interface Persistence {
  storeRetained(packet: PacketLike): Promise<void>;
  outgoingEnqueue(sub: { clientId: string }, packet: PacketLike): Promise<void>;
  outgoingEnqueueCombi(subs: Array<{ clientId: string }>, packet: PacketLike): Promise<void>;
  outgoingUpdate(client: ClientRef, packet: PacketLike): Promise<void>;
  outgoingClearMessageId(client: ClientRef, packet: PacketLike): Promise<PacketLike | undefined>;
  incomingStorePacket(client: ClientRef, packet: PacketLike): Promise<void>;
  incomingDelPacket(client: ClientRef, packet: PacketLike): Promise<void>;
  cleanIncoming?(client: ClientRef): Promise<void>;
}

export interface BoundedPersistenceGauges {
  retainedMessages: number;
  retainedBytes: number;
  /** Retained messages (and their payload bytes) on exempt topics. */
  retainedExemptMessages: number;
  retainedExemptBytes: number;
  queuedMessages: number;
  storedQos2Packets: number;
}

function payloadBytes(p: PacketLike): number {
  const pl = p.payload;
  return typeof pl === 'string' ? Buffer.byteLength(pl) : (pl?.length ?? 0);
}

const EMPTY = Buffer.alloc(0);

/** Wraps `inner` (an aedes persistence) and returns the bounded one plus its gauges. */
export function boundPersistence<T extends object>(inner: T, o: BoundedPersistenceOptions): { persistence: T; gauges: () => BoundedPersistenceGauges } {
  const base = inner as unknown as Persistence;
  const retained = new Map<string, number>();
  let retainedBytes = 0;
  const exempt = new Map<string, number>();
  let exemptBytes = 0;
  const queued = new Map<string, number>();
  let queuedTotal = 0;
  const incoming = new Map<string, Set<number>>();
  let incomingTotal = 0;
  const field = (s: string) => truncateField(s, o.logFieldMaxChars);

  function canQueue(clientId: string): boolean {
    const n = queued.get(clientId) ?? 0;
    const full = o.maxQueuedMessages > 0 && n >= o.maxQueuedMessages;
    if (full || (o.maxQueuedMessagesTotal > 0 && queuedTotal >= o.maxQueuedMessagesTotal)) {
      o.counters.queuedDroppedTotal++;
      o.log.warn(full ? `queue_full:${clientId}` : 'queue_full_total', { event: 'queue_full', clientId: field(clientId), queued: n, queuedTotal, limit: full ? o.maxQueuedMessages : o.maxQueuedMessagesTotal, scope: full ? 'session' : 'total', droppedTotal: o.counters.queuedDroppedTotal }, 'session queue full; dropping newer messages for it');
      return false;
    }
    queued.set(clientId, n + 1);
    queuedTotal++;
    return true;
  }

  function dequeued(clientId: string): void {
    const n = queued.get(clientId);
    if (n === undefined) return;
    queuedTotal--;
    if (n <= 1) queued.delete(clientId);
    else queued.set(clientId, n - 1);
  }

  function forgetIncoming(clientId: string, messageId: number | undefined): void {
    const ids = incoming.get(clientId);
    if (ids === undefined || messageId === undefined || !ids.delete(messageId)) return;
    incomingTotal--;
    if (ids.size === 0) incoming.delete(clientId);
  }

  const overrides: Partial<Persistence> = {
    async storeRetained(packet) {
      const topic = packet.topic;
      const bytes = payloadBytes(packet);
      if (o.exemptRetained?.(topic) === true) {
        exemptBytes += bytes - (exempt.get(topic) ?? 0);
        if (bytes === 0) exempt.delete(topic);
        else exempt.set(topic, bytes);
        return base.storeRetained(packet);
      }
      if (bytes > 0 && o.isRoutedTopic(topic)) {
        o.counters.retainedIgnoredRoutedTotal++;
        return;
      }
      const old = retained.get(topic);
      if (bytes === 0) {
        // [MQTT-3.3.1-10] an empty retained message clears the topic.
        if (old !== undefined) {
          retained.delete(topic);
          retainedBytes -= old;
        }
        return base.storeRetained(packet);
      }
      const count = retained.size + (old === undefined ? 1 : 0);
      const total = retainedBytes - (old ?? 0) + bytes;
      if (count > o.maxRetainedMessages || total > o.maxRetainedBytes) {
        o.counters.retainedDroppedTotal++;
        o.log.warn('retained_full', { event: 'retained_full', topic: field(topic), retainedMessages: retained.size, retainedBytes, maxRetainedMessages: o.maxRetainedMessages, maxRetainedBytes: o.maxRetainedBytes }, 'retained store full; message not retained');
        return;
      }
      retained.set(topic, bytes);
      retainedBytes = total;
      return base.storeRetained(packet);
    },
    async outgoingEnqueue(sub, packet) {
      if (canQueue(sub.clientId)) return base.outgoingEnqueue(sub, packet);
    },
    async outgoingEnqueueCombi(subs, packet) {
      const kept = subs.filter((s) => canQueue(s.clientId));
      if (kept.length > 0) return base.outgoingEnqueueCombi(kept, packet);
    },
    async outgoingUpdate(client, packet) {
      try {
        await base.outgoingUpdate(client, packet);
      } catch (err) {
        // A message dropped from a full queue is absent; aedes then still writes it to the
        // online client (delivered live, not kept for redelivery) instead of failing it.
        if (o.maxQueuedMessages > 0 && (queued.get(client.id) ?? 0) >= o.maxQueuedMessages) return;
        if (o.maxQueuedMessagesTotal > 0 && queuedTotal >= o.maxQueuedMessagesTotal) return;
        throw err;
      }
    },
    async outgoingClearMessageId(client, packet) {
      const cleared = await base.outgoingClearMessageId(client, packet);
      if (cleared) dequeued(client.id);
      return cleared;
    },
    async incomingStorePacket(client, packet) {
      let ids = incoming.get(client.id);
      const isNew = ids === undefined || packet.messageId === undefined || !ids.has(packet.messageId);
      if (isNew && o.maxStoredInboundPackets > 0 && incomingTotal >= o.maxStoredInboundPackets) {
        o.counters.qos2RefusedTotal++;
        o.log.warn('qos2_store_full', { event: 'qos2_store_full', clientId: field(client.id), stored: incomingTotal, limit: o.maxStoredInboundPackets }, 'QoS 2 store full; closing the connection without PUBREC');
        throw new Error(`QoS 2 store full (${o.maxStoredInboundPackets} packets awaiting PUBREL)`);
      }
      await base.incomingStorePacket(client, o.stripInboundPayloads ? { ...packet, payload: EMPTY } : packet);
      if (isNew && packet.messageId !== undefined) {
        if (ids === undefined) incoming.set(client.id, (ids = new Set()));
        ids.add(packet.messageId);
        incomingTotal++;
      }
    },
    async incomingDelPacket(client, packet) {
      await base.incomingDelPacket(client, packet);
      forgetIncoming(client.id, packet.messageId);
    },
  };
  if (typeof base.cleanIncoming === 'function') {
    overrides.cleanIncoming = async (client) => {
      await base.cleanIncoming!(client);
      const ids = incoming.get(client.id);
      if (ids !== undefined) {
        incomingTotal -= ids.size;
        incoming.delete(client.id);
      }
    };
  }
  // Everything not overridden is the inner persistence's own method, called on the inner
  // object's state through the prototype chain.
  const persistence = Object.assign(Object.create(inner) as T, overrides);
  return {
    persistence,
    gauges: () => ({ retainedMessages: retained.size, retainedBytes, retainedExemptMessages: exempt.size, retainedExemptBytes: exemptBytes, queuedMessages: queuedTotal, storedQos2Packets: incomingTotal }),
  };
}
