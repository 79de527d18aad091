import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { createBackoff } from '../../../gateway/src/lib/backoff.js';
import { formatDeviceId, topicFor } from '../../../firmware-sim/src/device-id.js';
import { LatencyHistogram } from '../../../firmware-sim/src/latency-histogram.js';
import { OfflineQueue } from '../../../firmware-sim/src/offline-queue.js';
import { parseDuration } from '../../../firmware-sim/src/parse-duration.js';
import { createRng } from '../../../firmware-sim/src/rng.js';

describe('LatencyHistogram', () => {
  it('percentiles are within 1% of exact values', () => {
    const h = new LatencyHistogram();
    const values: number[] = [];
    const rng = createRng(3);
    for (let i = 0; i < 100_000; i++) {
      const v = Math.exp(rng() * 8) / 10; // 0.1 ms .. ~300 ms, log-uniform
      values.push(v);
      h.record(v);
    }
    values.sort((a, b) => a - b);
    for (const p of [50, 90, 99, 99.9]) {
      const exact = values[Math.ceil((p / 100) * values.length) - 1]!;
      const got = h.percentile(p);
      assert.ok(Math.abs(got - exact) / exact < 0.01, `p${p}: ${got} vs ${exact}`);
    }
    assert.equal(h.count, 100_000);
    assert.ok(Math.abs(h.maxMs - values[values.length - 1]!) < 0.001);
  });

  it('handles empty, zero, negative and huge values (clamped to ~35 min)', () => {
    const a = new LatencyHistogram();
    assert.equal(a.percentile(99), 0);
    assert.equal(a.maxMs, 0);
    a.record(0);
    a.record(-1);
    a.record(1e9);
    assert.equal(a.count, 3);
    assert.equal(a.percentile(50), 0);
    assert.equal(a.maxMs, 0x7fffffff / 1000);
    assert.equal(a.percentile(100), a.maxMs, 'no percentile above the exact max');
  });
});

describe('OfflineQueue', () => {
  it('is FIFO, grows to max, then evicts the oldest', () => {
    const q = new OfflineQueue(40);
    const evicted: number[] = [];
    for (let s = 1; s <= 100; s++) {
      const e = q.push(s, `p${s}`);
      if (e >= 0) evicted.push(e);
    }
    assert.equal(q.length, 40);
    assert.deepEqual(evicted, Array.from({ length: 60 }, (_, i) => i + 1));
    assert.deepEqual(q.seqList(), Array.from({ length: 40 }, (_, i) => i + 61));
    assert.equal(q.peekSeq(), 61);
    assert.equal(q.peekPayload(), 'p61');
    q.discardHead();
    assert.equal(q.peekSeq(), 62);
    while (q.length > 0) q.discardHead();
    assert.equal(q.peekSeq(), Infinity);
    assert.throws(() => new OfflineQueue(0));
  });
});

describe('reconnect backoff (gateway/src/lib/backoff.ts with the sim\'s seeded rng)', () => {
  it('stays within [floor, min(cap, base*2^n)] and spreads out', () => {
    const rng = createRng(11);
    for (let attempt = 0; attempt < 40; attempt++) {
      const ceiling = Math.min(10_000, 250 * 2 ** attempt);
      for (let i = 0; i < 200; i++) {
        const b = createBackoff({ initialMs: 250, maxMs: 10_000, random: rng });
        for (let k = 0; k < attempt; k++) b.next();
        const d = b.next();
        assert.ok(d >= 50 && d <= ceiling, `attempt ${attempt}: ${d}`);
      }
    }
    // 1000 devices on their 5th retry are spread over seconds, not a single instant.
    const fifth = () => {
      const b = createBackoff({ initialMs: 250, maxMs: 10_000, random: rng });
      for (let k = 0; k < 5; k++) b.next();
      return b.next();
    };
    const delays = Array.from({ length: 1000 }, fifth).sort((a, b) => a - b);
    assert.ok(delays[999]! - delays[0]! > 5000);
    assert.ok(delays[500]! > 2000 && delays[500]! < 6000);
  });
});

describe('parseDuration', () => {
  it('parses ms, s, m, h and bare seconds', () => {
    assert.equal(parseDuration('500ms'), 500);
    assert.equal(parseDuration('30s'), 30_000);
    assert.equal(parseDuration('2m'), 120_000);
    assert.equal(parseDuration('1.5h'), 5_400_000);
    assert.equal(parseDuration('10'), 10_000);
    assert.throws(() => parseDuration('soon'), /invalid duration/);
    assert.throws(() => parseDuration('-1s'), /invalid duration/);
  });
});

describe('device ids and topics', () => {
  it('formats ids and expands templates', () => {
    assert.equal(formatDeviceId('dev-', 1), 'dev-00001');
    assert.equal(formatDeviceId('dev-', 123456, 6), 'dev-123456');
    assert.equal(topicFor('devices/{deviceId}/telemetry', 'dev-00001'), 'devices/dev-00001/telemetry');
    assert.equal(topicFor('a/{deviceId}/{deviceId}', 'x'), 'a/x/x');
  });
});

describe('runSimulation option validation', () => {
  it('rejects bad options before connecting anything', async () => {
    const { runSimulation } = await import('../../../firmware-sim/src/load-generator.js');
    await assert.rejects(runSimulation({ url: 'http://x', devices: 1, qos: 1 }), /protocol/);
    await assert.rejects(runSimulation({ url: 'not a url', devices: 1, qos: 1 }), /invalid broker url/);
    await assert.rejects(runSimulation({ url: 'mqtt://127.0.0.1:1', devices: 0, qos: 1 }), /devices/);
    await assert.rejects(runSimulation({ url: 'mqtt://127.0.0.1:1', devices: 1, qos: 3 as 1 }), /qos/);
    await assert.rejects(runSimulation({ url: 'mqtt://127.0.0.1:1', devices: 1, qos: 1, inflightWindow: 0 }), /inflightWindow/);
  });
});

describe('InflightWindow', () => {
  it('hands out and recycles a fixed set of slots', async () => {
    const { InflightWindow } = await import('../../../firmware-sim/src/inflight-window.js');
    const w = new InflightWindow(3);
    const a = w.acquire(10, 'a', 1);
    const b = w.acquire(11, 'b', 2);
    const c = w.acquire(12, 'c', 3);
    assert.equal(w.hasRoom, false);
    assert.equal(w.size, 3);
    assert.deepEqual(new Set([a, b, c]).size, 3);
    w.release(a);
    assert.equal(w.isBusy(a), false);
    assert.equal(w.minSeq(), 11);
    const d = w.acquire(9, 'd', 4);
    assert.equal(d, a, 'freed slot is reused');
    assert.deepEqual(w.seqList(), [9, 11, 12]);
    assert.deepEqual(w.slotsBySeq().map((s) => w.payloadAt(s)), ['d', 'b', 'c']);
    w.touch(b, 99);
    assert.equal(w.sentAtOf(b), 99);
    for (const s of [b, c, d]) w.release(s);
    assert.equal(w.size, 0);
    assert.equal(w.minSeq(), Infinity);
    assert.throws(() => new InflightWindow(0));
  });
});
