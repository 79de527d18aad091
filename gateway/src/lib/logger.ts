import { pino, type Logger, type LevelWithSilent } from 'pino';

export type { Logger };

/**
 * `err` fields: pino's errWithCause serializer. Like the default one it keeps an error's own
 * enumerable fields (GatewayError `code`, `canRetry`, `details`; a library's `code`/`errno`),
 * and it keeps `cause` as a nested serialized error (with its own code) instead of folding it
 * into `message`. A cause that is not an Error (a thrown string) is kept as it is.
 */
export function errSerializer(err: unknown): unknown {
  const out = pino.stdSerializers.errWithCause(err as Error) as unknown;
  if (out === err || !(err instanceof Error) || err.cause === undefined) return out;
  const o = out as Record<string, unknown>;
  if (o['cause'] === undefined) o['cause'] = err.cause;
  return o;
}

export interface LoggerOptions {
  name?: string;
  destinationFd?: number;
  /** pino redact paths; their values are logged as "[redacted]" (config/secrets.ts builds them). */
  redact?: readonly string[];
  /** Write each line before returning (default false: buffered, flushed by pino). */
  sync?: boolean;
}

/**
 * Structured JSON logs to stdout (or the given destination fd). Never a line per message at info.
 * Every line at info or above has an `event` (test/unit/lib/log-events.test.ts enforces it).
 */
export function createLogger(level: LevelWithSilent, opts?: LoggerOptions): Logger {
  return pino(
    {
      level,
      name: opts?.name ?? 'edge-gateway',
      base: { pid: process.pid },
      serializers: { err: errSerializer },
      ...(opts?.redact && opts.redact.length > 0 ? { redact: { paths: [...opts.redact], censor: '[redacted]' } } : {}),
    },
    pino.destination({ fd: opts?.destinationFd ?? 1, sync: opts?.sync ?? false }),
  );
}
