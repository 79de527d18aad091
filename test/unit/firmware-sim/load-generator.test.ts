import assert from 'node:assert/strict';
import { after, before, describe, it } from 'node:test';
import { runSimulation } from '../../../firmware-sim/src/load-generator.js';
import { range, TestBroker } from './aedes-fixture.js';

describe('runSimulation against an in-process aedes broker', () => {
  let broker: TestBroker;
  before(async () => {
    broker = await TestBroker.start();
  });
  after(async () => {
    await broker.kill();
  });

  it('5 devices x 50 QoS1 messages: exact (deviceId, seq) pairs, in per-device order', async () => {
    const summary = await runSimulation({ url: broker.url, devices: 5, qos: 1, messagesPerDevice: 50, payloadBytes: 200 });
    assert.equal(summary.devices, 5);
    assert.equal(summary.sent, 250);
    assert.equal(summary.acked, 250);
    assert.equal(summary.resent, 0);
    assert.equal(summary.dropped, 0);
    assert.equal(summary.errors, 0);
    assert.ok(summary.latencyMs.p50 > 0 && summary.latencyMs.p50 <= summary.latencyMs.p99);
    assert.ok(summary.latencyMs.p99 <= summary.latencyMs.max);
    assert.ok(summary.msgsPerSec > 0);
    assert.deepEqual(Object.keys(summary.perDevice).sort(), ['dev-00001', 'dev-00002', 'dev-00003', 'dev-00004', 'dev-00005']);
    for (const [id, d] of Object.entries(summary.perDevice)) {
      assert.deepEqual(broker.received.get(id), range(1, 50), `broker order for ${id}`);
      assert.equal(d.sent, 50);
      assert.equal(d.acked, 50);
      assert.equal(d.highestAckedSeq, 50);
      assert.equal(d.ackedContiguousTo, 50);
      assert.deepEqual(d.malformedSeqs, []);
      assert.deepEqual(d.unackedSeqs, []);
      assert.ok(broker.topics.has(`devices/${id}/telemetry`));
      const p = JSON.parse(broker.payloads.get(`${id}#7`)!) as Record<string, unknown>;
      assert.equal(p.deviceId, id);
      assert.equal(p.seq, 7);
      assert.equal(p.firmwareVersion, '1.4.2');
      for (const k of ['ts', 'temperature', 'humidity', 'battery', 'uptimeSecs']) assert.equal(typeof p[k], 'number', k);
      assert.equal(Buffer.byteLength(broker.payloads.get(`${id}#7`)!), 200);
    }
    assert.equal(broker.total, 250);
    assert.equal(broker.mismatches, 0);
    // JSON round-trip: the summary is handed to an auditor as JSON.
    assert.deepEqual(JSON.parse(JSON.stringify(summary)), summary);
  });

  for (const qos of [0, 2] as const) {
    it(`QoS ${qos}: every message arrives and is counted`, async () => {
      const summary = await runSimulation({
        url: broker.url, devices: 3, qos, messagesPerDevice: 40, deviceIdPrefix: `q${qos}-`, topicTemplate: 'fleet/{deviceId}/t/{deviceId}',
      });
      assert.equal(summary.sent, 120);
      assert.equal(summary.acked, 120);
      for (const id of ['q' + qos + '-00001', 'q' + qos + '-00002', 'q' + qos + '-00003']) {
        assert.deepEqual(broker.received.get(id), range(1, 40));
        assert.ok(broker.topics.has(`fleet/${id}/t/${id}`));
      }
    });
  }

  it('malformedEvery keeps seqs contiguous and reports malformed seqs', async () => {
    const summary = await runSimulation({ url: broker.url, devices: 2, qos: 1, messagesPerDevice: 20, malformedEvery: 5, deviceIdPrefix: 'bad-' });
    assert.equal(summary.acked, 40);
    for (const id of ['bad-00001', 'bad-00002']) {
      assert.deepEqual(summary.perDevice[id]!.malformedSeqs, [5, 10, 15, 20]);
      assert.deepEqual(broker.received.get(id), range(1, 20));
      for (const seq of [5, 10, 15, 20]) {
        const text = broker.payloads.get(`${id}#${seq}`)!;
        let valid = true;
        try {
          const v = JSON.parse(text) as Record<string, unknown>;
          valid = typeof v.temperature === 'number';
        } catch {
          valid = false;
        }
        assert.equal(valid, false, `seq ${seq} should be malformed: ${text}`);
      }
      assert.equal((JSON.parse(broker.payloads.get(`${id}#4`)!) as { seq: number }).seq, 4);
    }
  });

  it('durationMs with ratePerDevice paces publishing and drains', async () => {
    const summary = await runSimulation({ url: broker.url, devices: 4, qos: 1, durationMs: 500, ratePerDevice: 40, deviceIdPrefix: 'rate-' });
    // ~20 per device over 0.5 s (first message at t=0); allow for timer slop and start spread.
    for (const d of Object.values(summary.perDevice)) {
      assert.ok(d.sent >= 15 && d.sent <= 23, `sent ${d.sent}`);
      assert.equal(d.acked, d.sent);
      assert.equal(d.ackedContiguousTo, d.sent);
    }
    assert.equal(summary.acked, summary.sent);
  });

  it('abort signal stops publishing, drains, and still returns a summary', async () => {
    const ac = new AbortController();
    const progress: number[] = [];
    setTimeout(() => ac.abort(), 300);
    const summary = await runSimulation(
      { url: broker.url, devices: 3, qos: 1, deviceIdPrefix: 'abort-', progressIntervalMs: 100 },
      { signal: ac.signal, onProgress: (p) => progress.push(p.acked) },
    );
    assert.ok(summary.sent > 0);
    assert.equal(summary.acked, summary.sent);
    assert.ok(progress.length >= 2);
    for (const [id, d] of Object.entries(summary.perDevice)) assert.deepEqual(broker.received.get(id), range(1, d.sent));
  });

  it('onStart gives a live view: the acked snapshot of a moment is exactly what was acked then', async () => {
    const ac = new AbortController();
    const snapshots: Array<Record<string, { contiguousTo: number; above: number[] }>> = [];
    let fleet: { ackedSnapshot(): Record<string, { contiguousTo: number; above: number[] }>; connected(): number } | undefined;
    const timer = setInterval(() => fleet && snapshots.push(fleet.ackedSnapshot()), 50);
    setTimeout(() => ac.abort(), 400);
    const summary = await runSimulation(
      { url: broker.url, devices: 2, qos: 1, ratePerDevice: 200, deviceIdPrefix: 'snap-' },
      { signal: ac.signal, onStart: (f) => (fleet = f) },
    );
    clearInterval(timer);
    assert.ok(snapshots.length >= 3);
    assert.equal(fleet!.connected(), 0, 'closed at the end');
    let previous = 0;
    for (const snap of snapshots) {
      const d = snap['snap-00001']!;
      assert.ok(d.contiguousTo >= previous, 'acks only grow');
      for (const s of d.above) assert.ok(s > d.contiguousTo);
      previous = d.contiguousTo;
    }
    const last = fleet!.ackedSnapshot();
    for (const [id, d] of Object.entries(summary.perDevice)) assert.deepEqual(last[id], { contiguousTo: d.acked, above: [] });
  });
});
