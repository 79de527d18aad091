/**
 * The periodic `stats` log line (`log.statsIntervalSecs`): counters an operator greps for, plus
 * process memory. Owned by the control room: it reads whichever gateway the supervisor runs now.
 */
import type { GatewayStatus } from '../gateway.js';
import type { Logger } from '../lib/logger.js';

export interface StatsLog {
  /** (Re)arms the timer with this interval; 0 stops it. */
  setInterval(secs: number): void;
  close(): void;
}

export function createStatsLog(status: () => GatewayStatus | null, logger: Logger): StatsLog {
  let timer: NodeJS.Timeout | null = null;
  let secs = 0;
  const stop = () => {
    if (timer !== null) clearInterval(timer);
    timer = null;
  };
  return {
    setInterval(next) {
      if (next === secs && (timer !== null || next === 0)) return;
      stop();
      secs = next;
      if (secs > 0) {
        timer = setInterval(() => {
          const s = status();
          if (s !== null) logger.info({ event: 'stats', ...statsLine(s) }, 'stats');
        }, secs * 1000).unref();
      }
    },
    close: stop,
  };
}

/** The periodic `stats` log line: counters an operator greps for, plus process memory. */
export function statsLine(s: GatewayStatus): Record<string, unknown> {
  const mem = process.memoryUsage();
  return {
    clients: s.mqtt.connectedClients,
    accepted: s.ingest.acceptedTotal,
    limits: s.ingest.limits,
    bufferedRows: s.buffer.rows,
    bufferedBytes: s.buffer.bytes,
    oldestAgeMs: s.buffer.oldestAgeMs,
    flow: s.flow.state,
    acked: s.buffer.ackedTotal,
    deadLettered: s.buffer.deadLetteredTotal,
    poisonRows: s.forward.poisonRowsTotal,
    dropped: s.buffer.droppedTotal,
    kafkaUp: s.forward.kafkaUp,
    sendErrors: s.forward.sendErrorsTotal,
    rssBytes: mem.rss,
    heapUsedBytes: mem.heapUsed,
    heapTotalBytes: mem.heapTotal,
    externalBytes: mem.external,
  };
}
