/**
 * Schema migrations keyed by SQLite's `user_version`. Append only: never edit a shipped step.
 */
import type { Database } from 'better-sqlite3';
import { gatewayError } from '../errors.js';

const MIGRATIONS: readonly string[] = [
  // v1: buffered records, dead letters, and the drop log: deliberate drops (overflow, expiry) with
  // the payload's first bytes, so the auditor can tell them from loss by the device's own seq.
  `CREATE TABLE records (
     seq         INTEGER PRIMARY KEY AUTOINCREMENT,
     device_id   TEXT    NOT NULL,
     topic       TEXT    NOT NULL,
     qos         INTEGER NOT NULL,
     received_at INTEGER NOT NULL,
     payload     BLOB    NOT NULL
   );
   CREATE TABLE dead_letters (
     id          INTEGER PRIMARY KEY AUTOINCREMENT,
     seq         INTEGER NOT NULL,
     device_id   TEXT    NOT NULL,
     topic       TEXT    NOT NULL,
     received_at INTEGER NOT NULL,
     code        TEXT    NOT NULL,
     reason      TEXT    NOT NULL,
     payload     BLOB    NOT NULL,
     dead_at     INTEGER NOT NULL
   );
   CREATE TABLE drop_log (
     id           INTEGER PRIMARY KEY AUTOINCREMENT,
     seq          INTEGER NOT NULL,
     device_id    TEXT    NOT NULL,
     reason       TEXT    NOT NULL,
     received_at  INTEGER NOT NULL,
     payload_head BLOB    NOT NULL,
     dropped_at   INTEGER NOT NULL
   );`,
  // v2: per-device MQTT credentials (username = device id; password stored only as a scrypt hash,
  // "scrypt$<logN>$<r>$<p>$<salt b64>$<key b64>"), and the crash guard: the range of buffer rows in
  // flight when the process died of an uncaught exception, with how many consecutive crashes saw
  // it, so a row that crashes the gateway is dead-lettered instead of crash-looping it.
  `CREATE TABLE device_credentials (
     device_id   TEXT    PRIMARY KEY,
     secret_hash TEXT    NOT NULL,
     created_at  INTEGER NOT NULL,
     rotated_at  INTEGER
   );
   CREATE TABLE crash_guard (
     id          INTEGER PRIMARY KEY CHECK (id = 1),
     first_seq   INTEGER NOT NULL,
     last_seq    INTEGER NOT NULL,
     crashes     INTEGER NOT NULL,
     last_code   TEXT    NOT NULL,
     updated_at  INTEGER NOT NULL
   );`,
  // v3: the control room. Every signed configuration document this gateway verified (rejected
  // ones too, so a version is never retried), its outcome, and which one is last-good; and per
  // device, the desired configuration (from Kafka) with the versions delivered and acknowledged.
  // device_config: desired_config NULL = cleared by a tombstone (desired_version keeps the last
  // version, so versions only rise); source_partition/offset = the record that set it (a replayed
  // tombstone is recognised by its offset); revision counts changes, status_revision is the last
  // one written to the status topic (revision > status_revision: status still to send).
  `CREATE TABLE config_documents (
     version     INTEGER PRIMARY KEY,
     hash        TEXT    NOT NULL,
     kid         TEXT    NOT NULL,
     document    TEXT    NOT NULL,
     state       TEXT    NOT NULL,
     code        TEXT,
     reason      TEXT,
     received_at INTEGER NOT NULL,
     updated_at  INTEGER NOT NULL
   );
   CREATE TABLE device_config (
     device_id         TEXT    PRIMARY KEY,
     desired_version   INTEGER NOT NULL,
     desired_config    TEXT,
     delivered_version INTEGER,
     acked_version     INTEGER,
     ack_state         TEXT,
     ack_reason        TEXT,
     source_partition  INTEGER NOT NULL,
     source_offset     INTEGER NOT NULL,
     revision          INTEGER NOT NULL DEFAULT 1,
     status_revision   INTEGER NOT NULL DEFAULT 0,
     updated_at        INTEGER NOT NULL
   );
   CREATE TABLE devices_seen (
     device_id     TEXT    PRIMARY KEY,
     first_seen_at INTEGER NOT NULL,
     last_seen_at  INTEGER NOT NULL
   );
   CREATE INDEX devices_seen_by_last_seen ON devices_seen (last_seen_at);`,
  // v4: Schema Registry ids resolved for the configured schemas (kafka.valueFormat: registry),
  // so a gateway that boots without its registry still forwards once Kafka is reachable.
  // registry = the registry URL without credentials; schema_hash = sha256 of the schema text.
  `CREATE TABLE registry_schema_ids (
     registry    TEXT    NOT NULL,
     subject     TEXT    NOT NULL,
     schema_hash TEXT    NOT NULL,
     schema_id   INTEGER NOT NULL,
     updated_at  INTEGER NOT NULL,
     PRIMARY KEY (registry, subject, schema_hash)
   );`,
];

export const SCHEMA_VERSION = MIGRATIONS.length;

export function migrate(db: Database): number {
  const current = db.pragma('user_version', { simple: true }) as number;
  if (current > SCHEMA_VERSION) {
    throw gatewayError('GW_ERR_BUFFER_MIGRATE', `database is at schema v${current}, this gateway knows up to v${SCHEMA_VERSION} (downgrade?)`);
  }
  for (let v = current; v < SCHEMA_VERSION; v++) {
    try {
      db.transaction(() => {
        db.exec(MIGRATIONS[v]!);
        db.pragma(`user_version = ${v + 1}`);
      })();
    } catch (cause) {
      throw gatewayError('GW_ERR_BUFFER_MIGRATE', `step v${v} -> v${v + 1}: ${(cause as Error).message}`, { cause });
    }
  }
  return current;
}
