/**
 * Proves a full disk is backpressure, not a crash or a loss: the buffer lives on a really small
 * filesystem (tmpfs, 8 MiB) that a filler file has almost used up, and Kafka cannot take data
 * yet (topic missing). Devices publish until SQLite reports SQLITE_FULL: the gateway logs
 * disk_error, stays up, and acknowledges nothing it could not commit. When space returns (filler
 * deleted) and Kafka takes data, it logs disk_recovered and every acknowledged message arrives.
 */
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { runSimulation } from '../../firmware-sim/src/load-generator.js';
import { sharedKafka } from '../kafka/shared-kafka.js';
import { GatewayProcess } from '../support/gateway-process.js';
import { uniqueTopics } from '../support/topics.js';
import { auditTopic } from '../support/audit.js';
import { mountSmallFilesystem } from '../support/small-filesystem.js';
import { snapshotBuffer } from '../support/buffer-db.js';
import { assertNoLoss } from '../support/audit-assertions.js';

const MiB = 1024 * 1024;

test('SQLITE_FULL on a really full filesystem holds devices, never crashes, recovers without loss', async (t) => {
  const fs = mountSmallFilesystem(8 * MiB);
  t.after(() => fs.unmount());
  const kafka = await sharedKafka();
  const { topic, dlqTopic } = uniqueTopics('diskfull');
  await kafka.createTopics([dlqTopic], 3);

  const gw = new GatewayProcess({
    dir: fs.dir,
    config: {
      buffer: { maxSizeBytes: 1024 * MiB }, // the cap is not what stops us: the disk is
      kafka: { brokers: kafka.brokers, topic, dlqTopic, retryInitialMs: 100, retryMaxMs: 500 },
    },
  });
  t.after(() => gw.close());
  await gw.start();
  // Leave ~1.5 MiB for the database, its WAL and shared memory.
  fs.fill('filler', Math.max(0, fs.freeBytes() - 1.5 * MiB));

  const simDone = runSimulation({ url: gw.url, devices: 20, qos: 1, messagesPerDevice: 500, payloadBytes: 200, reconnectBaseMs: 200, reconnectMaxMs: 2000, drainTimeoutMs: 120_000 });
  const diskError = await gw.waitForEvent('disk_error', 60_000);
  t.diagnostic(`disk_error at ${diskError['bytes']} buffered bytes; free on fs: ${fs.freeBytes()} bytes`);
  await new Promise((r) => setTimeout(r, 2000));
  assert.equal(gw.running, true, 'gateway still running with the disk full');
  const whileFull = snapshotBuffer(gw.dbPath);
  assert.ok(whileFull && whileFull.rows < 10_000, 'devices were held: not everything could be committed');

  fs.remove('filler');
  await kafka.createTopics([topic], 3);
  await gw.waitForEvent('disk_recovered', 60_000);
  const sim = await simDone;
  assert.equal(sim.acked, 10_000, 'every message was eventually committed and acknowledged');

  const report = await auditTopic({ brokers: kafka.brokers, topic, dlqTopic, sim, timeoutMs: 60_000 });
  t.diagnostic(`records ${report.records}, duplicates ${report.duplicates}, rows while full ${whileFull?.rows}`);
  assertNoLoss(report);
  assert.equal(report.ok, true);
});
