/**
 * The process's soft limit on open file descriptors (Linux: /proc/self/limits), or null where it
 * cannot be read. At that limit libuv accepts and closes new connections itself, invisibly to
 * the gateway; knowing it lets the connection cap bite first, where it is counted and logged.
 */
import { readFileSync } from 'node:fs';

export function openFileSoftLimit(limitsText?: string): number | null {
  let text = limitsText;
  if (text === undefined) {
    try {
      text = readFileSync('/proc/self/limits', 'utf8');
    } catch {
      return null;
    }
  }
  const m = /^Max open files\s+(\d+|unlimited)\s/m.exec(text);
  if (!m) return null;
  return m[1] === 'unlimited' ? null : Number(m[1]);
}
