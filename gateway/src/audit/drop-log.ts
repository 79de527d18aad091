/** Reads the gateway's drop log (deliberate drops) from its SQLite buffer file, read-only. */
import Database from 'better-sqlite3';
import type { DropLogEntry } from './kafka-audit.js';

export function readDropLog(dbPath: string): DropLogEntry[] {
  const db = new Database(dbPath, { readonly: true, fileMustExist: true });
  try {
    const rows = db.prepare('SELECT device_id, reason, payload_head FROM drop_log ORDER BY id').all() as Array<{ device_id: string; reason: string; payload_head: Buffer }>;
    return rows.map((r) => ({ deviceId: r.device_id, reason: r.reason, payloadHead: r.payload_head }));
  } finally {
    db.close();
  }
}
