const UNITS: Record<string, number> = { ms: 1, s: 1000, m: 60_000, h: 3_600_000 };

/** Parse "500ms", "30s", "2m", "1.5h" (a bare number means seconds) into milliseconds. */
export function parseDuration(text: string): number {
  const m = /^\s*(\d+(?:\.\d+)?)\s*(ms|s|m|h)?\s*$/i.exec(text);
  if (!m) throw new Error(`invalid duration "${text}" (expected e.g. 500ms, 30s, 2m, 1h)`);
  const unit = (m[2] ?? 's').toLowerCase();
  return Math.round(Number(m[1]) * UNITS[unit]!);
}
