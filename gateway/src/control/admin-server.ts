/**
 * The admin HTTP listener (control room; never on the hot path): probes, status and metrics.
 *   GET /healthz  200 while the process and its event loop answer (no auth: says nothing else)
 *   GET /readyz   200 when listeners are bound and the buffer is writable, else 503; JSON
 *                 reports Kafka too, which readiness does not require (the gateway is useful offline)
 *   GET /         the live status page (status-page.ts; no auth: it holds no data, and asks for
 *                 the token itself before it reads /status)
 *   GET /status   the snapshot the page and `edge-gateway status` show (admin-status.ts), JSON
 *   GET /metrics  Prometheus text format (gateway-metrics.ts)
 * Every endpoint but /healthz requires the bearer token and/or an operator certificate when the
 * config names one; the schema refuses a non-loopback bind with neither.
 */
import { createHash, timingSafeEqual } from 'node:crypto';
import { createServer as createHttpServer, type IncomingMessage, type Server, type ServerResponse } from 'node:http';
import { createServer as createHttpsServer } from 'node:https';
import { isIP, type AddressInfo } from 'node:net';
import type { TLSSocket } from 'node:tls';
import type { AdminConfig } from '../config/admin-schema.js';
import { readTlsServerOptions } from '../config/tls-files.js';
import type { GatewayHealth } from '../gateway.js';
import type { Logger } from '../lib/logger.js';
import type { AdminStatus } from './admin-status.js';
import { STATUS_PAGE_HEADERS, STATUS_PAGE_HTML } from './status-page.js';

export interface Readiness {
  ready: boolean;
  checks: { pipeline: boolean; listening: boolean; bufferWritable: boolean };
  /** Reported, not required. */
  kafkaUp: boolean;
  flowState: string | null;
}

/** Ready = a pipeline runs, its listeners are bound and its buffer commits succeed. Kafka is not required. */
export function readiness(h: GatewayHealth | null, flowState: string | null): Readiness {
  const checks = { pipeline: h !== null, listening: h?.listening ?? false, bufferWritable: h !== null && !h.bufferFailing };
  return { ready: checks.pipeline && checks.listening && checks.bufferWritable, checks, kafkaUp: h?.kafkaUp ?? false, flowState };
}

export interface AdminServerOptions {
  config: Readonly<AdminConfig>;
  logger: Logger;
  readiness(): Readiness;
  status(): AdminStatus;
  metrics: { contentType: string; scrape(): Promise<string> };
}

export interface AdminServer {
  start(): Promise<{ host: string; port: number }>;
  /** Safe to call twice. */
  close(): Promise<void>;
}

export type AdminAuth = 'none' | 'token' | 'clientCert' | 'token or clientCert';

/** What a request must present under this config. */
export function adminAuthMode(c: Readonly<AdminConfig>): AdminAuth {
  const cert = c.tls !== undefined && c.tls.clientCert !== 'none';
  if (c.token !== undefined && cert) return c.tls!.clientCert === 'require' ? 'clientCert' : 'token or clientCert';
  if (c.token !== undefined) return 'token';
  return cert ? 'clientCert' : 'none';
}

const digest = (s: string): Buffer => createHash('sha256').update(s).digest();

/**
 * True when the request may see more than /healthz. Tokens are compared as SHA-256 digests with
 * timingSafeEqual: constant time, whatever the length presented. With clientCert `require` the
 * TLS handshake already refused anyone without a certificate signed by caFile (and then the
 * token, if also set, is not asked for: the certificate is the stronger proof).
 */
export function isAuthorized(c: Readonly<AdminConfig>, authorization: string | undefined, socket: { authorized?: boolean }): boolean {
  const mode = adminAuthMode(c);
  if (mode === 'none') return true;
  if ((mode === 'clientCert' || mode === 'token or clientCert') && socket.authorized === true) return true;
  if (mode === 'clientCert' || c.token === undefined) return false;
  const m = /^Bearer\s+(\S+)\s*$/i.exec(authorization ?? '');
  if (m === null) return false;
  return timingSafeEqual(digest(m[1]!), digest(c.token));
}

export function createAdminServer(o: AdminServerOptions): AdminServer {
  const c = o.config;
  const log = o.logger;
  const tls = c.tls;
  const server: Server = tls
    ? createHttpsServer({
        connectionsCheckingInterval: 1000,
        ...readTlsServerOptions('admin.tls', tls),
        requestCert: tls.clientCert !== 'none',
        rejectUnauthorized: tls.clientCert === 'require',
      })
    : createHttpServer({ connectionsCheckingInterval: 1000 });
  // A probe endpoint for operators: a bounded number of connections, short timeouts, checked
  // every second, so idle sockets cannot hold every slot (and time out /healthz) for long.
  server.maxConnections = 64;
  server.headersTimeout = 5_000;
  server.requestTimeout = 10_000;
  server.keepAliveTimeout = 5_000;
  server.on('request', (req, res) => void handle(req, res));
  server.on('clientError', (_err, socket) => socket.destroy());
  let closing: Promise<void> | null = null;

  async function handle(req: IncomingMessage, res: ServerResponse): Promise<void> {
    const path = (req.url ?? '/').split('?', 1)[0];
    // No endpoint takes a body: answer, then close instead of draining whatever was declared
    // (node reads an unconsumed body to the end to keep the connection alive; 1 GB would be read).
    if (req.headers['content-length'] !== undefined ? req.headers['content-length'] !== '0' : req.headers['transfer-encoding'] !== undefined) res.setHeader('connection', 'close');
    if (req.method !== 'GET' && req.method !== 'HEAD') return send(res, 405, { error: 'method not allowed' }, { allow: 'GET, HEAD' });
    if (path === '/healthz') return send(res, 200, { status: 'ok', uptimeSecs: Math.round(process.uptime()) });
    if (path === '/') {
      res.writeHead(200, STATUS_PAGE_HEADERS);
      res.end(req.method === 'HEAD' ? undefined : STATUS_PAGE_HTML);
      return;
    }
    if (path !== '/readyz' && path !== '/status' && path !== '/metrics') return send(res, 404, { error: 'not found' });
    // Unauthenticated (loopback) answers only requests addressed to loopback or an IP: a web page
    // whose own name the attacker re-points at 127.0.0.1 (DNS rebinding) must not read them.
    if (adminAuthMode(c) === 'none' && !isLiteralHost(req.headers.host)) return send(res, 421, { error: 'Host must be localhost or an IP address' });
    if (!isAuthorized(c, req.headers.authorization, req.socket as TLSSocket)) {
      return send(res, 401, { error: 'unauthorized' }, { 'www-authenticate': 'Bearer realm="edge-gateway admin"' });
    }
    try {
      if (path === '/readyz') {
        const r = o.readiness();
        return send(res, r.ready ? 200 : 503, r);
      }
      if (path === '/status') return send(res, 200, o.status());
      const text = await o.metrics.scrape();
      res.writeHead(200, { 'content-type': o.metrics.contentType, 'cache-control': 'no-store' });
      res.end(req.method === 'HEAD' ? undefined : text);
    } catch (err) {
      log.error({ event: 'admin_request_failed', path, err }, 'admin request failed');
      send(res, 500, { error: 'internal error' });
    }
  }

  return {
    start() {
      return new Promise((resolve, reject) => {
        server.once('error', reject);
        server.listen(c.port, c.host, () => {
          server.off('error', reject);
          server.on('error', (err) => log.error({ event: 'admin_error', err }, 'admin listener error'));
          const a = server.address() as AddressInfo;
          log.info({ event: 'admin_listening', host: c.host, port: a.port, tls: tls !== undefined, auth: adminAuthMode(c) }, `admin HTTP on ${c.host}:${a.port}${tls ? ' (TLS)' : ''}`);
          resolve({ host: c.host, port: a.port });
        });
      });
    },
    close() {
      closing ??= new Promise<void>((resolve) => {
        if (!server.listening) return resolve();
        server.close(() => resolve());
        server.closeAllConnections();
      });
      return closing;
    },
  };
}

/** `localhost` or an IP literal, with or without a port: a Host no DNS name can stand for. */
export function isLiteralHost(host: string | undefined): boolean {
  if (host === undefined) return false;
  const m = /^(?:\[([^\]]+)\]|([^:]+))(?::\d+)?$/.exec(host);
  const name = m?.[1] ?? m?.[2];
  if (name === undefined) return false;
  return name.toLowerCase() === 'localhost' || isIP(name) !== 0;
}

function send(res: ServerResponse, code: number, body: unknown, headers: Record<string, string> = {}): void {
  const text = `${JSON.stringify(body)}\n`;
  res.writeHead(code, { 'content-type': 'application/json; charset=utf-8', 'cache-control': 'no-store', ...headers });
  res.end(res.req.method === 'HEAD' ? undefined : text);
}
