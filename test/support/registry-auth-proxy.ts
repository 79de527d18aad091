/**
 * An HTTP(S) front for a real Apicurio in tests: Apicurio's own auth needs Keycloak, so this
 * reverse proxy requires Basic auth and/or a Bearer token (either accepted when both are set;
 * none set = open), can serve TLS with a test CA and require a client certificate (mTLS), and
 * forwards every authorized request to the registry unchanged (method, path, headers minus
 * hop-by-hop ones, body and response bytes as they are).
 *   401 + {"error_code":40101,"message":"Unauthorized"}    missing or wrong credentials
 *   mTLS without a client certificate                      the TLS handshake fails (no HTTP answer)
 *   setMode('unavailable')  503 + {"error_code":50301,...} to every request, before auth
 *   setMode('hang')         accepts the request and never answers (until the client gives up
 *                           or close()); requests already hanging stay so after setMode('forward')
 *   registry down           502 + {"error_code":50201,"message":"Bad Gateway: ..."}
 */
import { readFileSync } from 'node:fs';
import { createServer as createHttpServer, request, type IncomingHttpHeaders, type IncomingMessage, type Server, type ServerResponse } from 'node:http';
import { createServer as createHttpsServer } from 'node:https';
import type { AddressInfo } from 'node:net';
import { CCOMPAT_PATH } from '../registry/ccompat-client.js';

export const REGISTRY_PROXY_MODES = ['forward', 'unavailable', 'hang'] as const;
export type RegistryProxyMode = (typeof REGISTRY_PROXY_MODES)[number];

export interface RegistryAuthProxyOptions {
  /** The registry: only its host and port are used, request paths go through unchanged. */
  target: string;
  basicAuth?: { username: string; password: string };
  bearerToken?: string;
  /** PEM files. `caFile` + `requireClientCert`: clients must present a certificate signed by it. */
  tls?: { certFile: string; keyFile: string; caFile?: string; requireClientCert?: boolean };
  port?: number; // default: a free port on 127.0.0.1
}

export interface ProxyRequestLog {
  method: string;
  path: string;
  /** What the proxy answered itself, or the registry's status when forwarded ('hang': 0). */
  status: number;
  outcome: 'forwarded' | 'unauthorized' | 'unavailable' | 'hung' | 'upstream-error';
}

export interface RegistryAuthProxy {
  readonly port: number;
  /** `http(s)://127.0.0.1:PORT` */
  readonly origin: string;
  /** `origin + /apis/ccompat/v7`: the registry URL to give a Confluent-style client. */
  readonly url: string;
  mode(): RegistryProxyMode;
  setMode(mode: RegistryProxyMode): void;
  /** The last 500 requests, oldest first. */
  requests(): readonly ProxyRequestLog[];
  close(): Promise<void>; // safe twice; drops hanging requests
}

const LOG_CAP = 500;
const HOP_BY_HOP = new Set(['connection', 'keep-alive', 'proxy-connection', 'transfer-encoding', 'upgrade', 'te', 'trailer']);
const UNAUTHORIZED = JSON.stringify({ error_code: 40101, message: 'Unauthorized' });

export async function startRegistryAuthProxy(opts: RegistryAuthProxyOptions): Promise<RegistryAuthProxy> {
  const target = new URL(opts.target);
  const expected = new Set<string>();
  if (opts.basicAuth !== undefined) expected.add(`Basic ${Buffer.from(`${opts.basicAuth.username}:${opts.basicAuth.password}`).toString('base64')}`);
  if (opts.bearerToken !== undefined) expected.add(`Bearer ${opts.bearerToken}`);
  const challenge = [opts.basicAuth !== undefined ? 'Basic realm="schema-registry"' : undefined, opts.bearerToken !== undefined ? 'Bearer realm="schema-registry"' : undefined].filter((c) => c !== undefined).join(', ');
  let mode: RegistryProxyMode = 'forward';
  const log: ProxyRequestLog[] = [];
  const note = (entry: ProxyRequestLog): void => {
    log.push(entry);
    if (log.length > LOG_CAP) log.shift();
  };

  const handle = (req: IncomingMessage, res: ServerResponse): void => {
    const method = req.method ?? 'GET';
    const path = req.url ?? '/';
    if (mode === 'hang') {
      note({ method, path, status: 0, outcome: 'hung' });
      return; // never answered; close() or the client's timeout ends it
    }
    if (mode === 'unavailable') {
      note({ method, path, status: 503, outcome: 'unavailable' });
      sendJson(res, 503, JSON.stringify({ error_code: 50301, message: 'Service Unavailable' }));
      return;
    }
    if (expected.size > 0 && !expected.has(req.headers.authorization ?? '')) {
      note({ method, path, status: 401, outcome: 'unauthorized' });
      req.resume();
      sendJson(res, 401, UNAUTHORIZED, { 'www-authenticate': challenge });
      return;
    }
    const upstream = request(
      { host: target.hostname, port: target.port, method, path, headers: withoutHopByHop(req.headers) },
      (up) => {
        note({ method, path, status: up.statusCode ?? 0, outcome: 'forwarded' });
        res.writeHead(up.statusCode ?? 502, up.statusMessage, withoutHopByHop(up.headers));
        up.pipe(res);
      },
    );
    upstream.on('error', (err) => {
      if (res.headersSent) {
        res.destroy(err);
        return;
      }
      note({ method, path, status: 502, outcome: 'upstream-error' });
      sendJson(res, 502, JSON.stringify({ error_code: 50201, message: `Bad Gateway: ${err.message}` }));
    });
    req.pipe(upstream);
  };

  const server: Server =
    opts.tls === undefined
      ? createHttpServer(handle)
      : createHttpsServer(
          {
            cert: readFileSync(opts.tls.certFile),
            key: readFileSync(opts.tls.keyFile),
            ...(opts.tls.caFile !== undefined ? { ca: readFileSync(opts.tls.caFile) } : {}),
            requestCert: opts.tls.requireClientCert === true,
            rejectUnauthorized: opts.tls.requireClientCert === true,
          },
          handle,
        );
  await new Promise<void>((resolve, reject) => {
    server.once('error', reject);
    server.listen(opts.port ?? 0, '127.0.0.1', () => resolve());
  });
  const port = (server.address() as AddressInfo).port;
  const origin = `${opts.tls === undefined ? 'http' : 'https'}://127.0.0.1:${port}`;
  let closing: Promise<void> | undefined;
  return {
    port,
    origin,
    url: `${origin}${CCOMPAT_PATH}`,
    mode: () => mode,
    setMode: (m) => {
      if (!REGISTRY_PROXY_MODES.includes(m)) throw new Error(`registry proxy: unknown mode ${String(m)}`);
      mode = m;
    },
    requests: () => [...log],
    close: () =>
      (closing ??= new Promise<void>((resolve) => {
        server.close(() => resolve());
        server.closeAllConnections();
      })),
  };
}

function withoutHopByHop(headers: IncomingHttpHeaders): IncomingHttpHeaders {
  const out: IncomingHttpHeaders = {};
  for (const [k, v] of Object.entries(headers)) if (!HOP_BY_HOP.has(k)) out[k] = v;
  return out;
}

function sendJson(res: ServerResponse, status: number, body: string, extra: Record<string, string> = {}): void {
  const headers: Record<string, string | number> = { 'content-type': 'application/json', 'content-length': Buffer.byteLength(body) };
  for (const [k, v] of Object.entries(extra)) if (v.length > 0) headers[k] = v;
  res.writeHead(status, headers);
  res.end(body);
}
