/**
 * Payloads for valid, routed PUBLISHes: the frame is fine, the bytes inside are not (deep JSON,
 * numbers no double holds, invalid UTF-8, empty, sizes around the payload limit). They are
 * accepted and stored, so they travel the whole pipeline to Kafka.
 */
import type { FuzzRng } from './fuzz-rng.js';

export const PAYLOAD_KINDS = ['deep-json-array', 'deep-json-object', 'deep-json-in-field', 'huge-numbers', 'invalid-utf8', 'empty', 'binary', 'near-limit', 'json-odd', 'long-string'] as const;
export type PayloadKind = (typeof PAYLOAD_KINDS)[number];

export interface PayloadOptions {
  /** The gateway's mqtt.maxPayloadBytes: `near-limit` probes just below and above it. */
  maxPayloadBytes: number;
  /** Deepest JSON nesting generated (deep nesting is what stack-recursive code dies on). */
  maxDepth: number;
}

export function hostilePayload(rng: FuzzRng, o: PayloadOptions, kind: PayloadKind = rng.pick(PAYLOAD_KINDS)): { kind: PayloadKind; payload: Buffer } {
  switch (kind) {
    case 'deep-json-array': {
      const d = rng.range(1, o.maxDepth);
      return { kind, payload: Buffer.from(`${'['.repeat(d)}${']'.repeat(d)}`) };
    }
    case 'deep-json-object': {
      const d = rng.range(1, o.maxDepth);
      return { kind, payload: Buffer.from(`${'{"a":'.repeat(d)}1${'}'.repeat(d)}`) };
    }
    case 'deep-json-in-field': {
      // Nested under a field, so a schema check reports (and previews) the deep value itself.
      const d = rng.range(1, o.maxDepth);
      return { kind, payload: Buffer.from(`{"seq":1,"note":${rng.chance(0.5) ? `${'['.repeat(d)}${']'.repeat(d)}` : `${'{"a":'.repeat(d)}1${'}'.repeat(d)}`}}`) };
    }
    case 'huge-numbers':
      return { kind, payload: Buffer.from(rng.pick(['{"seq":1e309,"temperature":-1e309}', `{"seq":${'9'.repeat(rng.range(20, 5000))}}`, '{"seq":-0,"temperature":NaN}', '{"seq":1.7976931348623157e308,"uptimeSecs":9007199254740993}', '1e99999'])) };
    case 'invalid-utf8':
      return { kind, payload: Buffer.concat([Buffer.from('{"note":"'), rng.pick([Buffer.from([0xc0, 0xaf]), Buffer.from([0xed, 0xa0, 0x80]), Buffer.from([0xff, 0xfe, 0xfd]), Buffer.from([0xe2, 0x82])]), Buffer.from('"}')]) };
    case 'empty':
      return { kind, payload: Buffer.alloc(0) };
    case 'binary':
      return { kind, payload: rng.bytes(rng.size(4096)) };
    case 'near-limit':
      return { kind, payload: Buffer.alloc(o.maxPayloadBytes + rng.pick([-1, 0, 1]), 0x20) };
    case 'json-odd':
      return { kind, payload: Buffer.from(rng.pick(['\ufeff{"seq":1}', '{"seq":1,"seq":2}', '{"__proto__":{"x":1}}', '{"constructor":{"prototype":{}}}', 'null', '"\\ud800"', '{"a":"\u0000"}', '[]'.repeat(1000)])) };
    case 'long-string':
      return { kind, payload: Buffer.from(JSON.stringify({ note: 'x'.repeat(rng.size(200_000)) })) };
  }
}
