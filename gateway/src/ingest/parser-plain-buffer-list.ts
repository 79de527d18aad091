/**
 * Gives each mqtt-packet parser a plain `BufferList` instead of bl's stream-wrapped one.
 *
 * mqtt-packet's parser (one per connection, in aedes) keeps the bytes it has not parsed yet in
 * `bl()`, a `BufferListStream`: a readable-stream Duplex with its two stream states and event
 * listeners, ~1,000 bytes of heap per connection, of which the parser uses none (it only
 * appends, reads, slices and consumes; no pipe, no events). A plain `BufferList` from the same
 * package is ~90 bytes: ~0.9 KiB less per connected device (9 MiB at 10,000). Measured with
 * `npm run bench -- heap` (bench/results/heap.md).
 *
 * As with fresh-packet-objects.ts, the parser's internals are not an API: if they are not what
 * this expects, nothing is changed and the reason is returned (the listener logs it).
 */
import { BufferList } from 'bl';
import { patchParserPrototype, type ParserInternals, type ParserPatch } from './mqtt-parser-internals.js';

/** What mqtt-packet's parser calls on its list (parser.js), besides reading `length`. */
const USED = ['append', 'consume', 'readUInt8', 'readUInt16BE', 'readUInt32BE', 'slice', 'toString'] as const;

let outcome: ParserPatch | null = null;

function check(probe: ParserInternals, proto: ParserInternals): string | null {
  if (typeof proto._resetState !== 'function') return 'mqtt-packet Parser has no _resetState';
  const list = probe._list as Record<string, unknown> | null | undefined;
  if (typeof list !== 'object' || list === null || list['length'] !== 0) return 'mqtt-packet Parser does not start from an empty _list';
  const plain = new BufferList() as unknown as Record<string, unknown>;
  for (const m of USED) if (typeof list[m] !== 'function' || typeof plain[m] !== 'function') return `mqtt-packet Parser's _list or bl's BufferList has no ${m}()`;
  return null;
}

/** Patches mqtt-packet's Parser prototype once per process; later calls return the first outcome. */
export function usePlainBufferList(): ParserPatch {
  return (outcome ??= patchParserPrototype(check, (_probe, proto) => {
    const resetState = proto._resetState as (this: ParserInternals) => void;
    // _resetState runs in the constructor and after a parse error: it sets packet, error, _list
    // and the state counter; only _list is replaced (the bl() it built is dropped at once).
    proto._resetState = function resetStateOnPlainBufferList(this: ParserInternals): void {
      resetState.call(this);
      this._list = new BufferList();
    };
  }));
}
