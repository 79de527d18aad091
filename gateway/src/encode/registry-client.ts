/**
 * A small client for the Confluent Schema Registry REST API (the subset a producer needs):
 * register, look up, check compatibility. Every answer is a value: `{ ok: true, value }` or a
 * GatewayError with a code (unreachable, auth, incompatible, not registered, refused), never a
 * throw. Works against Confluent's registry, Apicurio's ccompat API (tested), Karapace, Redpanda.
 */
import http from 'node:http';
import https from 'node:https';
import type { ConnectionOptions } from 'node:tls';
import { gatewayError, type GatewayError } from '../errors.js';

export type RegistryResult<T> = { ok: true; value: T } | { ok: false; error: GatewayError; status?: number };

export interface RegistryClientOptions {
  /** Base URL of the Confluent-compatible API (path prefix kept, e.g. /apis/ccompat/v7). */
  url: string;
  auth?: { type: 'basic'; username: string; password: string } | { type: 'bearer'; token: string } | undefined;
  /** TLS client options for an https URL (CA, client certificate). */
  tls?: ConnectionOptions | undefined;
  requestTimeoutMs: number;
}

export interface CompatibilityAnswer {
  compatible: boolean;
  /** The registry's reasons when it gives them (verbose=true). */
  messages: string[];
}

export interface RegistryClient {
  /** Registers `schema` under `subject` (or finds it): its global id. The registry applies the subject's compatibility rule. */
  register(subject: string, schema: string): Promise<RegistryResult<number>>;
  /** The id of `schema` already registered under `subject`; GW_ERR_REGISTRY_NOT_REGISTERED when absent. */
  lookup(subject: string, schema: string): Promise<RegistryResult<number>>;
  /** Whether `schema` may be added to `subject`; compatible when the subject does not exist yet. */
  compatibility(subject: string, schema: string): Promise<RegistryResult<CompatibilityAnswer>>;
  /** The schema text registered with `id` (readers: the audit). */
  schemaById(id: number): Promise<RegistryResult<string>>;
  /** The URL without credentials, for logs and the id cache. */
  readonly displayUrl: string;
  close(): void;
}

/** Largest answer read: a registry answer is a few hundred bytes; anything bigger is cut off. */
const MAX_RESPONSE_BYTES = 1024 * 1024;
const CONTENT_TYPE = 'application/vnd.schemaregistry.v1+json';

interface HttpAnswer {
  status: number;
  body: unknown;
}

export function createRegistryClient(o: RegistryClientOptions): RegistryClient {
  const base = new URL(o.url);
  const secure = base.protocol === 'https:';
  const agent = secure ? new https.Agent({ keepAlive: true, maxSockets: 2, ...(o.tls ?? {}) }) : new http.Agent({ keepAlive: true, maxSockets: 2 });
  const prefix = base.pathname.replace(/\/+$/, '');
  const displayUrl = `${base.protocol}//${base.host}${prefix}`;
  const authHeader = o.auth === undefined ? undefined : o.auth.type === 'basic' ? `Basic ${Buffer.from(`${o.auth.username}:${o.auth.password}`).toString('base64')}` : `Bearer ${o.auth.token}`;

  function call(method: 'GET' | 'POST', path: string, body?: unknown): Promise<RegistryResult<HttpAnswer>> {
    const payload = body === undefined ? undefined : Buffer.from(JSON.stringify(body));
    const headers: Record<string, string | number> = { Accept: `${CONTENT_TYPE}, application/json` };
    if (payload !== undefined) {
      headers['Content-Type'] = CONTENT_TYPE;
      headers['Content-Length'] = payload.length;
    }
    if (authHeader !== undefined) headers['Authorization'] = authHeader;
    const request = secure ? https.request : http.request;
    return new Promise((resolve) => {
      let settled = false;
      // A total deadline: the socket timeout below is an idle timeout only, which a registry (or
      // proxy) trickling its answer a byte at a time never reaches; that would hang the resolver's
      // pass and a push's dry run (the control room serialises pushes) forever.
      const deadline = setTimeout(() => {
        const err = new Error(`no complete answer within ${o.requestTimeoutMs} ms`);
        done({ ok: false, error: gatewayError('GW_ERR_REGISTRY_UNREACHABLE', `${method} ${displayUrl}${path}: ${err.message}`, { cause: err }) });
        req.destroy(err);
      }, o.requestTimeoutMs);
      const done = (r: RegistryResult<HttpAnswer>) => {
        if (settled) return;
        settled = true;
        clearTimeout(deadline);
        resolve(r);
      };
      const req = request(
        { protocol: base.protocol, hostname: base.hostname, port: base.port, path: `${prefix}${path}`, method, headers, agent, timeout: o.requestTimeoutMs },
        (res) => {
          const chunks: Buffer[] = [];
          let size = 0;
          res.on('data', (c: Buffer) => {
            size += c.length;
            if (size > MAX_RESPONSE_BYTES) {
              res.destroy();
              done({ ok: false, error: gatewayError('GW_ERR_REGISTRY_REFUSED', `${method} ${displayUrl}${path}: answer larger than ${MAX_RESPONSE_BYTES} bytes`) });
              return;
            }
            chunks.push(c);
          });
          res.on('error', (err) => done({ ok: false, error: gatewayError('GW_ERR_REGISTRY_UNREACHABLE', `${method} ${displayUrl}${path}: ${err.message}`, { cause: err }) }));
          res.on('end', () => {
            const text = Buffer.concat(chunks).toString('utf8');
            let parsed: unknown = text;
            try {
              parsed = text.length > 0 ? JSON.parse(text) : null;
            } catch {
              // Not JSON (a proxy's HTML error page): kept as text for the reason.
            }
            done({ ok: true, value: { status: res.statusCode ?? 0, body: parsed } });
          });
        },
      );
      req.on('timeout', () => req.destroy(new Error(`no answer within ${o.requestTimeoutMs} ms`)));
      req.on('error', (err) => done({ ok: false, error: gatewayError('GW_ERR_REGISTRY_UNREACHABLE', `${method} ${displayUrl}${path}: ${err.message}`, { cause: err }) }));
      req.end(payload);
    });
  }

  const subjectPath = (subject: string) => `/subjects/${encodeURIComponent(subject)}`;

  return {
    displayUrl,
    async register(subject, schema) {
      const r = await call('POST', `${subjectPath(subject)}/versions`, { schema, schemaType: 'AVRO' });
      if (!r.ok) return r;
      const { status, body } = r.value;
      if (status === 200 && typeof idOf(body) === 'number') return { ok: true, value: idOf(body)! };
      return failure(r.value, `register under subject "${subject}"`, displayUrl);
    },
    async lookup(subject, schema) {
      const r = await call('POST', subjectPath(subject), { schema, schemaType: 'AVRO' });
      if (!r.ok) return r;
      const { status, body } = r.value;
      if (status === 200 && typeof idOf(body) === 'number') return { ok: true, value: idOf(body)! };
      if (status === 404) {
        return { ok: false, status, error: gatewayError('GW_ERR_REGISTRY_NOT_REGISTERED', `subject "${subject}" at ${displayUrl} has no such schema (${messageOf(body)}); register it, or set kafka.schemaRegistry.autoRegister: true`) };
      }
      return failure(r.value, `look up under subject "${subject}"`, displayUrl);
    },
    async compatibility(subject, schema) {
      const r = await call('POST', `/compatibility${subjectPath(subject)}/versions/latest?verbose=true`, { schema, schemaType: 'AVRO' });
      if (!r.ok) return r;
      const { status, body } = r.value;
      // No subject (40401) or no version yet (40402): the first schema of a subject is always accepted.
      if (status === 404) return { ok: true, value: { compatible: true, messages: [] } };
      const b = body as { is_compatible?: unknown; messages?: unknown; reason?: unknown } | null;
      if (status === 200 && typeof b?.is_compatible === 'boolean') {
        // Confluent: `messages` (verbose=true); Apicurio's ccompat API: `reason`.
        const messages = Array.isArray(b.messages) ? b.messages.map((m) => clip(String(m))).slice(0, 10) : typeof b.reason === 'string' ? [clip(b.reason)] : [];
        return { ok: true, value: { compatible: b.is_compatible, messages } };
      }
      return failure(r.value, `check compatibility with subject "${subject}"`, displayUrl);
    },
    async schemaById(id) {
      const r = await call('GET', `/schemas/ids/${id}`);
      if (!r.ok) return r;
      const schema = (r.value.body as { schema?: unknown } | null)?.schema;
      if (r.value.status === 200 && typeof schema === 'string') return { ok: true, value: schema };
      return failure(r.value, `read schema id ${id}`, displayUrl);
    },
    close() {
      agent.destroy();
    },
  };
}

function idOf(body: unknown): number | undefined {
  const id = (body as { id?: unknown } | null)?.id;
  return typeof id === 'number' && Number.isInteger(id) && id >= 0 && id <= 0x7fffffff ? id : undefined;
}

function messageOf(body: unknown): string {
  const b = body as { message?: unknown; error_code?: unknown } | null;
  if (b !== null && typeof b === 'object' && typeof b.message === 'string') return clip(`${b.error_code ?? ''} ${b.message}`.trim());
  return clip(typeof body === 'string' ? body : JSON.stringify(body));
}

function failure<T>(a: HttpAnswer, what: string, url: string): RegistryResult<T> {
  const reason = `${what} at ${url}: HTTP ${a.status} ${messageOf(a.body)}`;
  if (a.status === 401 || a.status === 403) return { ok: false, status: a.status, error: gatewayError('GW_ERR_REGISTRY_AUTH', reason) };
  if (a.status === 409) return { ok: false, status: a.status, error: gatewayError('GW_ERR_REGISTRY_INCOMPATIBLE', reason) };
  // 5xx, 408, 429 and anything unexpected from a proxy: try again later.
  if (a.status >= 500 || a.status === 408 || a.status === 429 || a.status < 200) return { ok: false, status: a.status, error: gatewayError('GW_ERR_REGISTRY_UNREACHABLE', reason) };
  return { ok: false, status: a.status, error: gatewayError('GW_ERR_REGISTRY_REFUSED', reason) };
}

function clip(s: string): string {
  return s.length > 300 ? `${s.slice(0, 297)}...` : s;
}
