/**
 * With a plain BufferList, mqtt-packet parses exactly what it parsed with bl's stream-wrapped one
 * (every field, every error and parse() result, MQTT 3.1.1 and 5, however the stream is split,
 * errors followed by more data), and a parser no longer carries a stream. Together with fresh
 * packet objects too, as the gateway runs them. That the gateway applies both:
 * test/integration/mqtt-parser-patches.test.ts.
 */
import assert from 'node:assert/strict';
import { test } from 'node:test';
import mqttPacket from 'mqtt-packet';
import { usePlainBufferList } from '../../../gateway/src/ingest/parser-plain-buffer-list.js';
import { useFreshPacketObjects } from '../../../gateway/src/ingest/fresh-packet-objects.js';
import { feeds, parse, type Parsed } from '../../support/mqtt-parser-corpus.js';

const isStream = (p: unknown) => typeof (p as { _list: { pipe?: unknown } })._list.pipe === 'function';
const unpatched = new Map<string, Parsed>();

test('unpatched, each parser keeps its bytes in a stream', () => {
  // Runs before any patch in this process (node --test runs each file in its own).
  assert.equal(isStream(mqttPacket.parser()), true, 'the check below can tell the two apart');
  for (const [name, chunks] of feeds()) unpatched.set(name, parse(chunks));
});

test('patched, a parser holds a plain BufferList and parses the same packets, errors and results', () => {
  assert.deepEqual(usePlainBufferList(), { applied: true });
  assert.deepEqual(usePlainBufferList(), { applied: true }, 'a second call returns the first outcome');
  assert.equal((Object.getPrototypeOf(mqttPacket.parser()) as { _resetState: { name: string } })._resetState.name, 'resetStateOnPlainBufferList');
  const p = mqttPacket.parser();
  assert.equal(isStream(p), false);
  for (const [name, chunks] of feeds()) assert.deepEqual(parse(chunks).events, unpatched.get(name)!.events, name);
  // After a parse error the parser resets (_resetState): still a plain list, still parsing.
  const afterError = parse([Buffer.from([0x60, 0x02, 0x00, 0x01]), mqttPacket.generate({ cmd: 'pingreq' })]);
  assert.deepEqual(afterError.events.filter((e) => !e.startsWith('returned')).map((e) => (e.startsWith('error') ? 'error' : JSON.parse(e).cmd)), ['error', 'pingreq']);
});

test('with fresh packet objects as well (the gateway applies both), the output is still the same', () => {
  assert.deepEqual(useFreshPacketObjects(), { applied: true });
  for (const [name, chunks] of feeds()) assert.deepEqual(parse(chunks).events, unpatched.get(name)!.events, name);
});
