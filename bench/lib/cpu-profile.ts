/** Aggregates a V8 .cpuprofile (from --cpu-prof) into self-time shares by function and by package. */
import { readFileSync } from 'node:fs';

interface ProfileNode {
  id: number;
  callFrame: { functionName: string; url: string; lineNumber: number };
}
interface CpuProfile {
  nodes: ProfileNode[];
  samples: number[];
  timeDeltas: number[];
}

export interface ProfileShare {
  name: string;
  percent: number;
}

function packageOf(url: string, fn: string): string {
  const nm = /node_modules\/((?:@[^/]+\/)?[^/]+)/.exec(url);
  if (nm) return nm[1]!;
  if (url.includes('/gateway/src/')) return 'gateway (ours)';
  if (url.startsWith('node:')) return 'node core';
  return fn.startsWith('(') ? fn : 'other';
}

export function summarizeProfile(path: string, top = 25): { functions: ProfileShare[]; packages: ProfileShare[] } {
  const p = JSON.parse(readFileSync(path, 'utf8')) as CpuProfile;
  const byId = new Map(p.nodes.map((n) => [n.id, n]));
  const fnTime = new Map<string, number>();
  const pkgTime = new Map<string, number>();
  let total = 0;
  for (let i = 0; i < p.samples.length; i++) {
    const node = byId.get(p.samples[i]!);
    const dt = p.timeDeltas[i] ?? 0;
    if (!node) continue;
    const cf = node.callFrame;
    const file = cf.url.replace(/^.*node_modules\//, '').replace(/^.*\/build\//, '');
    const key = `${cf.functionName || '(anonymous)'} ${file}${file ? `:${cf.lineNumber + 1}` : ''}`;
    fnTime.set(key, (fnTime.get(key) ?? 0) + dt);
    const pkg = packageOf(cf.url, cf.functionName);
    pkgTime.set(pkg, (pkgTime.get(pkg) ?? 0) + dt);
    total += dt;
  }
  const shares = (m: Map<string, number>, n: number) =>
    [...m].sort((a, b) => b[1] - a[1]).slice(0, n).map(([name, t]) => ({ name, percent: (t / total) * 100 }));
  return { functions: shares(fnTime, top), packages: shares(pkgTime, 12) };
}
