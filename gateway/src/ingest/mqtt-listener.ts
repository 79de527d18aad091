/**
 * The embedded MQTT broker (aedes) and its listeners. Owns sockets and client lifecycle; the
 * authenticator decides who is let in, the ACL what they may subscribe to and receive, the
 * publish gate what is accepted into the buffer.
 */
import type { Socket } from 'node:net';
import type { TLSSocket } from 'node:tls';
import { Aedes, type AuthenticateHandler, type Client, type Subscription } from 'aedes';
import { writeToStream } from 'mqtt-packet';
import type { ListenerConfig } from '../config/mqtt-listener-schema.js';
import { gatewayError } from '../errors.js';
import type { Logger } from '../lib/logger.js';
import { truncateField } from '../lib/log-fields.js';
import type { IngestLimits } from './ingest-limits.js';
import { clientIdentity, type AuthMethod } from './client-identity.js';
import { useFreshPacketObjects } from './fresh-packet-objects.js';
import { usePlainBufferList } from './parser-plain-buffer-list.js';
import { ListenerServers, listenerOf, type BoundListener } from './listener-servers.js';
import type { AuthorizePublish } from './publish-gate.js';

export interface MqttListenerOptions {
  listeners: readonly ListenerConfig[];
  connectTimeoutMs: number;
  maxClientIdLength: number;
  authenticate: AuthenticateHandler;
  authorizePublish: AuthorizePublish;
  /** Resource bounds (mqtt.limits): aedes options, a per-socket admission, the broker wrap. */
  limits: IngestLimits;
  logger: Logger;
  /** A client authenticated and connected, with its identity id (device configuration). */
  onDeviceConnected?: ((deviceId: string) => void) | undefined;
}

export interface SubscribeCounters {
  grantedTotal: number;
  deniedTotal: number;
  forwardDeniedTotal: number;
}

const emptyClientIds = new WeakSet<object>();

// mqtt-packet (aedes' writer) otherwise keeps a Buffer for each of the 65,536 packet ids, built
// on the first write: ~6 MiB of live heap whatever the device count. Without it, each PUBACK
// allocates its 2-byte id from Buffer's pool (bench/results/heap.md, memory-curve.md).
writeToStream.cacheNumbers = false;

export class MqttListener {
  private broker: Aedes | null = null;
  private servers: ListenerServers | null = null;
  private readonly sockets = new Set<Socket>();
  /** Connected clients by id, kept from aedes' 'client' and 'clientDisconnect' events. */
  private readonly clients = new Map<string, Client>();
  private closed = false;
  private serverClosed: Promise<void> | null = null;
  readonly subscribeCounters: SubscribeCounters = { grantedTotal: 0, deniedTotal: 0, forwardDeniedTotal: 0 };

  constructor(private readonly o: MqttListenerOptions) {}

  async start(): Promise<readonly BoundListener[]> {
    const log = this.o.logger;
    const counters = this.subscribeCounters;
    const limits = this.o.limits;
    const { preConnect: limitConnect, authorizeSubscribe: capSubscribe, authorizeForward: slowGuard, ...limitOptions } = limits.aedesOptions;
    const field = (s: string) => truncateField(s, limits.logFieldMaxChars);
    for (const [patch, cost] of [
      [useFreshPacketObjects(), 'each socket read may wait for a full GC'],
      [usePlainBufferList(), 'each connection keeps a stream-wrapped buffer list'],
    ] as const) {
      if (!patch.applied) log.warn({ event: 'mqtt_parser_unpatched', reason: patch.reason }, `mqtt-packet parser not patched: ${cost}`);
    }
    const broker = await Aedes.createBroker({
      id: 'edge-gateway',
      connectTimeout: this.o.connectTimeoutMs,
      maxClientsIdLength: this.o.maxClientIdLength,
      ...limitOptions,
      preConnect: (client, packet, callback) => {
        // Remembered for [MQTT-3.1.3-8] (aedes replaces an empty id before authenticate runs).
        if (packet.clientId === '') emptyClientIds.add(client);
        if (limitConnect) limitConnect(client, packet, callback);
        else callback(null, true);
      },
      authenticate: this.o.authenticate,
      authorizePublish: limits.wrapAuthorizePublish(this.o.authorizePublish),
      // The ACL decides first; a granted filter then counts against maxSubscriptionsPerClient.
      authorizeSubscribe: (client: Client, sub: Subscription, callback: (err: Error | null, sub?: Subscription | null) => void) => {
        const identity = clientIdentity(client);
        if (identity === undefined || !identity.acl.canSubscribe(sub.topic)) {
          counters.deniedTotal++;
          limits.warnLog.warn(`sub:${field(client.id)}`, { event: 'subscribe_denied', clientId: field(client.id), topic: field(sub.topic) }, 'subscription denied by the ACL (SUBACK 0x80)');
          // A null subscription makes aedes answer SUBACK 0x80 for this filter [MQTT-3.9.3].
          return callback(null, null);
        }
        const granted = (err: Error | null, s?: Subscription | null) => {
          if (!err && s) counters.grantedTotal++;
          callback(err, s);
        };
        if (capSubscribe) capSubscribe(client, sub, granted);
        else granted(null, sub);
      },
      // Read access is checked again per message (defence in depth), then the slow-subscriber bound.
      authorizeForward: (client, packet) => {
        const identity = clientIdentity(client);
        if (identity === undefined || !identity.acl.canRead(packet.topic)) {
          counters.forwardDeniedTotal++;
          return null;
        }
        return slowGuard ? slowGuard(client, packet) : packet;
      },
    });
    limits.attachBroker(broker);
    // aedes closes a client that connects under an id already taken before registering the new
    // one [MQTT-3.1.4-2], so 'clientDisconnect' of the old comes before 'client' of the new.
    broker.on('client', (client) => this.clients.set(client.id, client));
    broker.on('clientDisconnect', (client) => {
      if (this.clients.get(client.id) === client) this.clients.delete(client.id);
    });
    const onDeviceConnected = this.o.onDeviceConnected;
    if (onDeviceConnected) {
      broker.on('client', (client) => {
        const identity = clientIdentity(client);
        if (identity === undefined) return;
        try {
          onDeviceConnected(identity.id);
        } catch (err) {
          log.warn({ event: 'device_connected_hook_failed', clientId: field(identity.id), err }, 'device connected hook failed');
        }
      });
    }
    broker.on('clientError', (client, err) => log.debug({ clientId: field(client.id ?? ''), err: err.message }, 'client error'));
    broker.on('connectionError', (client, err) => log.debug({ clientId: field(client?.id ?? ''), err: err.message }, 'connection error'));
    this.broker = broker;

    const servers = new ListenerServers({
      listeners: this.o.listeners,
      handshakeTimeoutMs: this.o.connectTimeoutMs,
      admitSocket: (socket) => limits.admitSocket(socket),
      onClient: (socket) => {
        limits.guardMqttSocket(socket);
        this.sockets.add(socket);
        socket.once('close', () => this.sockets.delete(socket));
        socket.setNoDelay(true);
        broker.handle(socket);
      },
      onTlsError: (err, socket: TLSSocket | undefined) => {
        const source = socket?.remoteAddress ?? 'unknown';
        limits.warnLog.warn(`tls:${source}`, { event: 'tls_handshake_failed', source, reason: err.message }, 'TLS handshake failed');
      },
    });
    this.servers = servers;
    return servers.start();
  }

  /**
   * Publishes as the broker itself (no client: no authorizePublish), QoS 1, retained; delivered to
   * current subscribers through the ACL's forward check, kept for later ones.
   */
  publishRetained(topic: string, payload: Buffer): Promise<void> {
    const broker = this.broker;
    if (broker === null || this.closed || this.serverClosed !== null) return Promise.reject(gatewayError('GW_ERR_INGEST_SHUTTING_DOWN', 'broker is not running'));
    return new Promise((resolve, reject) => {
      broker.publish({ cmd: 'publish', topic, payload, qos: 1, retain: true, dup: false }, (err?: Error) => (err ? reject(err) : resolve()));
    });
  }

  /** True if the client sent a zero-length client id (aedes assigned one). */
  sentEmptyClientId(client: Client): boolean {
    return emptyClientIds.has(client);
  }

  /** How the client now connected under `clientId` authenticated (undefined: none connected). */
  connectedMethod(clientId: string): AuthMethod | undefined {
    const current = this.clients.get(clientId);
    return current === undefined ? undefined : clientIdentity(current)?.method;
  }

  get addresses(): readonly BoundListener[] {
    return this.servers?.addresses ?? [];
  }

  get connectedClients(): number {
    return this.broker?.connectedClients ?? 0;
  }

  reloadTls(): Array<{ index: number; ok: boolean; error?: string }> {
    return this.servers?.reloadTls() ?? [];
  }

  /**
   * Stops accepting new connections and stops reading from existing ones; packets already read
   * still complete (commit, then ack). Returns at once: the servers only close once every
   * connection has ended, which close() brings about.
   */
  stopAccepting(): void {
    const servers = this.servers;
    if (!servers || this.serverClosed) return;
    this.serverClosed = servers.close();
    // Client.pause() stops aedes reading the next packets (moscajs/aedes lib/client.js); it is
    // not in aedes' type definitions, hence the optional call.
    for (const client of this.clients.values()) (client as Client & { pause?: () => void }).pause?.();
  }

  /** Ends every connection, letting queued acks reach the devices (bounded by `graceMs`). */
  async close(graceMs = 1000): Promise<void> {
    if (this.closed) return;
    this.closed = true;
    this.stopAccepting();
    // end() flushes what is queued (PUBACKs of the last commits) before FIN; destroy() would not.
    const ended = [...this.sockets].map((s) => new Promise<void>((resolve) => {
      s.once('close', () => resolve());
      s.end();
    }));
    let timer: NodeJS.Timeout | undefined;
    await Promise.race([Promise.all(ended), new Promise<void>((r) => (timer = setTimeout(r, graceMs)))]);
    clearTimeout(timer);
    for (const s of this.sockets) s.destroy();
    await new Promise<void>((resolve) => (this.broker ? this.broker.close(() => resolve()) : resolve()));
    await this.serverClosed;
  }
}

export { listenerOf };

export function createMqttListener(opts: MqttListenerOptions): MqttListener {
  return new MqttListener(opts);
}
