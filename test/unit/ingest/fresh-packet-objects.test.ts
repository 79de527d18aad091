/**
 * With fresh packet objects, mqtt-packet parses exactly what it parsed before (every field, every
 * error, MQTT 3.1.1 and 5, however the stream is split), but each packet into a new object, not
 * into the one the parser pre-created right after the previous packet (which, on a slow device,
 * idles long enough to be promoted to V8's old generation and then keeps the next payload's
 * socket read alive until a full GC). That the gateway applies it: test/integration/mqtt-parser-patches.test.ts.
 */
import assert from 'node:assert/strict';
import { test } from 'node:test';
import mqttPacket from 'mqtt-packet';
import { useFreshPacketObjects } from '../../../gateway/src/ingest/fresh-packet-objects.js';
import { feeds, parse, type Parsed } from '../../support/mqtt-parser-corpus.js';

const unpatched = new Map<string, Parsed>();

test('unpatched, mqtt-packet parses a packet into the object it created after the previous one', () => {
  // Runs before useFreshPacketObjects() in this process (node --test runs each file in its own).
  for (const [name, chunks] of feeds()) unpatched.set(name, parse(chunks));
  const r = unpatched.get('mqtt 3.1.1, packet by packet')!;
  assert.equal(r.preCreated.length, 8);
  assert.deepEqual(r.preCreated.slice(1), Array(7).fill(true), 'the check below can tell the two apart');
  assert.ok(unpatched.get('bad flags, then more, whole')!.events.some((e) => e.startsWith('error: ')), 'the corpus has errors');
});

test('patched, every packet is a new object and every packet, error and return value is unchanged', () => {
  assert.deepEqual(useFreshPacketObjects(), { applied: true });
  assert.deepEqual(useFreshPacketObjects(), { applied: true }, 'a second call returns the first outcome');
  const proto = Object.getPrototypeOf(mqttPacket.parser()) as { _parseHeader: () => boolean; _newPacket: () => boolean };
  assert.equal(proto._parseHeader.name, 'parseHeaderOnFreshPacket');
  assert.equal(proto._newPacket.name, 'newPacketThenPlaceholder', 'applied once, not wrapped twice');
  for (const [name, chunks] of feeds()) {
    const r = parse(chunks);
    assert.deepEqual(r.events, unpatched.get(name)!.events, name);
    // Fed packet by packet, what the parser holds between calls is what it made after a packet
    // (with smaller chunks it is the packet in progress, legitimately the one then emitted).
    if (name.endsWith('packet by packet')) assert.ok(r.preCreated.every((x) => !x), `${name}: a packet was parsed into the pre-created object`);
  }
});
