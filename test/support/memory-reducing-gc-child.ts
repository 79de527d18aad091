/**
 * Child of test/unit/control/heap-trim.test.ts: gets the gateway's memory-reducing GC and notes
 * whether `gc` is visible afterwards (globally, and in a new context); then fills the heap with
 * short-lived objects, frees them, runs two regular full GCs, waits 2 s for V8's background
 * unmapping, runs the memory-reducing GC, and prints RssAnon after each as JSON.
 */
import { readFileSync } from 'node:fs';
import { setFlagsFromString } from 'node:v8';
import { runInNewContext } from 'node:vm';
import { memoryReducingGc } from '../../gateway/src/lib/memory-reducing-gc.js';

const rssAnonMiB = (): number => Number(/^RssAnon:\s+(\d+) kB/m.exec(readFileSync('/proc/self/status', 'utf8'))?.[1]) / 1024;
const gc = memoryReducingGc();
if (!gc.ok) throw new Error(gc.reason);
const globalGc = typeof (globalThis as { gc?: unknown }).gc;
const contextGc = runInNewContext('typeof gc') as string;

// A regular full GC for comparison (the test's own, not the gateway's).
setFlagsFromString('--expose-gc');
const regular = runInNewContext('gc') as () => void;
let garbage: Array<{ i: number; s: string }> | null = [];
for (let i = 0; i < 2_000_000; i++) garbage.push({ i, s: `x${i}` });
garbage = null;
regular();
regular();
await new Promise((r) => setTimeout(r, 2000));
const afterRegularMiB = rssAnonMiB();
gc.collect();
const afterTrimMiB = rssAnonMiB();
process.stdout.write(JSON.stringify({ afterRegularMiB, afterTrimMiB, globalGc, contextGc }));
