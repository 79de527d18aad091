/**
 * A stand-in for the admin server's two page routes, for browser tests of the page alone:
 * `GET /` serves the status page with its headers, `GET /status` whatever JSON `status()` returns
 * (snapshots a test changes), behind a bearer token when one is given.
 */
import { createServer, type Server } from 'node:http';
import type { AddressInfo } from 'node:net';
import { STATUS_PAGE_HEADERS, STATUS_PAGE_HTML } from '../../gateway/src/control/status-page.js';

export interface StatusPageServer {
  url: string;
  /** Authorization headers seen on /status, in order. */
  authHeaders: Array<string | undefined>;
  close(): Promise<void>;
}

export async function startStatusPageServer(status: () => unknown, opts: { token?: string } = {}): Promise<StatusPageServer> {
  const authHeaders: Array<string | undefined> = [];
  const server: Server = createServer((req, res) => {
    const path = new URL(req.url ?? '/', 'http://x').pathname;
    if (req.method === 'GET' && path === '/') {
      res.writeHead(200, STATUS_PAGE_HEADERS).end(STATUS_PAGE_HTML);
    } else if (req.method === 'GET' && path === '/status') {
      authHeaders.push(req.headers.authorization);
      if (opts.token !== undefined && req.headers.authorization !== `Bearer ${opts.token}`) {
        res.writeHead(401, { 'www-authenticate': 'Bearer', 'content-type': 'application/json' }).end('{"error":"unauthorized"}');
        return;
      }
      res.writeHead(200, { 'content-type': 'application/json', 'cache-control': 'no-store' }).end(JSON.stringify(status()));
    } else {
      res.writeHead(404).end();
    }
  });
  await new Promise<void>((r) => server.listen(0, '127.0.0.1', r));
  const { port } = server.address() as AddressInfo;
  return {
    url: `http://127.0.0.1:${port}`,
    authHeaders,
    close: () => new Promise<void>((r) => server.close(() => r())),
  };
}
