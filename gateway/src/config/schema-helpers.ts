/** Small builders shared by the config section schemas. */
import { z } from 'zod';

export const durationMs = (d: string) => z.number().int().nonnegative().describe(d);

export const ROUTE_DEVICE_PLACEHOLDER = '{deviceId}';

/**
 * Marks a config value as secret. The mark travels in the schema's metadata (and its JSON
 * Schema), and `config/secrets.ts` derives every redaction from it: `--print-config` and the
 * logs never show a marked value, and a new secret needs no second list to stay hidden.
 * Call it before `.describe()`.
 */
export function secret<T extends z.ZodType>(schema: T): T {
  return schema.meta({ secret: true }) as T;
}

/**
 * Marks a config value as applied live: a new value (remote push, SIGHUP) takes effect in the
 * running gateway without closing a device connection. Every value NOT marked needs a rebuild:
 * the pipeline is closed gracefully (acks are durable) and built again in process. The mark is
 * schema metadata, read by `config/apply-mode.ts`; `--print-config`'s JSON Schema shows it too.
 * Call it before `.describe()`.
 */
export function live<T extends z.ZodType>(schema: T): T {
  return schema.meta({ apply: 'live' }) as T;
}
