/**
 * The sockets side of the broker: one TCP or TLS server per configured listener. Tags every
 * accepted socket with its listener (the authenticator applies that listener's policy) and can
 * reload TLS certificates in place (SIGHUP): new handshakes use the new files, established
 * connections are untouched.
 */
import { createServer, type AddressInfo, type Server, type Socket } from 'node:net';
import { createServer as createTlsServer, type SecureContextOptions, type Server as TlsServer, type TLSSocket } from 'node:tls';
import type { ListenerConfig, ListenerTlsConfig } from '../config/mqtt-listener-schema.js';
import { readTlsServerOptions } from '../config/tls-files.js';
import { gatewayError } from '../errors.js';

export interface BoundListener {
  readonly config: ListenerConfig;
  readonly host: string;
  readonly port: number;
  readonly tls: boolean;
}

export interface ListenerServersOptions {
  listeners: readonly ListenerConfig[];
  /** TLS handshakes must finish within this time (same budget as CONNECT). */
  handshakeTimeoutMs: number;
  /** Raw TCP socket accepted (before any TLS handshake): return false to refuse it. */
  admitSocket(socket: Socket, listener: ListenerConfig): boolean;
  /** A socket ready for MQTT (after the handshake on TLS listeners). */
  onClient(socket: Socket, listener: ListenerConfig): void;
  onTlsError(err: Error, socket: TLSSocket | undefined, listener: ListenerConfig): void;
}

const listenerOfSocket = new WeakMap<object, ListenerConfig>();

/** The listener a socket arrived on (undefined for a socket we did not accept). */
export function listenerOf(conn: unknown): ListenerConfig | undefined {
  return typeof conn === 'object' && conn !== null ? listenerOfSocket.get(conn) : undefined;
}

/** Reads a listener's PEM files; errors name the field. */
export function loadTlsFiles(tls: ListenerTlsConfig, index: number): SecureContextOptions {
  return readTlsServerOptions(`mqtt.listeners.${index}.tls`, tls, 'GW_ERR_INGEST_TLS');
}

export class ListenerServers {
  private readonly servers: Array<{ server: Server | TlsServer; config: ListenerConfig; index: number }> = [];
  private bound: BoundListener[] = [];

  constructor(private readonly o: ListenerServersOptions) {}

  async start(): Promise<BoundListener[]> {
    for (const [index, config] of this.o.listeners.entries()) {
      const server = config.tls ? this.tlsServer(config, config.tls, index) : this.tcpServer(config);
      this.servers.push({ server, config, index });
      await new Promise<void>((resolve, reject) => {
        server.once('error', (err) => reject(gatewayError('GW_ERR_INGEST_LISTEN', `mqtt.listeners.${index} ${config.host}:${config.port}: ${err.message}`, { cause: err })));
        server.listen(config.port, config.host, () => resolve());
      });
      const addr = server.address() as AddressInfo;
      this.bound.push({ config, host: addr.address, port: addr.port, tls: config.tls !== undefined });
    }
    return this.bound;
  }

  get addresses(): readonly BoundListener[] {
    return this.bound;
  }

  private tcpServer(config: ListenerConfig): Server {
    return createServer((socket) => {
      if (!this.o.admitSocket(socket, config)) return;
      listenerOfSocket.set(socket, config);
      this.o.onClient(socket, config);
    });
  }

  private tlsServer(config: ListenerConfig, tls: ListenerTlsConfig, index: number): TlsServer {
    const server = createTlsServer({
      ...loadTlsFiles(tls, index),
      requestCert: tls.clientCert !== 'none',
      // 'require': the handshake itself fails without a certificate signed by caFile.
      rejectUnauthorized: tls.clientCert === 'require',
      handshakeTimeout: this.o.handshakeTimeoutMs,
    });
    server.on('connection', (raw: Socket) => {
      if (!this.o.admitSocket(raw, config)) raw.destroy();
    });
    server.on('secureConnection', (socket: TLSSocket) => {
      listenerOfSocket.set(socket, config);
      this.o.onClient(socket, config);
    });
    server.on('tlsClientError', (err, socket) => this.o.onTlsError(err, socket, config));
    return server;
  }

  /** Re-reads every TLS listener's files; a listener whose files fail keeps its old context. */
  reloadTls(): Array<{ index: number; ok: boolean; error?: string }> {
    const results: Array<{ index: number; ok: boolean; error?: string }> = [];
    for (const { server, config, index } of this.servers) {
      if (!config.tls) continue;
      try {
        (server as TlsServer).setSecureContext(loadTlsFiles(config.tls, index));
        results.push({ index, ok: true });
      } catch (err) {
        results.push({ index, ok: false, error: (err as Error).message });
      }
    }
    return results;
  }

  /** Stops accepting; resolves once every server has no more connections. */
  close(): Promise<void> {
    return Promise.all(this.servers.map(({ server }) => new Promise<void>((resolve) => server.close(() => resolve())))).then(() => undefined);
  }
}
