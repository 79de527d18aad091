/**
 * Every signed configuration document this gateway verified, with its outcome, in the buffer's
 * database (one file to back up). Last-good = the applied document with the highest version; it
 * is what the gateway runs at boot, before Kafka is reachable.
 *   pending      applied, inside its health window
 *   applied      passed its health window (or applied at boot as last-good)
 *   rejected     verified but refused (schema, not appliable); never retried
 *   rolled_back  failed its health window, or the gateway restarted inside it
 */
import type { Database } from 'better-sqlite3';
import { gatewayError } from '../errors.js';

export type DocumentState = 'pending' | 'applied' | 'rejected' | 'rolled_back';

export interface StoredDocument {
  version: number;
  hash: string;
  kid: string;
  /** The compact JWS as received. */
  document: string;
  state: DocumentState;
  code: string | null;
  reason: string | null;
  receivedAt: number;
  updatedAt: number;
}

export interface ConfigStore {
  /** Highest version ever verified (any state); 0 when none. Versions only rise. */
  highestVersion(): number;
  lastGood(): StoredDocument | null;
  /** The document updated most recently (the last push handled), if any. */
  lastHandled(): StoredDocument | null;
  find(version: number): StoredDocument | null;
  insert(doc: { version: number; hash: string; kid: string; document: string }, state: DocumentState, code?: string, reason?: string): void;
  setState(version: number, state: DocumentState, code?: string, reason?: string): void;
  /** Boot: a document left pending by a restart inside its health window is rolled back. */
  rollBackPending(reason: string): StoredDocument[];
}

interface Row {
  version: number;
  hash: string;
  kid: string;
  document: string;
  state: DocumentState;
  code: string | null;
  reason: string | null;
  received_at: number;
  updated_at: number;
}

const toDoc = (r: Row | undefined): StoredDocument | null =>
  r === undefined ? null : { version: r.version, hash: r.hash, kid: r.kid, document: r.document, state: r.state, code: r.code, reason: r.reason, receivedAt: r.received_at, updatedAt: r.updated_at };

export function createConfigStore(db: Database): ConfigStore {
  const q = {
    highest: db.prepare('SELECT COALESCE(MAX(version), 0) AS v FROM config_documents').pluck(),
    lastGood: db.prepare("SELECT * FROM config_documents WHERE state = 'applied' ORDER BY version DESC LIMIT 1"),
    lastHandled: db.prepare('SELECT * FROM config_documents ORDER BY updated_at DESC, version DESC LIMIT 1'),
    find: db.prepare('SELECT * FROM config_documents WHERE version = ?'),
    insert: db.prepare(
      'INSERT INTO config_documents (version, hash, kid, document, state, code, reason, received_at, updated_at) VALUES (@version, @hash, @kid, @document, @state, @code, @reason, @now, @now)',
    ),
    setState: db.prepare('UPDATE config_documents SET state = @state, code = @code, reason = @reason, updated_at = @now WHERE version = @version'),
    pending: db.prepare("SELECT * FROM config_documents WHERE state = 'pending'"),
  };
  const write = <T>(what: string, fn: () => T): T => {
    try {
      return fn();
    } catch (cause) {
      throw gatewayError('GW_ERR_CONTROL_STORE', `${what}: ${(cause as Error).message}`, { cause });
    }
  };
  const store: ConfigStore = {
    highestVersion: () => q.highest.get() as number,
    lastGood: () => toDoc(q.lastGood.get() as Row | undefined),
    lastHandled: () => toDoc(q.lastHandled.get() as Row | undefined),
    find: (version) => toDoc(q.find.get(version) as Row | undefined),
    insert(doc, state, code, reason) {
      write('insert', () => q.insert.run({ ...doc, state, code: code ?? null, reason: reason ?? null, now: Date.now() }));
    },
    setState(version, state, code, reason) {
      write('update', () => q.setState.run({ version, state, code: code ?? null, reason: reason ?? null, now: Date.now() }));
    },
    rollBackPending(reason) {
      const rows = (q.pending.all() as Row[]).map((r) => toDoc(r)!);
      for (const r of rows) store.setState(r.version, 'rolled_back', 'GW_ERR_CONTROL_UNHEALTHY', reason);
      return rows;
    },
  };
  return store;
}
