/**
 * Resolves the registry id of every schema the encoder may write, off the hot path. Ids cached
 * in the buffer database are usable at once (a box that boots without its registry forwards as
 * soon as Kafka answers) and are confirmed in the background; missing ones are registered (or
 * looked up, autoRegister: false) with capped backoff until the registry answers. Nothing here
 * throws into the pipeline: the pump asks `problem()` and waits while a schema has no id.
 */
import { createHash } from 'node:crypto';
import type { GatewayError } from '../errors.js';
import { createBackoff, type Backoff } from '../lib/backoff.js';
import type { Logger } from '../lib/logger.js';
import type { RegistryClient } from './registry-client.js';
import type { SchemaRef } from './registry-subject.js';
import type { SchemaIdStore } from './schema-id-store.js';

/** What the encoder reads: an id when known, else why not. */
export interface SchemaIdSource {
  idOf(ref: SchemaRef): number | null;
  /** Why `ref` has no id yet (null when it has one). */
  problem(ref: SchemaRef): { code: string; reason: string } | null;
  /** Bumped whenever a known id changes (a cached id the registry contradicts): headers built from the old one are stale. */
  generation?(): number;
}

interface Entry {
  ref: SchemaRef;
  hash: string;
  id: number | null;
  /** The registry confirmed `id` in this process (a cached id is used before that). */
  confirmed: boolean;
  error: GatewayError | null;
}

export interface SchemaIdResolverOptions {
  client: RegistryClient;
  store: SchemaIdStore;
  autoRegister: boolean;
  retryMaxMs: number;
  logger: Logger;
  /** An id became known: wake whoever waits for it. */
  onResolved?: () => void;
}

export interface SchemaIdResolver extends SchemaIdSource {
  /** The schemas in use from now on (replaces the previous set; cached ids apply at once). */
  want(refs: readonly SchemaRef[]): void;
  /** Schemas still without an id, with the registry's last answer. */
  pending(): Array<{ subject: string; code: string; reason: string }>;
  close(): void;
}

export function schemaHash(schema: string): string {
  return createHash('sha256').update(schema).digest('hex');
}

const keyOf = (ref: SchemaRef) => `${ref.subject}\u0000${ref.schema}`;

export function createSchemaIdResolver(o: SchemaIdResolverOptions): SchemaIdResolver {
  const log = o.logger;
  const registry = o.client.displayUrl;
  let entries = new Map<string, Entry>();
  let cached = loadCache();
  const backoff: Backoff = createBackoff({ initialMs: 500, maxMs: o.retryMaxMs });
  let timer: NodeJS.Timeout | null = null;
  let running = false;
  let closed = false;
  let generation = 0;

  function loadCache(): Map<string, number> {
    const m = new Map<string, number>();
    try {
      for (const e of o.store.load(registry)) m.set(`${e.subject}\u0000${e.schemaHash}`, e.id);
    } catch (err) {
      log.error({ event: 'registry_cache_read_failed', registry, err }, 'cannot read cached schema ids; resolving them from the registry');
    }
    return m;
  }

  function schedule(delayMs: number): void {
    if (closed || timer !== null || running) return;
    timer = setTimeout(() => {
      timer = null;
      void resolveAll();
    }, delayMs);
    timer.unref();
  }

  async function resolveAll(): Promise<void> {
    running = true;
    let failed = false;
    try {
      for (const e of [...entries.values()]) {
        if (closed) return;
        if (e.confirmed) continue;
        const r = o.autoRegister ? await o.client.register(e.ref.subject, e.ref.schema) : await o.client.lookup(e.ref.subject, e.ref.schema);
        if (closed || entries.get(keyOf(e.ref)) !== e) continue; // replaced meanwhile
        if (r.ok) settle(e, r.value);
        else {
          failed = true;
          fail(e, r.error);
        }
      }
    } finally {
      running = false;
    }
    if (failed) schedule(backoff.next());
    else backoff.reset();
    // A want() during the pass may have added entries the pass did not see.
    if ([...entries.values()].some((e) => !e.confirmed && e.error === null)) schedule(0);
  }

  function settle(e: Entry, id: number): void {
    const before = e.id;
    e.id = id;
    e.confirmed = true;
    e.error = null;
    if (before !== null && before !== id) {
      generation++;
      log.warn({ event: 'registry_id_changed', registry, subject: e.ref.subject, cachedId: before, id }, `schema id for subject "${e.ref.subject}" changed from ${before} to ${id} (registry reset?); using ${id}`);
    } else if (before === null) {
      log.info({ event: 'registry_schema_resolved', registry, subject: e.ref.subject, id }, `schema registered under "${e.ref.subject}" with id ${id}`);
    }
    try {
      o.store.save(registry, { subject: e.ref.subject, schemaHash: e.hash, id });
      cached.set(`${e.ref.subject}\u0000${e.hash}`, id);
    } catch (err) {
      log.error({ event: 'registry_cache_write_failed', registry, subject: e.ref.subject, err }, 'cannot cache the schema id; it is resolved again at the next start');
    }
    if (before !== id) o.onResolved?.();
  }

  function fail(e: Entry, err: GatewayError): void {
    const changed = e.error?.code !== err.code;
    e.error = err;
    if (!changed) return;
    const fields = { event: 'registry_schema_unresolved', registry, subject: e.ref.subject, code: err.code, reason: err.message, cachedId: e.id };
    // With a cached id records still flow; without one they wait in the buffer.
    if (e.id !== null) log.warn(fields, `cannot confirm the cached schema id for "${e.ref.subject}"; still using id ${e.id}`);
    else log.error(fields, `no schema id for subject "${e.ref.subject}": its records wait in the buffer until the registry accepts it`);
  }

  return {
    want(refs) {
      const next = new Map<string, Entry>();
      for (const ref of refs) {
        const k = keyOf(ref);
        const had = entries.get(k) ?? next.get(k);
        if (had !== undefined) {
          next.set(k, had);
          continue;
        }
        const hash = schemaHash(ref.schema);
        next.set(k, { ref, hash, id: cached.get(`${ref.subject}\u0000${hash}`) ?? null, confirmed: false, error: null });
      }
      entries = next;
      if (closed) return;
      if (timer !== null) {
        clearTimeout(timer);
        timer = null;
      }
      backoff.reset();
      schedule(0);
    },
    idOf(ref) {
      return entries.get(keyOf(ref))?.id ?? null;
    },
    generation() {
      return generation;
    },
    problem(ref) {
      const e = entries.get(keyOf(ref));
      if (e === undefined) return { code: 'GW_ERR_REGISTRY_UNREACHABLE', reason: `schema for subject "${ref.subject}" is not being resolved` };
      if (e.id !== null) return null;
      if (e.error !== null) return { code: e.error.code, reason: e.error.message };
      return { code: 'GW_ERR_REGISTRY_UNREACHABLE', reason: `waiting for ${registry} to answer for subject "${ref.subject}"` };
    },
    pending() {
      const out: Array<{ subject: string; code: string; reason: string }> = [];
      for (const e of entries.values()) {
        if (e.id !== null) continue;
        const p = this.problem(e.ref)!;
        out.push({ subject: e.ref.subject, ...p });
      }
      return out;
    },
    close() {
      closed = true;
      if (timer !== null) clearTimeout(timer);
      timer = null;
      o.client.close();
      cached = new Map();
    },
  };
}
