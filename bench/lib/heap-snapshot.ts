/**
 * V8 heap snapshots of a running gateway, taken from outside: the gateway is started with
 * NODE_OPTIONS=--heapsnapshot-signal=SIGUSR2 (no product code involved) and writes
 * Heap.*.heapsnapshot into its working directory when signalled. `summarize` groups the
 * snapshot's nodes by constructor (self size, count) so two snapshots can be diffed.
 */
import { readdirSync, readFileSync, statSync } from 'node:fs';
import { join } from 'node:path';

export const SNAPSHOT_NODE_OPTIONS = '--heapsnapshot-signal=SIGUSR2';

/** Sends SIGUSR2 and waits until a new, complete snapshot file appears in `dir`; returns its path. */
export async function takeSnapshot(pid: number, dir: string, timeoutMs = 120_000): Promise<string> {
  const before = new Set(list(dir));
  process.kill(pid, 'SIGUSR2');
  const deadline = Date.now() + timeoutMs;
  let last = -1;
  for (;;) {
    await new Promise((r) => setTimeout(r, 500));
    const fresh = list(dir).filter((f) => !before.has(f));
    if (fresh.length > 0) {
      const path = join(dir, fresh[0]!);
      const size = statSync(path).size;
      // The file is written in chunks; done when it stops growing and ends the JSON object.
      if (size > 0 && size === last && readFileSync(path, 'utf8').trimEnd().endsWith('}')) return path;
      last = size;
    }
    if (Date.now() > deadline) throw new Error(`no heap snapshot in ${dir} within ${timeoutMs} ms`);
  }
}

function list(dir: string): string[] {
  return readdirSync(dir).filter((f) => f.endsWith('.heapsnapshot'));
}

export interface HeapGroup {
  count: number;
  bytes: number;
}

/** Self size and count per "type:constructor" (objects, closures, arrays) or per type (strings, code...). */
export function summarize(path: string): { totalBytes: number; groups: Map<string, HeapGroup> } {
  const snap = JSON.parse(readFileSync(path, 'utf8')) as {
    snapshot: { meta: { node_fields: string[]; node_types: [string[]] } };
    nodes: number[];
    strings: string[];
  };
  const fields = snap.snapshot.meta.node_fields;
  const types = snap.snapshot.meta.node_types[0];
  const width = fields.length;
  const iType = fields.indexOf('type');
  const iName = fields.indexOf('name');
  const iSize = fields.indexOf('self_size');
  const groups = new Map<string, HeapGroup>();
  let totalBytes = 0;
  const { nodes, strings } = snap;
  for (let i = 0; i < nodes.length; i += width) {
    const type = types[nodes[i + iType]!]!;
    const size = nodes[i + iSize]!;
    totalBytes += size;
    const named = type === 'object' || type === 'closure' || type === 'native' || type === 'array' || type === 'hidden';
    const key = named ? `${type}:${strings[nodes[i + iName]!]!.slice(0, 60)}` : type;
    const g = groups.get(key);
    if (g) {
      g.count++;
      g.bytes += size;
    } else groups.set(key, { count: 1, bytes: size });
  }
  return { totalBytes, groups };
}

/** The groups that grew most from `a` to `b`, per `per` units (e.g. per connection). */
export function diff(a: Map<string, HeapGroup>, b: Map<string, HeapGroup>, per: number, top = 25): Array<{ key: string; countPer: number; bytesPer: number }> {
  const out: Array<{ key: string; countPer: number; bytesPer: number }> = [];
  for (const [key, g] of b) {
    const before = a.get(key) ?? { count: 0, bytes: 0 };
    out.push({ key, countPer: (g.count - before.count) / per, bytesPer: (g.bytes - before.bytes) / per });
  }
  return out.sort((x, y) => y.bytesPer - x.bytesPer).slice(0, top);
}
