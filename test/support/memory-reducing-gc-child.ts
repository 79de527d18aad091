/**
 * Child of test/unit/control/heap-trim.test.ts (run with --expose-gc): fills the heap with
 * short-lived objects, frees them, runs a regular full GC, then the gateway's memory-reducing GC,
 * and prints RssAnon after each as JSON.
 */
import { readFileSync } from 'node:fs';
import { memoryReducingGc } from '../../gateway/src/lib/memory-reducing-gc.js';

const rssAnonMiB = (): number => Number(/^RssAnon:\s+(\d+) kB/m.exec(readFileSync('/proc/self/status', 'utf8'))?.[1]) / 1024;
const gc = memoryReducingGc();
if (!gc.ok) throw new Error(gc.reason);
let garbage: Array<{ i: number; s: string }> | null = [];
for (let i = 0; i < 2_000_000; i++) garbage.push({ i, s: `x${i}` });
garbage = null;
(globalThis as unknown as { gc: () => void }).gc();
const afterRegularMiB = rssAnonMiB();
gc.collect();
const afterTrimMiB = rssAnonMiB();
process.stdout.write(JSON.stringify({ afterRegularMiB, afterTrimMiB, globalGcAfter: typeof (globalThis as { gc?: unknown }).gc }));
