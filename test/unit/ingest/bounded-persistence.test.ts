/**
 * The bounded persistence keeps aedes-persistence's contract (its own abstract suite runs
 * against the wrapper), and its bounds: no retained message on routed topics, retained count and
 * bytes capped, per-session and total queue caps (newest dropped), QoS 2 ids capped in total and
 * stored without payload.
 */
import assert from 'node:assert/strict';
import { createRequire } from 'node:module';
import { test } from 'node:test';
import { boundPersistence, type BoundedPersistenceOptions } from '../../../gateway/src/ingest/bounded-persistence.js';
import { createLimitCounters } from '../../../gateway/src/ingest/limit-counters.js';
import type { RateLimitedLog } from '../../../gateway/src/lib/rate-limited-log.js';

const require = createRequire(import.meta.url);
// aedes' own in-memory persistence (CommonJS; its typings do not describe the factory).
const memory = require('aedes-persistence') as () => object;
const abstractSuite = require('aedes-persistence/abstract.js') as (opts: { test: typeof test; persistence: () => unknown; testAsync: boolean }) => void;

function options(over: Partial<BoundedPersistenceOptions> = {}): BoundedPersistenceOptions {
  const log: RateLimitedLog = { warn: () => true, size: 0 };
  return {
    isRoutedTopic: () => false,
    maxRetainedMessages: 1000,
    maxRetainedBytes: 10 * 1024 * 1024,
    maxQueuedMessages: 1000,
    maxQueuedMessagesTotal: 100_000,
    maxStoredInboundPackets: 100_000,
    stripInboundPayloads: false,
    counters: createLimitCounters(),
    log,
    logFieldMaxChars: 64,
    ...over,
  };
}

// aedes-persistence's own contract suite, against the wrapper with room to spare.
// testAsync: methods called without callbacks, returning promises, as aedes 1.x calls them.
abstractSuite({ test, persistence: () => boundPersistence(memory(), options()).persistence, testAsync: true });

type P = {
  setup(b: unknown): Promise<void>;
  storeRetained(p: object): Promise<void>;
  createRetainedStream(pattern: string): AsyncIterable<{ topic: string }>;
  outgoingEnqueueCombi(subs: object[], p: object): Promise<void>;
  outgoingClearMessageId(c: object, p: object): Promise<unknown>;
  outgoingStream(c: object): AsyncIterable<{ messageId?: number }>;
  outgoingUpdate(c: object, p: object): Promise<void>;
  incomingStorePacket(c: object, p: object): Promise<void>;
  incomingGetPacket(c: object, p: object): Promise<{ payload: Buffer }>;
  incomingDelPacket(c: object, p: object): Promise<void>;
};

async function bounded(over: Partial<BoundedPersistenceOptions>) {
  const o = options(over);
  const b = boundPersistence(memory(), o);
  const p = b.persistence as unknown as P;
  await p.setup({ id: 'broker-1', counter: 0 });
  return { p, gauges: b.gauges, counters: o.counters };
}

const pub = (topic: string, bytes: number, extra: object = {}) => ({ cmd: 'publish', topic, payload: Buffer.alloc(bytes, 1), qos: 1, retain: true, brokerId: 'broker-1', brokerCounter: 1, ...extra });

async function collect<T>(it: AsyncIterable<T>): Promise<T[]> {
  const out: T[] = [];
  for await (const x of it) out.push(x);
  return out;
}

test('retained: never stored on routed topics; capped in count and bytes; replacing and clearing adjust the totals', async () => {
  const { p, gauges, counters } = await bounded({ isRoutedTopic: (t) => t.startsWith('devices/'), maxRetainedMessages: 2, maxRetainedBytes: 1000 });
  await p.storeRetained(pub('devices/d1/telemetry', 10));
  assert.equal(counters.retainedIgnoredRoutedTotal, 1);
  await p.storeRetained(pub('a', 400));
  await p.storeRetained(pub('b', 400));
  await p.storeRetained(pub('c', 10));
  assert.equal(counters.retainedDroppedTotal, 1, 'a third topic is over the count cap');
  await p.storeRetained(pub('b', 700));
  assert.equal(counters.retainedDroppedTotal, 2, 'replacing b with 700 bytes would make 1,100 > 1,000');
  await p.storeRetained(pub('b', 600));
  assert.deepEqual(gauges().retainedBytes, 1000);
  await p.storeRetained(pub('a', 0));
  assert.deepEqual({ n: gauges().retainedMessages, bytes: gauges().retainedBytes }, { n: 1, bytes: 600 });
  assert.deepEqual((await collect(p.createRetainedStream('#'))).map((x) => x.topic), ['b']);
});

test('retained: exempt topics (device configurations) stay outside the caps, in gauges of their own', async () => {
  const exemptRetained = (t: string) => /^devices\/[^/]+\/config$/.test(t);
  const { p, gauges, counters } = await bounded({ isRoutedTopic: (t) => t.endsWith('/telemetry'), exemptRetained, maxRetainedMessages: 1, maxRetainedBytes: 100 });
  await p.storeRetained(pub('a', 100));
  for (let i = 0; i < 5; i++) await p.storeRetained(pub(`devices/d${i}/config`, 64 * 1024));
  await p.storeRetained(pub('devices/d0/config', 10));
  await p.storeRetained(pub('devices/d1/config', 0));
  assert.equal(counters.retainedDroppedTotal, 0, 'the general cap (1 message, 100 bytes) did not bite');
  const g = gauges();
  assert.deepEqual([g.retainedMessages, g.retainedBytes, g.retainedExemptMessages, g.retainedExemptBytes], [1, 100, 4, 10 + 3 * 64 * 1024]);
  assert.deepEqual((await collect(p.createRetainedStream('devices/+/config'))).map((x) => x.topic).sort(), ['devices/d0/config', 'devices/d2/config', 'devices/d3/config', 'devices/d4/config']);
  await p.storeRetained(pub('b', 10));
  assert.equal(counters.retainedDroppedTotal, 1, 'other topics are still capped');
});

test('queue: per session at most maxQueuedMessages, newest dropped; an acked message frees a slot; total cap too', async () => {
  const { p, gauges, counters } = await bounded({ maxQueuedMessages: 3, maxQueuedMessagesTotal: 5 });
  const client = { id: 's1' };
  for (let i = 1; i <= 5; i++) await p.outgoingEnqueueCombi([{ clientId: 's1' }], pub('x', 1, { brokerCounter: i }));
  assert.equal(counters.queuedDroppedTotal, 2);
  const queued = await collect(p.outgoingStream(client));
  assert.deepEqual(queued.map((q) => (q as unknown as { brokerCounter: number }).brokerCounter), [1, 2, 3]);
  await p.outgoingUpdate(client, { ...pub('x', 1, { brokerCounter: 1 }), messageId: 7 });
  await p.outgoingClearMessageId(client, { messageId: 7 });
  await p.outgoingEnqueueCombi([{ clientId: 's1' }, { clientId: 's2' }, { clientId: 's3' }], pub('x', 1, { brokerCounter: 9 }));
  assert.equal(gauges().queuedMessages, 5, 's1 back to 3, s2 and s3 one each');
  await p.outgoingEnqueueCombi([{ clientId: 's4' }], pub('x', 1, { brokerCounter: 10 }));
  assert.equal(counters.queuedDroppedTotal, 3, 'the total cap holds for a new session');
  await p.outgoingUpdate(client, { ...pub('x', 1, { brokerCounter: 5 }), messageId: 8 });
  await assert.rejects(p.outgoingUpdate({ id: 's2' }, { ...pub('x', 1, { brokerCounter: 99 }), messageId: 9 }).then(() => { throw new Error('total cap reached: swallowed'); }));
});

test('inbound QoS 2: ids capped in total (store fails beyond), payload not kept, PUBREL frees the id', async () => {
  const { p, gauges, counters } = await bounded({ maxStoredInboundPackets: 2, stripInboundPayloads: true });
  const c1 = { id: 'c1' };
  await p.incomingStorePacket(c1, pub('x', 100, { messageId: 1 }));
  await p.incomingStorePacket(c1, pub('x', 100, { messageId: 1 }));
  await p.incomingStorePacket({ id: 'c2' }, pub('x', 100, { messageId: 1 }));
  assert.equal(gauges().storedQos2Packets, 2, 'a duplicate id is not counted twice');
  await assert.rejects(p.incomingStorePacket(c1, pub('x', 100, { messageId: 2 })), /store full/);
  assert.equal(counters.qos2RefusedTotal, 1);
  assert.equal((await p.incomingGetPacket(c1, { messageId: 1 })).payload.length, 0, 'only the id is kept');
  await p.incomingDelPacket(c1, { messageId: 1 });
  await p.incomingStorePacket(c1, pub('x', 100, { messageId: 2 }));
  assert.equal(gauges().storedQos2Packets, 2);
});
