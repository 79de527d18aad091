/**
 * The JSON of the admin server's `GET /status`: one snapshot of the gateway for the status page
 * and `edge-gateway status`. Built, by a pure function, from the heartbeat record (the control
 * room's view: config in effect, last push, uptime) and the running pipeline's `status()` (its
 * counters). No history is kept here: the page computes rates from successive counter values.
 * Counters are totals since the pipeline was built; a rebuild starts them again at 0, so a
 * reader treats a counter that went down as a restart, not as a negative rate.
 */
import type { GatewayStatus } from '../gateway.js';
import type { BusyDevice } from '../ingest/device-activity.js';
import type { ConfigResult, GatewayStatusRecord } from './status-record.js';

export const ADMIN_STATUS_KIND = 'edge-gateway-admin-status';

export interface AdminStatus {
  kind: typeof ADMIN_STATUS_KIND;
  schemaVersion: 1;
  gatewayId: string;
  /** When this snapshot was taken: ISO-8601 and epoch ms (rates divide by differences of atMs). */
  at: string;
  atMs: number;
  uptimeSecs: number;
  binaryVersion: string;
  node: string;
  /** False while no pipeline runs (during a rebuild): its counters below are then 0. */
  pipelineRunning: boolean;
  config: {
    /** Version of the pushed document in effect; null when the local file is in effect. */
    version: number | null;
    source: 'file' | 'pushed';
    hash: string;
    lastResult: ConfigResult | null;
  };
  devices: {
    connected: number;
    /** Most accepted publishes over the last `windowMs` (30-60 s), most first, at most 5. */
    busiest: BusyDevice[];
    busiestWindowMs: number;
  };
  ingest: {
    acceptedTotal: number;
    rejectedTotal: number;
    /** Rejections by error code (GW_ERR_INGEST_...). */
    rejectedByCode: Record<string, number>;
  };
  forward: {
    /** Records Kafka acknowledged. */
    sentTotal: number;
    batchesTotal: number;
    sendErrorsTotal: number;
    /** Duration of the last send (ms). */
    lastSendMs: number;
  };
  buffer: {
    rows: number;
    bytes: number;
    maxSizeBytes: number;
    /** bytes / maxSizeBytes, 0..1 (0 with no pipeline). */
    fill: number;
    oldestAgeMs: number | null;
    /** Backpressure state: open, slowing, full, diskError. */
    flow: string;
  };
  kafka: { up: boolean; lastError: string | null };
  deadLetters: {
    /** Dead-lettered since the pipeline was built (encode failures, rejected by Kafka, poison rows). */
    total: number;
    /** Rows in the local dead_letters table now. */
    rows: number;
  };
  drops: {
    total: number;
    /** By reason: overflow (dropOldest), expired (maxAgeSecs). */
    byReason: Record<string, number>;
  };
}

/** `record` = the heartbeat (status-publisher's snapshot); `pipeline` = supervisor.gateway()?.status() ?? null. */
export function buildAdminStatus(record: GatewayStatusRecord, pipeline: GatewayStatus | null, nowMs: number = Date.now()): AdminStatus {
  const hb = record.heartbeat;
  const rejectedByCode = { ...(pipeline?.ingest.rejectedTotal ?? {}) };
  const byReason: Record<string, number> = { ...(pipeline?.buffer.droppedTotal ?? {}) };
  const maxSizeBytes = pipeline?.flow.maxSizeBytes ?? 0;
  const bytes = pipeline?.buffer.bytes ?? hb.buffer.bytes;
  return {
    kind: ADMIN_STATUS_KIND,
    schemaVersion: 1,
    gatewayId: record.gatewayId,
    at: new Date(nowMs).toISOString(),
    atMs: nowMs,
    uptimeSecs: hb.uptimeSecs,
    binaryVersion: hb.binaryVersion,
    node: hb.node,
    pipelineRunning: pipeline !== null,
    config: { version: record.config.version, source: record.config.source, hash: record.config.hash, lastResult: record.config.lastResult },
    devices: {
      connected: pipeline?.mqtt.connectedClients ?? hb.devicesConnected,
      busiest: pipeline?.ingest.busiest.devices ?? [],
      busiestWindowMs: pipeline?.ingest.busiest.windowMs ?? 0,
    },
    ingest: { acceptedTotal: pipeline?.ingest.acceptedTotal ?? 0, rejectedTotal: sum(rejectedByCode), rejectedByCode },
    forward: {
      sentTotal: pipeline?.forward.sentTotal ?? 0,
      batchesTotal: pipeline?.forward.batchesTotal ?? 0,
      sendErrorsTotal: pipeline?.forward.sendErrorsTotal ?? 0,
      lastSendMs: pipeline?.forward.lastSendMs ?? 0,
    },
    buffer: {
      rows: pipeline?.buffer.rows ?? hb.buffer.rows,
      bytes,
      maxSizeBytes,
      fill: maxSizeBytes > 0 ? Math.min(1, bytes / maxSizeBytes) : 0,
      oldestAgeMs: pipeline ? pipeline.buffer.oldestAgeMs : hb.buffer.oldestAgeMs,
      flow: pipeline?.flow.state ?? 'stopped',
    },
    kafka: pipeline ? { up: pipeline.forward.kafkaUp, lastError: pipeline.forward.waitingFor?.reason ?? pipeline.forward.lastError?.message ?? null } : { ...hb.kafka },
    deadLetters: { total: pipeline?.buffer.deadLetteredTotal ?? hb.deadLetteredTotal, rows: pipeline?.buffer.deadLetterRows ?? 0 },
    drops: { total: pipeline ? sum(byReason) : hb.droppedTotal, byReason },
  };
}

function sum(r: Record<string, number>): number {
  let n = 0;
  for (const v of Object.values(r)) n += v;
  return n;
}
