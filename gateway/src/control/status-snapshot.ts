/**
 * The one picture of this gateway that the heartbeat (status topic) and the admin server's
 * `GET /status` both serve: the config in effect, the last push result, and the pipeline's
 * counters. Built on demand from whichever pipeline the supervisor runs now; needs no Kafka.
 */
import { gatewayVersion } from '../cli/version.js';
import type { ConfigStore } from './config-store.js';
import { STATUS_KIND, type ConfigResult, type GatewayStatusRecord } from './status-record.js';
import type { Supervisor } from './supervisor.js';

export interface StatusSnapshotOptions {
  gatewayId: string;
  supervisor: Supervisor;
  store: ConfigStore;
}

export interface StatusSnapshot {
  snapshot(): GatewayStatusRecord;
  /** A result that never reached the supervisor (a record refused before parsing). */
  setResult(result: ConfigResult): void;
  close(): void;
}

export function createStatusSnapshot(o: StatusSnapshotOptions): StatusSnapshot {
  let lastResult: ConfigResult | null = fromStore(o.store);
  const unsubscribe = o.supervisor.on((e) => {
    if (e.type === 'result') lastResult = e.result;
  });

  return {
    snapshot() {
      const inEffect = o.supervisor.inEffect();
      const s = o.supervisor.gateway()?.status();
      return {
        kind: STATUS_KIND,
        schemaVersion: 1,
        gatewayId: o.gatewayId,
        at: new Date().toISOString(),
        config: { version: inEffect.version, hash: inEffect.hash, source: inEffect.source, lastResult },
        heartbeat: {
          uptimeSecs: Math.round(process.uptime()),
          binaryVersion: gatewayVersion(),
          node: process.version,
          devicesConnected: s?.mqtt.connectedClients ?? 0,
          buffer: { rows: s?.buffer.rows ?? 0, bytes: s?.buffer.bytes ?? 0, oldestAgeMs: s?.buffer.oldestAgeMs ?? null },
          kafka: { up: s?.forward.kafkaUp ?? false, lastError: s?.forward.waitingFor?.reason ?? s?.forward.lastError?.message ?? null },
          deadLetteredTotal: s?.buffer.deadLetteredTotal ?? 0,
          droppedTotal: s ? Object.values(s.buffer.droppedTotal).reduce((a, b) => a + b, 0) : 0,
        },
      };
    },
    setResult(result) {
      lastResult = result;
    },
    close: unsubscribe,
  };
}

function fromStore(store: ConfigStore): ConfigResult | null {
  const d = store.lastHandled();
  if (d === null) return null;
  return { version: d.version, state: d.state, at: new Date(d.updatedAt).toISOString(), ...(d.code ? { code: d.code } : {}), ...(d.reason ? { reason: d.reason } : {}) };
}
