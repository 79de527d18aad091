/**
 * The embedded MQTT broker (aedes) and its TCP listener. Owns sockets and client lifecycle;
 * the publish gate decides what is accepted.
 */
import { createServer, type AddressInfo, type Server, type Socket } from 'node:net';
import { Aedes } from 'aedes';
import { gatewayError } from '../errors.js';
import type { Logger } from '../lib/logger.js';
import type { AuthorizePublish } from './publish-gate.js';
import type { IngestLimits } from './ingest-limits.js';

export interface MqttListenerOptions {
  host: string;
  port: number;
  connectTimeoutMs: number;
  maxClientIdLength: number;
  authorizePublish: AuthorizePublish;
  /** Resource bounds (mqtt.limits): aedes options, a per-socket admission, the broker wrap. */
  limits?: IngestLimits;
  logger: Logger;
}

export class MqttListener {
  private broker: Aedes | null = null;
  private server: Server | null = null;
  private readonly sockets = new Set<Socket>();
  private closed = false;
  private serverClosed: Promise<void> | null = null;

  constructor(private readonly o: MqttListenerOptions) {}

  async start(): Promise<AddressInfo> {
    const log = this.o.logger;
    const broker = await Aedes.createBroker({
      id: 'edge-gateway',
      connectTimeout: this.o.connectTimeoutMs,
      maxClientsIdLength: this.o.maxClientIdLength,
      ...this.o.limits?.aedesOptions,
      authorizePublish: this.o.limits ? this.o.limits.wrapAuthorizePublish(this.o.authorizePublish) : this.o.authorizePublish,
    });
    this.o.limits?.attachBroker(broker);
    broker.on('clientError', (client, err) => log.debug({ clientId: client.id, err: err.message }, 'client error'));
    broker.on('connectionError', (client, err) => log.debug({ clientId: client?.id, err: err.message }, 'connection error'));
    this.broker = broker;

    const server = createServer((socket) => {
      if (this.o.limits && !this.o.limits.admitSocket(socket)) return;
      this.sockets.add(socket);
      socket.once('close', () => this.sockets.delete(socket));
      socket.setNoDelay(true);
      broker.handle(socket);
    });
    this.server = server;
    await new Promise<void>((resolve, reject) => {
      server.once('error', (err) => reject(gatewayError('GW_ERR_INGEST_LISTEN', `${this.o.host}:${this.o.port}: ${err.message}`, { cause: err })));
      server.listen(this.o.port, this.o.host, () => resolve());
    });
    return server.address() as AddressInfo;
  }

  get connectedClients(): number {
    return this.broker?.connectedClients ?? 0;
  }

  /**
   * Stops accepting new connections and stops reading from existing ones; packets already read
   * still complete (commit, then ack). Returns at once: server.close() only calls back once
   * every connection has ended, which close() brings about.
   */
  stopAccepting(): void {
    const server = this.server;
    if (!server || this.serverClosed) return;
    this.serverClosed = new Promise((resolve) => server.close(() => resolve()));
    const clients = (this.broker as unknown as { clients?: Record<string, { pause?: () => void }> } | null)?.clients ?? {};
    for (const client of Object.values(clients)) client.pause?.();
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

export function createMqttListener(opts: MqttListenerOptions): MqttListener {
  return new MqttListener(opts);
}
