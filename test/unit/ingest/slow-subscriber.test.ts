/**
 * The slow-subscriber guard drops (and counts) messages for a client whose send buffer would go
 * over the bound, always lets an empty buffer take one message, counts bytes authorized but not
 * yet written, and disconnects a client that stays over the bound. The mqemitter trampoline
 * drains a long queue without the synchronous recursion that crashed the gateway.
 */
import assert from 'node:assert/strict';
import { createRequire } from 'node:module';
import { test } from 'node:test';
import type { AedesPublishPacket, Client } from 'aedes';
import { createSlowSubscriberGuard, forwardedPacketBytes, trampolineEmitter } from '../../../gateway/src/ingest/slow-subscriber.js';
import { createLimitCounters } from '../../../gateway/src/ingest/limit-counters.js';
import type { RateLimitedLog } from '../../../gateway/src/lib/rate-limited-log.js';

const require = createRequire(import.meta.url);

function fakeClient(id: string) {
  const conn = { writableLength: 0, destroyed: false, destroy() { this.destroyed = true; } };
  return { client: { id, conn } as unknown as Client, conn };
}
const packet = (bytes: number) => ({ topic: 't/1', payload: Buffer.alloc(bytes), qos: 1 }) as unknown as AedesPublishPacket;
const nextImmediate = () => new Promise((r) => setImmediate(r));

function setup(maxQueuedBytes: number, timeoutMs = 0) {
  let now = 0;
  const counters = createLimitCounters();
  const events: string[] = [];
  const log: RateLimitedLog = { warn: (_k, f) => (events.push(String(f['event'])), true), size: 0 };
  const guard = createSlowSubscriberGuard({ maxQueuedBytes, timeoutMs, counters, log, logFieldMaxChars: 64, now: () => now });
  return { guard, counters, events, advance: (ms: number) => (now += ms) };
}

test('forwards while the buffer has room; drops and counts beyond it; an empty buffer always takes one', async () => {
  const { guard, counters, events } = setup(10_000);
  const { client, conn } = fakeClient('sub');
  const big = packet(50_000);
  assert.ok(guard(client, big), 'an empty buffer takes a packet larger than the bound');
  await nextImmediate();
  conn.writableLength = 9_000;
  assert.ok(guard(client, packet(500)), '9,000 + ~512 fits');
  assert.equal(guard(client, packet(500)), null, 'the first message is still pending: 9,000 + 2 x ~512 > 10,000');
  assert.equal(counters.slowSubscriberDroppedTotal, 1);
  await nextImmediate();
  conn.writableLength = 0;
  assert.ok(guard(client, packet(500)), 'drained: forwarded again');
  assert.deepEqual(events, ['slow_subscriber_drop']);
  assert.equal(forwardedPacketBytes(packet(500)), 500 + 3 + 9);
});

test('a client over the bound for timeoutMs is disconnected once, and counted', () => {
  const { guard, counters, events, advance } = setup(1000, 5000);
  const { client, conn } = fakeClient('sub');
  conn.writableLength = 5000;
  assert.equal(guard(client, packet(10)), null);
  advance(4999);
  assert.equal(guard(client, packet(10)), null);
  assert.equal(conn.destroyed, false);
  advance(1);
  assert.equal(guard(client, packet(10)), null);
  assert.equal(conn.destroyed, true);
  assert.equal(guard(client, packet(10)), null);
  assert.equal(counters.slowSubscriberDisconnectedTotal, 1);
  assert.equal(counters.slowSubscriberDroppedTotal, 4);
  assert.equal(events.filter((e) => e === 'slow_subscriber_disconnected').length, 1);
});

test('mqemitter: draining a long queue through synchronous listeners does not overflow the stack', async () => {
  const mqemitter = require('mqemitter') as (o: { concurrency: number }) => {
    on(t: string, f: (m: unknown, cb: () => void) => void): void;
    removeListener(t: string, f: unknown, cb: () => void): void;
    emit(m: { topic: string }, cb: (err?: Error) => void): void;
  };
  const run = (trampoline: boolean) =>
    new Promise<number>((resolve, reject) => {
      // The crash: one held delivery fills the concurrency, 50,000 messages queue behind it,
      // the listener goes away (the slow subscriber is dropped) and the queue drains with no
      // listener at all, each message completing synchronously inside the previous one.
      const mq = mqemitter({ concurrency: 1 });
      if (trampoline) trampolineEmitter(mq);
      let held: (() => void) | null = null;
      const listener = (_m: unknown, cb: () => void) => (held ??= cb);
      mq.on('a', listener);
      let done = 0;
      const total = 50_000;
      for (let i = 0; i < total; i++) mq.emit({ topic: 'a' }, () => ++done === total && resolve(done));
      mq.removeListener('a', listener, () => {
        try {
          held!();
        } catch (err) {
          reject(err as Error);
        }
      });
    });
  await assert.rejects(run(false), RangeError, 'without the trampoline: Maximum call stack size exceeded');
  assert.equal(await run(true), 50_000);
});
