/**
 * The admin listener's rules: the loopback/token rule at config load, constant-time bearer
 * tokens, /healthz open and everything else behind the token, and readiness that does not wait
 * for Kafka. Real sockets on port 0 (the system test runs the real gateway process).
 */
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { connect } from 'node:net';
import { adminAuthMode, createAdminServer, isAuthorized, readiness, type AdminServerOptions } from '../../../gateway/src/control/admin-server.js';
import { loadConfig, validateConfig } from '../../../gateway/src/config/load-config.js';
import { createLogger } from '../../../gateway/src/lib/logger.js';
import type { AdminConfig } from '../../../gateway/src/config/admin-schema.js';
import type { AdminStatus } from '../../../gateway/src/control/admin-status.js';

const TOKEN = 'a-token-of-32-characters-0123456';
const admin = (a: Record<string, unknown>): AdminConfig => validateConfig({ admin: a }).admin;

test('defaults: enabled on 127.0.0.1:9883, no auth', () => {
  const a = validateConfig({}).admin;
  assert.deepEqual({ enabled: a.enabled, host: a.host, port: a.port, token: a.token }, { enabled: true, host: '127.0.0.1', port: 9883, token: undefined });
  assert.equal(adminAuthMode(a), 'none');
});

test('a non-loopback host without a token or a required client certificate is refused at load', () => {
  for (const host of ['0.0.0.0', '::', '192.168.1.10']) {
    assert.throws(() => admin({ host }), (err: Error & { code?: string }) => err.code === 'GW_ERR_CONFIG_INVALID' && /admin\.token: a non-loopback admin host needs a token/.test(err.message), host);
  }
  assert.equal(admin({ host: '0.0.0.0', token: TOKEN }).token, TOKEN);
  assert.equal(admin({ host: '0.0.0.0', tls: { certFile: 'c', keyFile: 'k', caFile: 'ca', clientCert: 'require' } }).tls?.clientCert, 'require');
  assert.throws(() => admin({ host: '0.0.0.0', tls: { certFile: 'c', keyFile: 'k', caFile: 'ca', clientCert: 'optional' } }), /non-loopback/);
  assert.throws(() => admin({ token: 'short' }), /admin\.token: at least 16 characters/);
  assert.equal(admin({ host: 'localhost' }).host, 'localhost');
});

test('GATEWAY_ADMIN_TOKEN fills the token (and satisfies the non-loopback rule)', () => {
  const c = loadConfig({ env: { GATEWAY_ADMIN_TOKEN: TOKEN, GATEWAY_MQTT_HOST: '127.0.0.1' } });
  assert.equal(c.admin.token, TOKEN);
});

test('isAuthorized: bearer token, client certificate, or nothing on an unauthenticated loopback', () => {
  const open = admin({});
  assert.equal(isAuthorized(open, undefined, {}), true);
  const tok = admin({ token: TOKEN });
  assert.equal(isAuthorized(tok, undefined, {}), false);
  assert.equal(isAuthorized(tok, `Bearer ${TOKEN}`, {}), true);
  assert.equal(isAuthorized(tok, `bearer ${TOKEN}`, {}), true, 'the scheme is case-insensitive (RFC 7235)');
  assert.equal(isAuthorized(tok, `Bearer ${TOKEN}x`, {}), false);
  assert.equal(isAuthorized(tok, `Bearer ${TOKEN.slice(0, -1)}`, {}), false);
  assert.equal(isAuthorized(tok, `Basic ${TOKEN}`, {}), false);
  assert.equal(isAuthorized(tok, TOKEN, {}), false);
  assert.equal(isAuthorized(tok, `Bearer ${TOKEN}`, { authorized: false }), true);
  const tls = { certFile: 'c', keyFile: 'k', caFile: 'ca' };
  const optional = admin({ token: TOKEN, tls: { ...tls, clientCert: 'optional' } });
  assert.equal(adminAuthMode(optional), 'token or clientCert');
  assert.equal(isAuthorized(optional, undefined, { authorized: true }), true);
  assert.equal(isAuthorized(optional, undefined, { authorized: false }), false);
  assert.equal(isAuthorized(optional, `Bearer ${TOKEN}`, { authorized: false }), true);
  const certOnly = admin({ tls: { ...tls, clientCert: 'optional' } });
  assert.equal(adminAuthMode(certOnly), 'clientCert');
  assert.equal(isAuthorized(certOnly, undefined, { authorized: false }), false);
});

test('readiness: listeners bound and buffer writable; Kafka reported, not required', () => {
  const h = { listening: true, kafkaUp: false, lastAckedEncodedAt: 0, bufferedRows: 0, bufferFailing: false };
  assert.equal(readiness(h, 'open').ready, true);
  assert.equal(readiness(h, 'open').kafkaUp, false);
  assert.equal(readiness({ ...h, bufferFailing: true }, 'diskError').ready, false);
  assert.equal(readiness({ ...h, listening: false }, 'open').ready, false);
  assert.equal(readiness(null, null).ready, false);
});

async function withServer(config: AdminConfig, fn: (base: string) => Promise<void>, over: Partial<AdminServerOptions> = {}): Promise<void> {
  const server = createAdminServer({
    config: { ...config, port: 0 },
    logger: createLogger('silent'),
    readiness: () => readiness({ listening: true, kafkaUp: false, lastAckedEncodedAt: 0, bufferedRows: 0, bufferFailing: false }, 'open'),
    status: () => ({ kind: 'edge-gateway-admin-status' }) as AdminStatus,
    metrics: { contentType: 'text/plain; version=0.0.4; charset=utf-8', scrape: async () => '# TYPE x counter\nx 1\n' },
    ...over,
  });
  const { port } = await server.start();
  try {
    await fn(`http://127.0.0.1:${port}`);
  } finally {
    await server.close();
    await server.close();
  }
}

test('with a token: /healthz open, everything else 401 without it and 200 with it', async () => {
  await withServer(admin({ token: TOKEN }), async (base) => {
    assert.equal((await fetch(`${base}/healthz`)).status, 200);
    for (const path of ['/readyz', '/status', '/metrics']) {
      const denied = await fetch(`${base}${path}`);
      assert.equal(denied.status, 401, path);
      assert.match(denied.headers.get('www-authenticate') ?? '', /^Bearer/);
      assert.equal((await fetch(`${base}${path}`, { headers: { authorization: 'Bearer wrong-token-wrong-token' } })).status, 401);
      assert.equal((await fetch(`${base}${path}`, { headers: { authorization: `Bearer ${TOKEN}` } })).status, 200, path);
    }
    assert.equal((await fetch(`${base}/nope`)).status, 404);
    assert.equal((await fetch(`${base}/metrics`, { method: 'POST' })).status, 405);
  });
});

test('status codes and bodies: readyz 503 when not ready, metrics content type, a failing scrape is a 500', async () => {
  await withServer(
    admin({}),
    async (base) => {
      const r = await fetch(`${base}/readyz`);
      assert.equal(r.status, 503);
      assert.deepEqual(((await r.json()) as { checks: unknown }).checks, { pipeline: true, listening: true, bufferWritable: false });
      const m = await fetch(`${base}/metrics`);
      assert.equal(m.status, 500);
    },
    {
      readiness: () => readiness({ listening: true, kafkaUp: true, lastAckedEncodedAt: 0, bufferedRows: 0, bufferFailing: true }, 'diskError'),
      metrics: { contentType: 'text/plain', scrape: () => Promise.reject(new Error('boom')) },
    },
  );
  await withServer(admin({}), async (base) => {
    const m = await fetch(`${base}/metrics?x=1`);
    assert.equal(m.status, 200);
    assert.match(m.headers.get('content-type') ?? '', /^text\/plain; version=0\.0\.4/);
    assert.equal(await m.text(), '# TYPE x counter\nx 1\n');
  });
});

/** Writes `declared` bytes of body after `head` until the server closes; resolves with the first response line and the bytes written. */
function sendBody(base: string, head: string, declared: number): Promise<{ status: string; written: number }> {
  const { hostname, port } = new URL(base);
  return new Promise((resolve) => {
    const c = connect(Number(port), hostname);
    let written = 0;
    let reply = '';
    let closed = false;
    const chunk = Buffer.alloc(64 * 1024);
    c.on('data', (d: Buffer) => (reply += d.toString('latin1')));
    c.on('error', () => undefined);
    c.on('close', () => {
      closed = true;
      resolve({ status: reply.split('\r\n', 1)[0]!, written });
    });
    c.write(head.replace('\r\n\r\n', `\r\ncontent-length: ${declared}\r\n\r\n`));
    const pump = (): void => {
      while (!closed && written < declared) {
        written += chunk.length;
        if (!c.write(chunk)) return void c.once('drain', pump);
      }
      if (!closed) c.end();
    };
    pump();
  });
}

test('a request body is never read: the answer closes the connection instead of draining a huge upload', async () => {
  const GiB = 1024 ** 3;
  await withServer(admin({}), async (base) => {
    const post = await sendBody(base, 'POST /metrics HTTP/1.1\r\nhost: 127.0.0.1\r\n\r\n', GiB);
    assert.match(post.status, /^HTTP\/1\.1 405/);
    assert.ok(post.written < GiB, `the server read all ${post.written} bytes`);
    const get = await sendBody(base, 'GET /status HTTP/1.1\r\nhost: 127.0.0.1\r\n\r\n', GiB);
    assert.match(get.status, /^HTTP\/1\.1 (200|413)/);
    assert.ok(get.written < GiB, `the server read all ${get.written} bytes`);
  });
});

test('unauthenticated loopback: a Host that is not loopback or an IP (DNS rebinding) gets 421 on everything but /healthz', async () => {
  await withServer(admin({}), async (base) => {
    const { port } = new URL(base);
    const asHost = (path: string, host: string): Promise<string> =>
      new Promise((resolve) => {
        const c = connect(Number(port), '127.0.0.1');
        let reply = '';
        c.on('data', (d: Buffer) => (reply += d.toString('latin1')));
        c.on('close', () => resolve(reply.split('\r\n', 1)[0]!));
        c.write(`GET ${path} HTTP/1.1\r\nhost: ${host}\r\nconnection: close\r\n\r\n`);
      });
    for (const path of ['/status', '/metrics', '/readyz']) {
      assert.match(await asHost(path, 'rebind.attacker.example:9883'), /^HTTP\/1\.1 421/, path);
      assert.match(await asHost(path, '127.0.0.1.attacker.example'), /^HTTP\/1\.1 421/, path);
      for (const ok of [`127.0.0.1:${port}`, `localhost:${port}`, 'localhost', `[::1]:${port}`, '127.0.0.2']) assert.match(await asHost(path, ok), /^HTTP\/1\.1 200/, `${path} ${ok}`);
    }
    assert.match(await asHost('/healthz', 'rebind.attacker.example'), /^HTTP\/1\.1 200/);
  });
  // With a token the Host does not matter (a rebinding page has no token).
  await withServer(admin({ token: TOKEN }), async (base) => {
    const res = await fetch(`${base}/status`, { headers: { authorization: `Bearer ${TOKEN}`, host: 'gw.example' } });
    assert.equal(res.status, 200);
  });
});
