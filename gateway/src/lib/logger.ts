import { pino, type Logger, type LevelWithSilent } from 'pino';

export type { Logger };

/** Structured JSON logs to stdout (or the given destination fd). Never a line per message at info. */
export function createLogger(level: LevelWithSilent, opts?: { name?: string; destinationFd?: number }): Logger {
  return pino(
    { level, name: opts?.name ?? 'edge-gateway', base: { pid: process.pid } },
    pino.destination({ fd: opts?.destinationFd ?? 1, sync: false }),
  );
}
