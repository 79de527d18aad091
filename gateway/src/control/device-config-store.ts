/**
 * Per-device configuration state in the buffer's SQLite file (migration v3), on its own
 * connection: the desired config read from Kafka, the version delivered (published retained) and
 * the device's answer, plus the devices seen on this gateway. Every change bumps `revision`; the
 * status topic is behind while `revision > status_revision`, which survives restarts.
 *
 * Rules (all enforced here, in SQL order):
 * - own devices only: provisioned here (device_credentials) or seen here (devices_seen);
 * - desired versions only rise: a record whose version is not above the stored one is a replay
 *   (every start re-reads the topic from the beginning), even after a tombstone;
 * - a tombstone clears the config unless it is a replay (same partition, offset not above the
 *   record that set the current state);
 * - an ack is recorded for a version up to the desired one and not below the last ack; an ack of
 *   an older version is kept but does not answer for the current one (see configState).
 * devices_seen is bounded: past `maxSeenDevices` rows, the longest unseen devices that are neither
 * provisioned nor hold a config row are forgotten.
 */
import type { Database, Statement } from 'better-sqlite3';
import type { AckState, ConfigAck, DesiredConfig } from './device-config-record.js';

export interface DeviceConfigRow {
  deviceId: string;
  desiredVersion: number;
  /** null: cleared by a tombstone. */
  desiredConfig: string | null;
  deliveredVersion: number | null;
  ackedVersion: number | null;
  ackState: AckState | null;
  ackReason: string | null;
  revision: number;
  statusRevision: number;
  updatedAt: number;
}

export interface RecordSource {
  partition: number;
  offset: bigint;
}

/** stored / cleared change the row; the others leave it as it was. */
export type DesiredOutcome = 'stored' | 'cleared' | 'replay' | 'unchanged';
/** recorded changes the row; no_config: no desired config; ahead: above the desired version; stale: below the last ack. */
export type AckOutcome = 'recorded' | 'unchanged' | 'no_config' | 'ahead' | 'stale';

export interface DeviceConfigStoreOptions {
  /** Rows kept in devices_seen (default 100,000). */
  maxSeenDevices?: number;
  now?: () => number;
}

interface RawRow {
  device_id: string;
  desired_version: number;
  desired_config: string | null;
  delivered_version: number | null;
  acked_version: number | null;
  ack_state: AckState | null;
  ack_reason: string | null;
  source_partition: number;
  source_offset: number | bigint;
  revision: number;
  status_revision: number;
  updated_at: number;
}

const COLUMNS = 'device_id, desired_version, desired_config, delivered_version, acked_version, ack_state, ack_reason, source_partition, source_offset, revision, status_revision, updated_at';

function toRow(r: RawRow): DeviceConfigRow {
  return {
    deviceId: r.device_id,
    desiredVersion: r.desired_version,
    desiredConfig: r.desired_config,
    deliveredVersion: r.delivered_version,
    ackedVersion: r.acked_version,
    ackState: r.ack_state,
    ackReason: r.ack_reason,
    revision: r.revision,
    statusRevision: r.status_revision,
    updatedAt: r.updated_at,
  };
}

export class DeviceConfigStore {
  private readonly now: () => number;
  private readonly maxSeen: number;
  private readonly selectRow: Statement<[string], RawRow>;
  private readonly selectOwn: Statement<[string, string], { one: number }>;
  private readonly insertDesired: Statement;
  private readonly updateDesired: Statement;
  private readonly clearDesired: Statement;
  private readonly setDelivered: Statement;
  private readonly setAck: Statement;
  private readonly setStatusSent: Statement<[number, string, number]>;
  private readonly selectWithConfig: Statement<[], { device_id: string }>;
  private readonly selectUndelivered: Statement<[], { device_id: string }>;
  private readonly selectStatusDirty: Statement<[], { device_id: string }>;
  private readonly insertSeen: Statement<[string, number, number]>;
  private readonly touchSeen: Statement<[number, string]>;
  private readonly countSeen: Statement<[], { n: number }>;
  private readonly pruneSeen: Statement<[number]>;
  private readonly recordSeenTx: (ids: readonly string[]) => string[];
  private seenRows: number;

  constructor(
    private readonly db: Database,
    opts: DeviceConfigStoreOptions = {},
  ) {
    this.now = opts.now ?? Date.now;
    this.maxSeen = opts.maxSeenDevices ?? 100_000;
    this.selectRow = db.prepare(`SELECT ${COLUMNS} FROM device_config WHERE device_id = ?`);
    this.selectOwn = db.prepare(
      'SELECT 1 AS one FROM device_credentials WHERE device_id = ? UNION ALL SELECT 1 AS one FROM devices_seen WHERE device_id = ? LIMIT 1',
    );
    this.insertDesired = db.prepare(
      'INSERT INTO device_config (device_id, desired_version, desired_config, source_partition, source_offset, revision, status_revision, updated_at) VALUES (?, ?, ?, ?, ?, 1, 0, ?)',
    );
    this.updateDesired = db.prepare(
      'UPDATE device_config SET desired_version = ?, desired_config = ?, source_partition = ?, source_offset = ?, revision = revision + 1, updated_at = ? WHERE device_id = ?',
    );
    this.clearDesired = db.prepare(
      'UPDATE device_config SET desired_config = NULL, source_partition = ?, source_offset = ?, revision = revision + 1, updated_at = ? WHERE device_id = ?',
    );
    // Only for the version still desired: a newer desired config that arrived meanwhile stays undelivered.
    this.setDelivered = db.prepare(
      'UPDATE device_config SET delivered_version = ?, revision = revision + 1, updated_at = ? WHERE device_id = ? AND desired_version IS ? AND delivered_version IS NOT ?',
    );
    this.setAck = db.prepare('UPDATE device_config SET acked_version = ?, ack_state = ?, ack_reason = ?, revision = revision + 1, updated_at = ? WHERE device_id = ?');
    this.setStatusSent = db.prepare('UPDATE device_config SET status_revision = ? WHERE device_id = ? AND status_revision < ?');
    this.selectWithConfig = db.prepare('SELECT device_id FROM device_config WHERE desired_config IS NOT NULL ORDER BY device_id');
    this.selectUndelivered = db.prepare(
      'SELECT device_id FROM device_config WHERE (desired_config IS NOT NULL AND delivered_version IS NOT desired_version) OR (desired_config IS NULL AND delivered_version IS NOT NULL) ORDER BY device_id',
    );
    this.selectStatusDirty = db.prepare('SELECT device_id FROM device_config WHERE revision > status_revision ORDER BY device_id');
    this.insertSeen = db.prepare('INSERT OR IGNORE INTO devices_seen (device_id, first_seen_at, last_seen_at) VALUES (?, ?, ?)');
    this.touchSeen = db.prepare('UPDATE devices_seen SET last_seen_at = ? WHERE device_id = ?');
    this.countSeen = db.prepare('SELECT count(*) AS n FROM devices_seen');
    this.pruneSeen = db.prepare(
      `DELETE FROM devices_seen WHERE device_id IN (
         SELECT s.device_id FROM devices_seen s
         WHERE NOT EXISTS (SELECT 1 FROM device_credentials c WHERE c.device_id = s.device_id)
           AND NOT EXISTS (SELECT 1 FROM device_config d WHERE d.device_id = s.device_id)
         ORDER BY s.last_seen_at LIMIT ?)`,
    );
    this.seenRows = this.countSeen.get()!.n;
    this.recordSeenTx = db.transaction((ids: readonly string[]) => {
      const t = this.now();
      const fresh: string[] = [];
      for (const id of ids) {
        if (this.insertSeen.run(id, t, t).changes === 1) fresh.push(id);
        else this.touchSeen.run(t, id);
      }
      this.seenRows += fresh.length;
      if (this.seenRows > this.maxSeen) {
        this.seenRows -= this.pruneSeen.run(this.seenRows - this.maxSeen).changes;
      }
      return fresh;
    });
  }

  /** Provisioned on this gateway or seen on it. */
  isOwn(deviceId: string): boolean {
    return this.selectOwn.get(deviceId, deviceId) !== undefined;
  }

  get(deviceId: string): DeviceConfigRow | undefined {
    const r = this.selectRow.get(deviceId);
    return r === undefined ? undefined : toRow(r);
  }

  /** Runs `fn` in one transaction (one fsync for a batch of records). */
  transaction<T>(fn: () => T): T {
    return this.db.transaction(fn)();
  }

  /** A record for an own device: `desired` null is a tombstone. */
  applyDesired(deviceId: string, desired: DesiredConfig | null, source: RecordSource): DesiredOutcome {
    const row = this.selectRow.get(deviceId);
    const t = this.now();
    if (desired === null) {
      if (row === undefined || row.desired_config === null) return 'unchanged';
      if (row.source_partition === source.partition && source.offset <= BigInt(row.source_offset)) return 'replay';
      this.clearDesired.run(source.partition, source.offset, t, deviceId);
      return 'cleared';
    }
    if (row === undefined) {
      this.insertDesired.run(deviceId, desired.version, desired.configJson, source.partition, source.offset, t);
      return 'stored';
    }
    if (desired.version <= row.desired_version) return 'replay';
    this.updateDesired.run(desired.version, desired.configJson, source.partition, source.offset, t, deviceId);
    return 'stored';
  }

  /**
   * The retained message for `version` is out (version null: the retained message was cleared).
   * False when nothing changed (already marked, or a newer desired config arrived meanwhile).
   */
  markDelivered(deviceId: string, version: number | null, desiredVersion: number): boolean {
    return this.setDelivered.run(version, this.now(), deviceId, desiredVersion, version).changes === 1;
  }

  recordAck(deviceId: string, ack: ConfigAck): AckOutcome {
    const row = this.selectRow.get(deviceId);
    if (row === undefined || row.desired_config === null) return 'no_config';
    if (ack.version > row.desired_version) return 'ahead';
    if (row.acked_version !== null && ack.version < row.acked_version) return 'stale';
    if (row.acked_version === ack.version && row.ack_state === ack.state && row.ack_reason === ack.reason) return 'unchanged';
    this.setAck.run(ack.version, ack.state, ack.reason, this.now(), deviceId);
    return 'recorded';
  }

  /** The status record for `revision` is in Kafka. */
  markStatusSent(deviceId: string, revision: number): void {
    this.setStatusSent.run(revision, deviceId, revision);
  }

  /** Devices with a desired config (to re-publish into a new broker's retained store). */
  idsWithConfig(): string[] {
    return this.selectWithConfig.all().map((r) => r.device_id);
  }

  /** Devices whose retained message does not match their desired config yet. */
  idsUndelivered(): string[] {
    return this.selectUndelivered.all().map((r) => r.device_id);
  }

  /** Devices whose latest change is not in the status topic yet. */
  idsStatusDirty(): string[] {
    return this.selectStatusDirty.all().map((r) => r.device_id);
  }

  /** Records `ids` as seen now (one transaction); returns those seen for the first time. */
  recordSeen(ids: readonly string[]): string[] {
    if (ids.length === 0) return [];
    return this.recordSeenTx(ids);
  }

  get seenDevices(): number {
    return this.seenRows;
  }
}

export function createDeviceConfigStore(db: Database, opts?: DeviceConfigStoreOptions): DeviceConfigStore {
  return new DeviceConfigStore(db, opts);
}
