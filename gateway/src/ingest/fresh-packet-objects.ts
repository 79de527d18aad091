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
 * glibc keeps the high-water mark resident: ~130 MiB of free malloc memory after such a run.
 *
 * Starting every packet on a new object when its first byte is parsed (`_parseHeader`, always
 * a packet's first state) keeps a message's objects young from read to ack. Measured with
 * `npm run bench -- memory-curve` (bench/results/memory-curve*.md).
 *
 * The parser's internals are not an API: if they are not what this expects, nothing is changed
 * and the reason is returned (and logged by the caller).
 */
import mqttPacket from 'mqtt-packet';

export type FreshPacketObjects = { applied: true } | { applied: false; reason: string };

interface ParserInternals {
  packet?: unknown;
  _parseHeader?: unknown;
}

let outcome: FreshPacketObjects | null = null;

/** Patches mqtt-packet's Parser prototype once per process; later calls return the first outcome. */
export function useFreshPacketObjects(): FreshPacketObjects {
  if (outcome !== null) return outcome;
  const probe = mqttPacket.parser() as unknown as ParserInternals;
  const proto = Object.getPrototypeOf(probe) as ParserInternals;
  const original = proto._parseHeader;
  const PacketClass = typeof probe.packet === 'object' && probe.packet !== null ? probe.packet.constructor : undefined;
  if (typeof original !== 'function') {
    outcome = { applied: false, reason: 'mqtt-packet Parser has no _parseHeader' };
  } else if (typeof PacketClass !== 'function' || PacketClass === Object) {
    outcome = { applied: false, reason: 'mqtt-packet Parser does not build its packets from a Packet class' };
  } else {
    const Packet = PacketClass as new () => object;
    const parseHeader = original as (this: ParserInternals) => boolean;
    proto._parseHeader = function parseHeaderOnFreshPacket(this: ParserInternals): boolean {
      this.packet = new Packet();
      return parseHeader.call(this);
    };
    outcome = { applied: true };
  }
  return outcome;
}
