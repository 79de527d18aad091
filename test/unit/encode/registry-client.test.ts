/**
 * Registry client against a local HTTP server that answers as a Confluent registry would (the
 * real one, Apicurio, is in test/system/schema-registry.test.ts): every answer becomes a value
 * with the right code, credentials are sent, and nothing the server does makes it throw or hang.
 */
import assert from 'node:assert/strict';
import { createServer, type IncomingMessage, type ServerResponse } from 'node:http';
import type { AddressInfo } from 'node:net';
import { test, type TestContext } from 'node:test';
import { createRegistryClient, type RegistryClient } from '../../../gateway/src/encode/registry-client.js';

type Handler = (req: IncomingMessage, body: string, res: ServerResponse) => void;

async function serve(t: TestContext, handler: Handler, opts: { auth?: { type: 'basic'; username: string; password: string } | { type: 'bearer'; token: string }; timeoutMs?: number } = {}): Promise<RegistryClient> {
  const server = createServer((req, res) => {
    let body = '';
    req.on('data', (c: Buffer) => (body += c.toString('utf8')));
    req.on('end', () => handler(req, body, res));
  });
  await new Promise<void>((r) => server.listen(0, '127.0.0.1', r));
  const { port } = server.address() as AddressInfo;
  const client = createRegistryClient({ url: `http://127.0.0.1:${port}/apis/ccompat/v7/`, auth: opts.auth, requestTimeoutMs: opts.timeoutMs ?? 2000 });
  t.after(() => {
    client.close();
    server.closeAllConnections();
    server.close();
  });
  return client;
}

const json = (res: ServerResponse, status: number, body: unknown) => {
  res.writeHead(status, { 'content-type': 'application/vnd.schemaregistry.v1+json' });
  res.end(JSON.stringify(body));
};

test('register posts the schema under the subject (path prefix kept) and returns the id', async (t) => {
  const seen: Array<{ method: string; url: string; body: unknown; type: string | undefined }> = [];
  const client = await serve(t, (req, body, res) => {
    seen.push({ method: req.method!, url: req.url!, body: JSON.parse(body), type: req.headers['content-type'] });
    json(res, 200, { id: 42 });
  });
  const r = await client.register('telemetry.raw-value', '{"type":"string"}');
  assert.deepEqual(r, { ok: true, value: 42 });
  assert.deepEqual(seen, [{ method: 'POST', url: '/apis/ccompat/v7/subjects/telemetry.raw-value/versions', body: { schema: '{"type":"string"}', schemaType: 'AVRO' }, type: 'application/vnd.schemaregistry.v1+json' }]);
  assert.equal(client.displayUrl, `http://127.0.0.1:${new URL(client.displayUrl).port}/apis/ccompat/v7`);
});

test('answers map to codes: 409 incompatible, 401/403 auth, 5xx and 429 unreachable, 422 refused', async (t) => {
  let status = 409;
  const client = await serve(t, (_req, _b, res) => json(res, status, { error_code: status, message: `status ${status}` }));
  const codeOf = async (s: number) => {
    status = s;
    const r = await client.register('s', '"string"');
    assert.equal(r.ok, false);
    return r.ok ? null : r.error.code;
  };
  assert.equal(await codeOf(409), 'GW_ERR_REGISTRY_INCOMPATIBLE');
  assert.equal(await codeOf(401), 'GW_ERR_REGISTRY_AUTH');
  assert.equal(await codeOf(403), 'GW_ERR_REGISTRY_AUTH');
  assert.equal(await codeOf(500), 'GW_ERR_REGISTRY_UNREACHABLE');
  assert.equal(await codeOf(503), 'GW_ERR_REGISTRY_UNREACHABLE');
  assert.equal(await codeOf(429), 'GW_ERR_REGISTRY_UNREACHABLE');
  assert.equal(await codeOf(422), 'GW_ERR_REGISTRY_REFUSED');
  status = 409;
  const r = await client.register('s', '"string"');
  assert.match(r.ok ? '' : r.error.message, /register under subject "s" at http:\/\/127\.0\.0\.1:\d+\/apis\/ccompat\/v7: HTTP 409 409 status 409/);
});

test('lookup: 404 is NOT_REGISTERED; compatibility: 404 (no subject yet) is compatible, verbose messages kept', async (t) => {
  const client = await serve(t, (req, _b, res) => {
    if (req.url!.startsWith('/apis/ccompat/v7/compatibility/subjects/new')) return json(res, 404, { error_code: 40401, message: 'Subject not found' });
    if (req.url!.startsWith('/apis/ccompat/v7/compatibility/subjects/apicurio')) return json(res, 200, { is_compatible: false, reason: 'extra at /fields/2' });
    if (req.url!.startsWith('/apis/ccompat/v7/compatibility/')) {
      assert.match(req.url!, /\/versions\/latest\?verbose=true$/);
      return json(res, 200, { is_compatible: false, messages: ['READER_FIELD_MISSING_DEFAULT_VALUE: humidity'] });
    }
    return json(res, 404, { error_code: 40403, message: 'Schema not found' });
  });
  const l = await client.lookup('x-value', '"string"');
  assert.equal(l.ok ? null : l.error.code, 'GW_ERR_REGISTRY_NOT_REGISTERED');
  assert.deepEqual(await client.compatibility('new-value', '"string"'), { ok: true, value: { compatible: true, messages: [] } });
  assert.deepEqual(await client.compatibility('old-value', '"string"'), { ok: true, value: { compatible: false, messages: ['READER_FIELD_MISSING_DEFAULT_VALUE: humidity'] } });
  assert.deepEqual(await client.compatibility('apicurio-value', '"string"'), { ok: true, value: { compatible: false, messages: ['extra at /fields/2'] } }, 'Apicurio gives `reason`');
});

test('basic and bearer credentials are sent; the display url never holds them', async (t) => {
  const auths: Array<string | undefined> = [];
  const handler: Handler = (req, _b, res) => {
    auths.push(req.headers.authorization);
    json(res, 200, { id: 1 });
  };
  const basic = await serve(t, handler, { auth: { type: 'basic', username: 'gw', password: 's3cret:x' } });
  const bearer = await serve(t, handler, { auth: { type: 'bearer', token: 'tok-123' } });
  await basic.register('s', '"string"');
  await bearer.register('s', '"string"');
  assert.deepEqual(auths, [`Basic ${Buffer.from('gw:s3cret:x').toString('base64')}`, 'Bearer tok-123']);
  assert.doesNotMatch(basic.displayUrl + bearer.displayUrl, /s3cret|tok-123/);
});

test('a silent server times out, a refused port, a huge or non-JSON answer: values, never throws', async (t) => {
  let mode = 'hang';
  const client = await serve(
    t,
    (_req, _b, res) => {
      if (mode === 'hang') return; // never answers
      if (mode === 'huge') {
        res.writeHead(200);
        res.end(Buffer.alloc(2 * 1024 * 1024, 0x61));
        return;
      }
      res.writeHead(200, { 'content-type': 'text/html' });
      res.end('<html>proxy error</html>');
    },
    { timeoutMs: 300 },
  );
  const t0 = Date.now();
  const hung = await client.register('s', '"string"');
  assert.equal(hung.ok ? null : hung.error.code, 'GW_ERR_REGISTRY_UNREACHABLE');
  assert.ok(Date.now() - t0 < 5000);
  mode = 'huge';
  const huge = await client.register('s', '"string"');
  assert.equal(huge.ok ? null : huge.error.code, 'GW_ERR_REGISTRY_REFUSED');
  mode = 'html';
  const html = await client.register('s', '"string"');
  assert.equal(html.ok ? null : html.error.code, 'GW_ERR_REGISTRY_REFUSED', 'a 200 without an id is not an id');
  const refused = createRegistryClient({ url: 'http://127.0.0.1:1', requestTimeoutMs: 1000 });
  const r = await refused.register('s', '"string"');
  refused.close();
  assert.equal(r.ok ? null : r.error.code, 'GW_ERR_REGISTRY_UNREACHABLE');
});

test('a registry that trickles its answer a byte at a time forever is cut off after requestTimeoutMs (total, not idle)', async (t) => {
  const timers: NodeJS.Timeout[] = [];
  t.after(() => timers.forEach(clearInterval));
  const client = await serve(
    t,
    (_req, _b, res) => {
      res.writeHead(200, { 'content-type': 'application/json' });
      res.write('{"id": ');
      timers.push(setInterval(() => res.write(' '), 50));
    },
    { timeoutMs: 300 },
  );
  const t0 = Date.now();
  const r = await Promise.race([client.register('s', '"string"'), new Promise<'hung'>((res) => timers.push(setTimeout(() => res('hung'), 3000)))]);
  assert.notEqual(r, 'hung', 'the request ended');
  assert.equal(r !== 'hung' && !r.ok && r.error.code, 'GW_ERR_REGISTRY_UNREACHABLE');
  assert.ok(Date.now() - t0 < 1500, `ended after ${Date.now() - t0} ms`);
});
