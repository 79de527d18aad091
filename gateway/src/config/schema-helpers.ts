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
