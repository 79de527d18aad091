import assert from 'node:assert/strict';
import { it } from 'node:test';
import { runSimulation, type SimProgress } from '../../../firmware-sim/src/load-generator.js';
import { freePort, range, TestBroker } from './aedes-fixture.js';
import { waitFor } from '../../support/wait.js';

it('broker down: offline queue keeps only the newest offlineQueueMax messages, drops counted exactly', async () => {
  const port = await freePort();
  let broker: TestBroker | undefined;
  try {
    const run = runSimulation({
      url: `mqtt://127.0.0.1:${port}`, devices: 2, qos: 1, messagesPerDevice: 50, ratePerDevice: 200,
      offlineQueueMax: 10, reconnectBaseMs: 20, reconnectMaxMs: 100, connectSpreadMs: 0, drainTimeoutMs: 10_000,
    });
    await new Promise((r) => setTimeout(r, 600)); // all 50 generated (at 200/s) while nothing listens
    broker = await TestBroker.start(port);
    const summary = await run;
    assert.equal(summary.dropped, 80);
    assert.equal(summary.sent, 20);
    assert.equal(summary.acked, 20);
    for (const [id, d] of Object.entries(summary.perDevice)) {
      assert.equal(d.dropped, 40);
      assert.deepEqual(d.droppedSeqRanges, [[1, 40]]);
      assert.equal(d.highestAckedSeq, 50);
      assert.equal(d.ackedContiguousTo, 0);
      assert.deepEqual(broker.received.get(id), range(41, 50));
    }
  } finally {
    await broker?.kill();
  }
});

it('window full: messages queue behind the in-flight window and the oldest queued are dropped', async () => {
  const broker = await TestBroker.start();
  broker.stall = true;
  try {
    let last: SimProgress | undefined;
    const run = runSimulation(
      {
        url: broker.url, devices: 1, qos: 1, messagesPerDevice: 30, ratePerDevice: 30,
        inflightWindow: 4, offlineQueueMax: 5, connectSpreadMs: 0, progressIntervalMs: 20,
      },
      { onProgress: (p) => (last = p) },
    );
    // 4 in flight (unacked), then the remaining 26 generated while the window is full.
    await waitFor('all 30 generated', () => last !== undefined && last.inflight + last.queued + last.dropped >= 30, 5000, 10);
    assert.equal(last!.inflight, 4);
    broker.release();
    const summary = await run;
    const d = summary.perDevice['dev-00001']!;
    assert.equal(d.dropped, 21);
    assert.deepEqual(d.droppedSeqRanges, [[5, 25]]);
    assert.equal(d.sent, 9);
    assert.equal(d.acked, 9);
    assert.equal(d.ackedContiguousTo, 4);
    assert.equal(d.highestAckedSeq, 30);
    assert.deepEqual(broker.received.get('dev-00001'), [1, 2, 3, 4, 26, 27, 28, 29, 30]);
  } finally {
    await broker.kill();
  }
});

it('drain timeout: unacked and unsent messages are reported, not waited for forever', async () => {
  const broker = await TestBroker.start();
  broker.stall = true;
  try {
    const summary = await runSimulation({
      url: broker.url, devices: 2, qos: 1, messagesPerDevice: 10, ratePerDevice: 200, inflightWindow: 3, drainTimeoutMs: 200,
    });
    assert.equal(summary.sent, 6);
    assert.equal(summary.acked, 0);
    assert.equal(summary.unsent, 14);
    for (const d of Object.values(summary.perDevice)) {
      assert.deepEqual(d.unackedSeqs, [1, 2, 3]);
      assert.equal(d.unsent, 7);
      assert.equal(d.ackedContiguousTo, 0);
      assert.equal(d.highestAckedSeq, 0);
    }
  } finally {
    await broker.kill();
  }
});
