import { pino, type Logger, type LevelWithSilent } from 'pino';

export type { Logger };

export interface LoggerOptions {
  name?: string;
  destinationFd?: number;
  /** pino redact paths; their values are logged as "[redacted]" (config/secrets.ts builds them). */
  redact?: readonly string[];
  /** Write each line before returning (default false: buffered, flushed by pino). */
  sync?: boolean;
}

/** Structured JSON logs to stdout (or the given destination fd). Never a line per message at info. */
export function createLogger(level: LevelWithSilent, opts?: LoggerOptions): Logger {
  return pino(
    {
      level,
      name: opts?.name ?? 'edge-gateway',
      base: { pid: process.pid },
      ...(opts?.redact && opts.redact.length > 0 ? { redact: { paths: [...opts.redact], censor: '[redacted]' } } : {}),
    },
    pino.destination({ fd: opts?.destinationFd ?? 1, sync: opts?.sync ?? false }),
  );
}
