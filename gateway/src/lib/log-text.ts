/** Bounded text for log fields: a hostile 65 KB topic or client id must not become a 65 KB log line. */
export const LOG_FIELD_MAX_CHARS = 200;

export function truncateForLog(value: string | null | undefined, max = LOG_FIELD_MAX_CHARS): string | null | undefined {
  if (value === null || value === undefined || value.length <= max) return value;
  return `${value.slice(0, max)}...(${value.length} chars)`;
}
