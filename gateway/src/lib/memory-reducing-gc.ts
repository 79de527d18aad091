/**
 * A memory-reducing full GC on demand, without --expose-gc on the command line (and without a
 * global `gc` for every dependency to call): the flag is set for the moment it takes to create
 * one throwaway context, whose `gc` is kept, then cleared again. Jest's leak detector gets its
 * collector the same way. V8's gc extension accepts `{ type, execution, flavor }`; the
 * 'last-resort' flavor is V8's CollectAllAvailableGarbage: a full GC that reduces the memory
 * footprint and releases the page pool, which a regular full GC keeps (measured: 10,000 idle
 * devices, RssAnon 223 -> 223 MiB with 'regular', 214 -> 146 MiB with 'last-resort').
 */
import { setFlagsFromString } from 'node:v8';
import { runInNewContext } from 'node:vm';

type GcExtension = (options: { type: 'major'; execution: 'sync'; flavor: 'last-resort' }) => void;

/** The collector, or the reason it is not available (an error value, not a throw). */
export function memoryReducingGc(): { ok: true; collect: () => void } | { ok: false; reason: string } {
  try {
    const exposed = typeof (globalThis as { gc?: unknown }).gc === 'function';
    if (!exposed) setFlagsFromString('--expose-gc');
    let gc: unknown;
    try {
      gc = runInNewContext('gc');
    } finally {
      if (!exposed) setFlagsFromString('--no-expose-gc');
    }
    if (typeof gc !== 'function') return { ok: false, reason: 'V8 did not expose its gc extension' };
    const extension = gc as GcExtension;
    return { ok: true, collect: () => extension({ type: 'major', execution: 'sync', flavor: 'last-resort' }) };
  } catch (err) {
    return { ok: false, reason: String((err as Error)?.message ?? err) };
  }
}
