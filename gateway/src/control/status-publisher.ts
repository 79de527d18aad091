/**
 * Writes this gateway's status record (status-record.ts) to the compacted status topic: on every
 * config event and as a heartbeat every `heartbeatIntervalSecs`. One record in flight at most;
 * a change while one is in flight is coalesced into the next (no queue: the newest picture is
 * the only one that matters). Kafka down: the heartbeat keeps trying; nothing accumulates.
 */
import type { Logger } from '../lib/logger.js';
import { createRateLimitedLog } from '../lib/rate-limited-log.js';
import type { ControlProducer } from './kafka-link.js';
import type { ConfigResult } from './status-record.js';
import type { StatusSnapshot } from './status-snapshot.js';
import type { Supervisor } from './supervisor.js';

export interface StatusPublisherOptions {
  producer: ControlProducer;
  topic: string;
  gatewayId: string;
  supervisor: Supervisor;
  /** The picture written (shared with the admin server's GET /status). */
  status: StatusSnapshot;
  heartbeatIntervalSecs: number;
  logger: Logger;
}

export interface StatusPublisher {
  start(): void;
  /** Publish now (a config event); `result` overrides the last result (a refused record). */
  publish(result?: ConfigResult): void;
  close(): Promise<void>;
}

export function createStatusPublisher(o: StatusPublisherOptions): StatusPublisher {
  const warn = createRateLimitedLog(o.logger, 60_000);
  let timer: NodeJS.Timeout | null = null;
  let inFlight: Promise<void> | null = null;
  let again = false;
  let closed = false;

  function publish(result?: ConfigResult): void {
    if (result) o.status.setResult(result);
    if (closed) return;
    if (inFlight) {
      again = true;
      return;
    }
    const record = o.status.snapshot();
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

  // The snapshot records the result itself (it subscribed first); this only writes it out.
  const unsubscribe = o.supervisor.on((e) => {
    if (e.type === 'result') publish();
  });

  return {
    start() {
      publish();
      if (o.heartbeatIntervalSecs > 0) timer = setInterval(() => publish(), o.heartbeatIntervalSecs * 1000).unref();
    },
    publish,
    async close() {
      closed = true;
      unsubscribe();
      if (timer) clearInterval(timer);
      await inFlight;
    },
  };
}
