/**
 * Writes this gateway's status record (status-record.ts) to the compacted status topic: on every
 * config event and as a heartbeat every `heartbeatIntervalSecs`. One record in flight at most;
 * a change while one is in flight is coalesced into the next (no queue: the newest picture is
 * the only one that matters). Kafka down: the heartbeat keeps trying; nothing accumulates.
 */
import { gatewayVersion } from '../cli/version.js';
import type { Logger } from '../lib/logger.js';
import { createRateLimitedLog } from '../lib/rate-limited-log.js';
import type { ConfigStore } from './config-store.js';
import type { ControlProducer } from './kafka-link.js';
import { STATUS_KIND, type ConfigResult, type GatewayStatusRecord } from './status-record.js';
import type { Supervisor } from './supervisor.js';

export interface StatusPublisherOptions {
  producer: ControlProducer;
  topic: string;
  gatewayId: string;
  supervisor: Supervisor;
  store: ConfigStore;
  heartbeatIntervalSecs: number;
  logger: Logger;
}

export interface StatusPublisher {
  start(): void;
  /** Publish now (a config event); `result` overrides the last result (a refused record). */
  publish(result?: ConfigResult): void;
  snapshot(): GatewayStatusRecord;
  close(): Promise<void>;
}

export function createStatusPublisher(o: StatusPublisherOptions): StatusPublisher {
  const warn = createRateLimitedLog(o.logger, 60_000);
  const startedAt = Date.now();
  let lastResult: ConfigResult | null = fromStore();
  let timer: NodeJS.Timeout | null = null;
  let inFlight: Promise<void> | null = null;
  let again = false;
  let closed = false;

  function fromStore(): ConfigResult | null {
    const d = o.store.lastHandled();
    if (d === null) return null;
    return { version: d.version, state: d.state, at: new Date(d.updatedAt).toISOString(), ...(d.code ? { code: d.code } : {}), ...(d.reason ? { reason: d.reason } : {}) };
  }

  function snapshot(): GatewayStatusRecord {
    const inEffect = o.supervisor.inEffect();
    const s = o.supervisor.gateway()?.status();
    return {
      kind: STATUS_KIND,
      schemaVersion: 1,
      gatewayId: o.gatewayId,
      at: new Date().toISOString(),
      config: { version: inEffect.version, hash: inEffect.hash, source: inEffect.source, lastResult },
      heartbeat: {
        uptimeSecs: Math.round((Date.now() - startedAt) / 1000),
        binaryVersion: gatewayVersion(),
        node: process.version,
        devicesConnected: s?.mqtt.connectedClients ?? 0,
        buffer: { rows: s?.buffer.rows ?? 0, bytes: s?.buffer.bytes ?? 0, oldestAgeMs: s?.buffer.oldestAgeMs ?? null },
        kafka: { up: s?.forward.kafkaUp ?? false, lastError: s?.forward.lastError?.message ?? null },
        deadLetteredTotal: s?.buffer.deadLetteredTotal ?? 0,
        droppedTotal: s ? Object.values(s.buffer.droppedTotal).reduce((a, b) => a + b, 0) : 0,
      },
    };
  }

  function publish(result?: ConfigResult): void {
    if (result) lastResult = result;
    if (closed) return;
    if (inFlight) {
      again = true;
      return;
    }
    const record = snapshot();
    inFlight = o.producer
      .send(o.topic, o.gatewayId, JSON.stringify(record))
      .catch((err: unknown) => {
        warn.warn('status_send', { event: 'status_send_failed', err }, 'status record not written (Kafka); the next heartbeat retries');
      })
      .finally(() => {
        inFlight = null;
        if (again) {
          again = false;
          publish();
        }
      });
  }

  const unsubscribe = o.supervisor.on((e) => {
    if (e.type === 'result') publish(e.result);
  });

  return {
    start() {
      publish();
      if (o.heartbeatIntervalSecs > 0) timer = setInterval(() => publish(), o.heartbeatIntervalSecs * 1000).unref();
    },
    publish,
    snapshot,
    async close() {
      closed = true;
      unsubscribe();
      if (timer) clearInterval(timer);
      await inFlight;
    },
  };
}
