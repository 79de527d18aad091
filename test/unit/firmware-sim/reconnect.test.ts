import assert from 'node:assert/strict';
import { it } from 'node:test';
import { runSimulation } from '../../../firmware-sim/src/load-generator.js';
import { range, TestBroker } from './aedes-fixture.js';
import { waitFor } from '../../support/wait.js';

it('broker crash mid-run: devices reconnect, re-send unacked messages, every seq ends acked', async () => {
  const broker = await TestBroker.start();
  try {
    const run = runSimulation({
      url: broker.url, devices: 5, qos: 1, messagesPerDevice: 150, ratePerDevice: 150,
      reconnectBaseMs: 50, reconnectMaxMs: 400, connectSpreadMs: 0,
    });
    await waitFor('200 messages', () => broker.total >= 200, 10_000, 10);
    // Withhold acks for a moment so there are unacked messages in flight when the broker dies.
    broker.stall = true;
    await waitFor('withheld messages', () => broker.withheld >= 5, 10_000, 10);
    await broker.kill();
    await new Promise((r) => setTimeout(r, 300));
    await broker.listen(); // same port, fresh aedes instance
    const summary = await run;

    assert.equal(summary.sent, 750);
    assert.equal(summary.acked, 750);
    assert.ok(summary.resent > 0, 'expected re-sends');
    assert.ok(summary.reconnects >= 5, `reconnects ${summary.reconnects}`);
    assert.equal(summary.dropped, 0);
    for (const [id, d] of Object.entries(summary.perDevice)) {
      assert.equal(d.ackedContiguousTo, 150, id);
      assert.equal(d.highestAckedSeq, 150, id);
      assert.deepEqual(d.unackedSeqs, []);
      assert.deepEqual(broker.distinctSeqs(id), range(1, 150), `broker saw every seq of ${id}`);
    }
    const duplicates = [...broker.received.values()].reduce((n, l) => n + l.length, 0) - 750;
    assert.ok(duplicates > 0, 'withheld-then-resent messages arrive twice (at-least-once)');
    assert.equal(broker.payloadMismatches, 0, 're-sends carry the same payload');
    assert.equal(broker.mismatches, 0);
  } finally {
    await broker.kill();
  }
});
