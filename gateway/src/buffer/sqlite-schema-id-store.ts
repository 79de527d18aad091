/**
 * SQLite store of resolved Schema Registry ids (table `registry_schema_ids`, migration v4), in
 * the buffer's database: one file to back up, and ids survive a boot without the registry. The
 * table keeps the newest MAX_ROWS entries; one entry per (registry, subject, schema) ever used.
 */
import type { Database as Db, Statement } from 'better-sqlite3';
import type { SchemaIdStore, StoredSchemaId } from '../encode/schema-id-store.js';

const MAX_ROWS = 1000;

interface Row {
  subject: string;
  schema_hash: string;
  schema_id: number;
}

export function createSqliteSchemaIdStore(db: Db): SchemaIdStore {
  const select: Statement<[string], Row> = db.prepare('SELECT subject, schema_hash, schema_id FROM registry_schema_ids WHERE registry = ? ORDER BY updated_at DESC LIMIT 1000');
  const upsert: Statement<[string, string, string, number, number]> = db.prepare(
    `INSERT INTO registry_schema_ids (registry, subject, schema_hash, schema_id, updated_at) VALUES (?, ?, ?, ?, ?)
     ON CONFLICT (registry, subject, schema_hash) DO UPDATE SET schema_id = excluded.schema_id, updated_at = excluded.updated_at`,
  );
  const prune: Statement<[number]> = db.prepare('DELETE FROM registry_schema_ids WHERE rowid NOT IN (SELECT rowid FROM registry_schema_ids ORDER BY updated_at DESC LIMIT ?)');
  return {
    load(registry: string): StoredSchemaId[] {
      return select.all(registry).map((r) => ({ subject: r.subject, schemaHash: r.schema_hash, id: r.schema_id }));
    },
    save(registry: string, e: StoredSchemaId): void {
      upsert.run(registry, e.subject, e.schemaHash, e.id, Date.now());
      prune.run(MAX_ROWS);
    },
  };
}
