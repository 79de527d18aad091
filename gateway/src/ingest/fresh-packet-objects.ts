/**
 * Keeps each received MQTT packet's objects young, so a socket read is freed by the next
 * scavenge instead of waiting for a full GC.
 *
 * mqtt-packet's parser (the one aedes uses) creates the object for a connection's next packet as
 * soon as it emits one (parser.js `_newPacket`). On a device that publishes once a second, that
 * empty object idles for a second, long enough to be promoted to V8's old generation. When the
 * next PUBLISH fills it, an old object points at the young payload, a view of the whole socket
 * read: the scavenger must keep both, so every read of every device is promoted and waits for a
 * mark-compact. External memory, and the malloc heap under it, then grow by each read (~1.8 MB/s
 * at 10,000 msgs/s from 10,000 devices) until V8's external-memory limit forces a full GC, and
 * glibc keeps that high-water mark resident (~130 MiB of free malloc memory after such a run).
 *
 * So, between packets the parser holds one shared, never-written placeholder (length -1, which
 * is all its loop reads there), and every packet is parsed into a new object created when its
 * first byte is (`_parseHeader`, always a packet's first state): a message's objects stay young
 * from read to ack. Measured: `npm run bench -- memory-curve` (bench/results/memory-curve.md).
 *
 * The parser's internals are not an API: if they are not what this expects, nothing is changed
 * and the reason is returned (the listener logs it). package.json pins mqtt-packet's version.
 */
import { patchParserPrototype, type ParserInternals, type ParserPatch } from './mqtt-parser-internals.js';

type ParserState = (this: ParserInternals) => boolean;

let outcome: ParserPatch | null = null;

function check(probe: ParserInternals, proto: ParserInternals): string | null {
  const states = probe._states;
  if (!Array.isArray(states) || states[0] !== '_parseHeader' || states.at(-1) !== '_newPacket') return 'mqtt-packet Parser states are not _parseHeader ... _newPacket';
  if (typeof proto._parseHeader !== 'function' || typeof proto._newPacket !== 'function') return 'mqtt-packet Parser has no _parseHeader/_newPacket';
  const packet = probe.packet as { constructor?: unknown; length?: unknown } | null | undefined;
  if (typeof packet !== 'object' || packet === null || typeof packet.constructor !== 'function' || packet.constructor === Object || packet.length !== -1) {
    return 'mqtt-packet Parser does not start from a Packet of length -1';
  }
  return null;
}

/** Patches mqtt-packet's Parser prototype once per process; later calls return the first outcome. */
export function useFreshPacketObjects(): ParserPatch {
  return (outcome ??= patchParserPrototype(check, (probe, proto) => {
    const Packet = (probe.packet as object).constructor as new () => object;
    const placeholder = new Packet();
    const parseHeader = proto._parseHeader as ParserState;
    const newPacket = proto._newPacket as ParserState;
    proto._parseHeader = function parseHeaderOnFreshPacket(this: ParserInternals): boolean {
      this.packet = new Packet();
      return parseHeader.call(this);
    };
    proto._newPacket = function newPacketThenPlaceholder(this: ParserInternals): boolean {
      const done = newPacket.call(this); // emits the packet, then builds the next one: dropped at once
      this.packet = placeholder;
      return done;
    };
  }));
}
