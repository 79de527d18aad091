/**
 * Client-supplied strings go into logs truncated: a 65 KB topic must not become a 65 KB log
 * line (a peer could otherwise fill the disk through the log).
 */
export function truncateField(value: unknown, maxChars: number): string {
  const s = typeof value === 'string' ? value : String(value);
  if (s.length <= maxChars) return s;
  return `${s.slice(0, maxChars)}...(+${s.length - maxChars} chars)`;
}
