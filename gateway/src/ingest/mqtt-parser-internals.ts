/**
 * The private parts of mqtt-packet's Parser that fresh-packet-objects.ts and
 * parser-plain-buffer-list.ts change, and the one way they change them: check a new parser and
 * its prototype first, and patch the prototype (every parser in the process, aedes' included)
 * only if the check passes. mqtt-packet is pinned in package.json for this reason.
 */
import mqttPacket from 'mqtt-packet';

export interface ParserInternals {
  packet?: unknown;
  _states?: unknown;
  _list?: unknown;
  _parseHeader?: unknown;
  _newPacket?: unknown;
  _resetState?: unknown;
}

export type ParserPatch = { applied: true } | { applied: false; reason: string };

/** `check` returns why the internals are not as expected (null: they are); `apply` then patches `proto`. */
export function patchParserPrototype(
  check: (probe: ParserInternals, proto: ParserInternals) => string | null,
  apply: (probe: ParserInternals, proto: ParserInternals) => void,
): ParserPatch {
  const probe = mqttPacket.parser() as unknown as ParserInternals;
  const proto = Object.getPrototypeOf(probe) as ParserInternals;
  const reason = check(probe, proto);
  if (reason !== null) return { applied: false, reason };
  apply(probe, proto);
  return { applied: true };
}
