/** Resident memory of another process from /proc/<pid>/status, in bytes (Linux). */
import { readFileSync } from 'node:fs';

export interface ProcMemory {
  /** VmRSS: includes clean file-backed pages (the executable's text, ICU data, the SEA blob). */
  rss: number;
  /** RssAnon: heap, malloc, stacks: what only a restart gives back. */
  anon: number;
  /** RssFile: file-backed pages. */
  file: number;
}

/** Throws if the process is gone. */
export function procMemory(pid: number): ProcMemory {
  const status = readFileSync(`/proc/${pid}/status`, 'utf8');
  const kb = (k: string) => Number(new RegExp(`^${k}:\\s+(\\d+) kB`, 'm').exec(status)?.[1] ?? NaN) * 1024;
  return { rss: kb('VmRSS'), anon: kb('RssAnon'), file: kb('RssFile') };
}
