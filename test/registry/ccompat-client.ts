// A minimal client of the Confluent-compatible Schema Registry API (Apicurio's /apis/ccompat/v7)
// for tests: plain HTTP or HTTPS with a test CA, optional client certificate, Basic or Bearer auth.
// Independent of the product's registry client on purpose (node:http, no shared code).
import { readFileSync } from 'node:fs';
import { request as httpRequest, type IncomingMessage, type RequestOptions } from 'node:http';
import { request as httpsRequest } from 'node:https';

export const CCOMPAT_PATH = '/apis/ccompat/v7';
const CONTENT_TYPE = 'application/vnd.schemaregistry.v1+json';

export const COMPATIBILITY_LEVELS = ['NONE', 'BACKWARD', 'BACKWARD_TRANSITIVE', 'FORWARD', 'FORWARD_TRANSITIVE', 'FULL', 'FULL_TRANSITIVE'] as const;
export type CompatibilityLevel = (typeof COMPATIBILITY_LEVELS)[number];

export interface RegistryEndpoint {
  /** Base URL of the Confluent-compatible API, e.g. `http://127.0.0.1:PORT/apis/ccompat/v7`. */
  url: string;
  basicAuth?: { username: string; password: string };
  bearerToken?: string;
  /** PEM files: the CA that signed the server certificate; a client certificate and key (mTLS). */
  caFile?: string;
  certFile?: string;
  keyFile?: string;
  timeoutMs?: number; // per request, default 10 s
}

export interface CcompatResponse {
  status: number;
  /** The parsed JSON body, or undefined when the body is not JSON (see `text`). */
  body: unknown;
  text: string;
}

/** A non-2xx answer: `status` and the registry's body (`{"error_code":..,"message":..}`). */
export class CcompatError extends Error {
  constructor(
    readonly status: number,
    readonly body: unknown,
    readonly text: string,
    what: string,
  ) {
    super(`schema registry: ${what} -> HTTP ${status}: ${text}`);
    this.name = 'CcompatError';
  }
}

/** One request; resolves with any HTTP status, rejects only on a transport error or the timeout. */
export function ccompatRequest(ep: RegistryEndpoint, method: string, path: string, body?: unknown): Promise<CcompatResponse> {
  const url = new URL(ep.url.replace(/\/+$/, '') + path);
  const payload = body === undefined ? undefined : typeof body === 'string' ? body : JSON.stringify(body);
  const headers: Record<string, string> = { accept: `${CONTENT_TYPE}, application/json` };
  if (payload !== undefined) headers['content-type'] = CONTENT_TYPE;
  if (ep.basicAuth !== undefined) headers['authorization'] = `Basic ${Buffer.from(`${ep.basicAuth.username}:${ep.basicAuth.password}`).toString('base64')}`;
  if (ep.bearerToken !== undefined) headers['authorization'] = `Bearer ${ep.bearerToken}`;
  const options: RequestOptions & { ca?: Buffer; cert?: Buffer; key?: Buffer } = { method, headers, timeout: ep.timeoutMs ?? 10_000 };
  if (ep.caFile !== undefined) options.ca = readFileSync(ep.caFile);
  if (ep.certFile !== undefined) options.cert = readFileSync(ep.certFile);
  if (ep.keyFile !== undefined) options.key = readFileSync(ep.keyFile);
  const send = url.protocol === 'https:' ? httpsRequest : httpRequest;
  return new Promise((resolve, reject) => {
    const req = send(url, options, (res: IncomingMessage) => {
      const chunks: Buffer[] = [];
      res.on('data', (c: Buffer) => chunks.push(c));
      res.on('error', reject);
      res.on('end', () => {
        const text = Buffer.concat(chunks).toString('utf8');
        let parsed: unknown;
        try {
          parsed = JSON.parse(text);
        } catch {
          parsed = undefined;
        }
        resolve({ status: res.statusCode ?? 0, body: parsed, text });
      });
    });
    req.on('timeout', () => req.destroy(new Error(`schema registry: ${method} ${url.href} timed out`)));
    req.on('error', reject);
    req.end(payload);
  });
}

async function ok(ep: RegistryEndpoint, method: string, path: string, body?: unknown): Promise<unknown> {
  const res = await ccompatRequest(ep, method, path, body);
  if (res.status < 200 || res.status > 299) throw new CcompatError(res.status, res.body, res.text, `${method} ${path}`);
  return res.body;
}

const subjectPath = (subject: string): string => `/subjects/${encodeURIComponent(subject)}`;
const schemaText = (schema: string | object): string => (typeof schema === 'string' ? schema : JSON.stringify(schema));

/** POST /subjects/{subject}/versions: the schema's id (the same id for the same text, in any subject). */
export async function registerSchema(ep: RegistryEndpoint, subject: string, schema: string | object): Promise<number> {
  const body = (await ok(ep, 'POST', `${subjectPath(subject)}/versions`, { schema: schemaText(schema) })) as { id: number };
  return body.id;
}

export interface SubjectVersion {
  id: number;
  subject: string;
  version: number;
  schema: string;
}

/** GET /subjects/{subject}/versions/latest. */
export async function latestVersion(ep: RegistryEndpoint, subject: string): Promise<SubjectVersion> {
  return (await ok(ep, 'GET', `${subjectPath(subject)}/versions/latest`)) as SubjectVersion;
}

/** GET /schemas/ids/{id}: the schema text exactly as it was registered. */
export async function schemaById(ep: RegistryEndpoint, id: number): Promise<string> {
  return ((await ok(ep, 'GET', `/schemas/ids/${id}`)) as { schema: string }).schema;
}

/** PUT /config (global) or PUT /config/{subject}. Apicurio's global default is NONE. */
export async function setCompatibility(ep: RegistryEndpoint, level: CompatibilityLevel, subject?: string): Promise<void> {
  const path = subject === undefined ? '/config' : `/config/${encodeURIComponent(subject)}`;
  await ok(ep, 'PUT', path, { compatibility: level });
}
