/**
 * Proves realistic devices do not stampede: 1,000 simulated devices (jittered exponential
 * reconnect backoff, bounded in-flight window and offline queue) are connected when the gateway
 * is killed and restarted on the same port and files. Their reconnects spread over time instead
 * of arriving at once, nothing they were acknowledged is lost, and the sim reports what a device
 * had to drop from its bounded offline queue (nothing, here).
 */
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { runSimulation, type SimProgress } from '../../firmware-sim/src/load-generator.js';
import { sharedKafka } from '../kafka/shared-kafka.js';
import { GatewayProcess } from '../support/gateway-process.js';
import { uniqueTopics } from '../support/topics.js';
import { auditTopic } from '../support/audit.js';
import { waitFor } from '../support/wait.js';
import { assertNoLoss } from '../support/audit-assertions.js';

test('1,000 devices reconnect spread out after a gateway restart, without loss', async (t) => {
  const kafka = await sharedKafka();
  const { topic, dlqTopic } = uniqueTopics('storm');
  await kafka.createTopics([topic, dlqTopic], 3);
  const first = new GatewayProcess({ config: { kafka: { brokers: kafka.brokers, topic, dlqTopic } } });
  t.after(() => first.close());
  await first.start();

  const samples: Array<{ at: number; p: SimProgress }> = [];
  const simDone = runSimulation(
    { url: first.url, devices: 1000, qos: 1, ratePerDevice: 1, durationMs: 16_000, connectSpreadMs: 2000, reconnectBaseMs: 250, reconnectMaxMs: 4000, progressIntervalMs: 50, drainTimeoutMs: 60_000 },
    { onProgress: (p) => samples.push({ at: Date.now(), p }) },
  );
  await waitFor('all devices connected', () => samples.at(-1)?.p.connected === 1000, 30_000);
  await new Promise((r) => setTimeout(r, 1000));

  await first.kill();
  await waitFor('devices notice the crash', () => (samples.at(-1)?.p.connected ?? 1000) < 100, 15_000, 20);
  const second = new GatewayProcess({ dir: first.dir, config: { mqtt: { port: first.port }, kafka: { brokers: kafka.brokers, topic, dlqTopic } } });
  t.after(() => second.close());
  await second.start();
  const restartedAt = Date.now();
  await waitFor('all devices reconnected', () => samples.at(-1)?.p.connected === 1000, 30_000, 50);

  const after = samples.filter((s) => s.at >= restartedAt);
  const reach = (n: number) => after.find((s) => s.p.connected >= n)?.at ?? Number.NaN;
  const t10 = reach(100) - restartedAt;
  const t50 = reach(500) - restartedAt;
  const t90 = reach(900) - restartedAt;
  t.diagnostic(`reconnected after restart: 10% at ${t10} ms, 50% at ${t50} ms, 90% at ${t90} ms`);
  // Jittered backoff spreads the fleet: the middle 80% do not arrive in one burst.
  assert.ok(t90 - t10 >= 300, `reconnects spread over ${t90 - t10} ms between the 10th and 90th percentile`);

  const sim = await simDone;
  t.diagnostic(`sent ${sim.sent}, acked ${sim.acked}, resent ${sim.resent}, dropped ${sim.dropped}, reconnects ${sim.reconnects}`);
  assert.equal(sim.dropped, 0, 'the bounded offline queue did not overflow');
  assert.equal(sim.acked, sim.sent);
  const report = await auditTopic({ brokers: kafka.brokers, topic, dlqTopic, sim, timeoutMs: 60_000 });
  assertNoLoss(report);
});
