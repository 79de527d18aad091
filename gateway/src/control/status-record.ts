/**
 * The record a gateway writes to the compacted status topic (key = gateway id). One record holds
 * everything, so compaction keeps exactly the latest picture of each gateway: the config in
 * effect, the result of the last push, and the heartbeat. Cloud tools read one topic for a fleet.
 */

export const STATUS_KIND = 'edge-gateway-status';

export type ConfigState = 'applied' | 'rejected' | 'rolled_back' | 'pending';

export interface ConfigResult {
  version: number | null;
  state: ConfigState;
  code?: string;
  reason?: string;
  /** ISO-8601 */
  at: string;
}

export interface GatewayStatusRecord {
  kind: typeof STATUS_KIND;
  schemaVersion: 1;
  gatewayId: string;
  /** ISO-8601 time this record was written. */
  at: string;
  config: {
    /** Version of the pushed document in effect; null when the local file is in effect. */
    version: number | null;
    /** sha256 (hex) of the document in effect (of the local file's canonical JSON when source = file). */
    hash: string;
    source: 'file' | 'pushed';
    /** The last push this gateway handled (applied, rejected or rolled back), if any. */
    lastResult: ConfigResult | null;
  };
  heartbeat: {
    uptimeSecs: number;
    binaryVersion: string;
    node: string;
    devicesConnected: number;
    buffer: { rows: number; bytes: number; oldestAgeMs: number | null };
    kafka: { up: boolean; lastError: string | null };
    deadLetteredTotal: number;
    droppedTotal: number;
  };
}
