/**
 * Proves that a silent network loss to Kafka (packets dropped, no RST, no ICMP: a dead NAT
 * entry, a pulled uplink) costs nothing. The gateway runs in its own network namespace, so its
 * Kafka traffic crosses a veth link; after ~10 s of healthy forwarding of 30 QoS1 devices, an
 * iptables DROP inside the namespace blackholes the broker for ~25 s, then is removed. While
 * the link is dead the gateway says so (kafka_down), devices keep getting PUBACKs (ingest goes
 * to disk), and the gateway's RSS stays bounded (rows wait on disk, not in memory). After
 * healing it says kafka_up and the auditor finds every acknowledged message in Kafka:
 * missingAcked = 0 means nothing was counted as delivered that Kafka did not acknowledge.
 * Zero gaps and per-device order; duplicates (a send whose ack was lost) are only reported.
 */
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { readFileSync } from 'node:fs';
import { runSimulation, type SimProgress } from '../../firmware-sim/src/load-generator.js';
import { startKafka } from '../kafka/kafka-harness.js';
import { GatewayProcess } from '../support/gateway-process.js';
import { createNetNamespace } from '../support/netns.js';
import { uniqueTopics } from '../support/topics.js';
import { auditTopic } from '../support/audit.js';
import { sleep } from '../support/wait.js';
import { assertNoLoss } from '../support/audit-assertions.js';

const DEVICES = 30;
const RATE_PER_DEVICE = 25; // msgs/s
const SIM_MS = 60_000;
const HEALTHY_MS = 10_000;
const BLACKOUT_MS = 25_000;

/** VmRSS of a process in KiB (Linux /proc), or null once it is gone. */
function rssKiB(pid: number): number | null {
  try {
    const m = /^VmRSS:\s+(\d+) kB$/m.exec(readFileSync(`/proc/${pid}/status`, 'utf8'));
    return m ? Number(m[1]) : null;
  } catch {
    return null;
  }
}

const mib = (kib: number) => (kib / 1024).toFixed(1);

test('a silently dropped link to Kafka: acks continue, memory bounded, nothing acknowledged lost', { timeout: 150_000 }, async (t) => {
  const testStart = Date.now();
  // Cleanup in reverse order of creation, whatever failed: gateway, then Kafka, then the namespace.
  const cleanup: Array<() => Promise<unknown>> = [];
  t.after(async () => {
    for (const fn of cleanup.reverse()) await fn().catch((err: unknown) => t.diagnostic(`cleanup: ${String(err)}`));
  });

  const ns = await createNetNamespace();
  cleanup.push(() => ns.close());
  const kafka = await startKafka({ host: ns.hostAddress });
  cleanup.push(() => kafka.close());
  const { topic, dlqTopic } = uniqueTopics('silent');
  await kafka.createTopics([topic, dlqTopic], 3);

  const gw = new GatewayProcess({
    wrap: ns.wrap,
    config: {
      gatewayId: 'gw-silent',
      // Devices reach it across the veth: a non-loopback listener, anonymous by explicit choice.
      mqtt: { listeners: [{ host: '0.0.0.0', port: 0, allowAnonymous: true }] },
      kafka: { brokers: kafka.brokers, topic, dlqTopic, requestTimeoutMs: 5000, connectionTimeoutMs: 2000, retryInitialMs: 200, retryMaxMs: 3000 },
    },
  });
  cleanup.push(() => gw.close());
  await gw.start();
  await gw.waitForEvent('kafka_up', 30_000);
  const pid = gw.pid;
  assert.ok(pid !== undefined, 'gateway pid known');
  assert.equal(gw.logs[0]?.['pid'], pid, 'pid is the gateway itself (ip netns exec exec()s it), not a wrapper');

  // RSS every second for the whole run.
  const rss: Array<{ at: number; kib: number }> = [];
  const sampler = setInterval(() => {
    const kib = rssKiB(pid);
    if (kib !== null) rss.push({ at: Date.now(), kib });
  }, 1000);
  cleanup.push(async () => clearInterval(sampler));

  let progress: SimProgress | undefined;
  const url = `mqtt://${ns.innerAddress}:${gw.port}`; // devices reach the gateway across the veth
  const stopSim = new AbortController();
  cleanup.push(async () => stopSim.abort()); // a failed assertion must not leave devices running
  const simDone = runSimulation(
    { url, devices: DEVICES, qos: 1, ratePerDevice: RATE_PER_DEVICE, durationMs: SIM_MS, inflightWindow: 32, drainTimeoutMs: 30_000 },
    { onProgress: (p) => (progress = p), signal: stopSim.signal },
  );
  simDone.catch(() => undefined); // awaited below; avoid an unhandled rejection if we fail first

  await sleep(HEALTHY_MS);
  const ackedAtDrop = progress?.acked ?? 0;
  assert.ok(ackedAtDrop > 0, 'devices were being acknowledged before the link died');
  assert.equal(gw.logs.filter((l) => l.event === 'kafka_down').length, 0, 'Kafka was healthy before the drop');

  // --- blackout ---------------------------------------------------------------------------
  const dropIdx = gw.logs.length;
  const dropAt = Date.now();
  const rssAtDrop = rssKiB(pid);
  assert.ok(rssAtDrop !== null);
  const heal = await ns.blackhole(kafka.host, kafka.port);
  cleanup.push(() => heal());

  const down = await gw.waitForEvent('kafka_down', BLACKOUT_MS, (l) => gw.logs.indexOf(l) >= dropIdx);
  const downAt = Date.now();
  const ackedAtDown = progress?.acked ?? 0;
  await sleep(Math.max(0, dropAt + BLACKOUT_MS - Date.now()));
  const ackedAtHeal = progress?.acked ?? 0;
  const healIdx = gw.logs.length;
  const healAt = Date.now();
  await heal();
  // ------------------------------------------------------------------------------------------

  const blackoutRss = rss.filter((s) => s.at >= dropAt && s.at <= healAt).map((s) => s.kib);
  const maxBlackoutRss = Math.max(rssAtDrop, ...blackoutRss);
  const up = await gw.waitForEvent('kafka_up', 60_000, (l) => gw.logs.indexOf(l) >= healIdx);
  const upAt = Date.now();

  const sim = await simDone;
  clearInterval(sampler);
  const report = await auditTopic({ brokers: kafka.brokers, topic, dlqTopic, sim, timeoutMs: 60_000 });

  t.diagnostic(`sim: ${DEVICES} devices x ${RATE_PER_DEVICE}/s for ${SIM_MS / 1000} s; sent ${sim.sent}, acked ${sim.acked}, resent ${sim.resent}, errors ${sim.errors}, reconnects ${sim.reconnects}, p99 ack ${sim.latencyMs.p99} ms, max ${sim.latencyMs.max} ms`);
  t.diagnostic(`kafka_down ${downAt - dropAt} ms after the drop (code ${String(down['code'])}: ${String(down['reason'])})`);
  t.diagnostic(`acked: ${ackedAtDrop} at drop, ${ackedAtDown} at kafka_down, ${ackedAtHeal} at heal (+${ackedAtHeal - ackedAtDown} while Kafka was known down)`);
  t.diagnostic(`kafka_up ${upAt - healAt} ms after healing, bufferedRows then: ${String(up['bufferedRows'])}`);
  t.diagnostic(`RSS MiB: at drop ${mib(rssAtDrop)}, max during blackout ${mib(maxBlackoutRss)} (${(maxBlackoutRss / rssAtDrop).toFixed(2)}x), overall max ${mib(Math.max(...rss.map((s) => s.kib)))}`);
  t.diagnostic(`RSS samples during blackout (MiB): ${blackoutRss.map(mib).join(' ')}`);
  t.diagnostic(`audit: records ${report.records}, duplicates ${report.duplicates}, gaps ${report.gaps}, missingAcked ${report.missingAcked}, outOfOrder ${report.outOfOrder}`);
  const states = gw.logs.filter((l) => l.event === 'kafka_down' || l.event === 'kafka_up');
  t.diagnostic(`forward states: ${states.map((l) => `${String(l.event)}${l['code'] ? `(${String(l['code'])})` : ''}@${((Number(l['time']) - dropAt) / 1000).toFixed(1)}s`).join(' ')} (s relative to the drop)`);
  t.diagnostic(`wall time ${((Date.now() - testStart) / 1000).toFixed(1)} s`);

  assert.ok(down['code'] === 'GW_ERR_FORWARD_SEND' || down['code'] === 'GW_ERR_FORWARD_CONNECT', `kafka_down code ${String(down['code'])}`);
  assert.ok(gw.logs.indexOf(down) < healIdx, 'kafka_down logged while the link was dead');
  assert.ok(ackedAtHeal > ackedAtDown, 'devices kept getting PUBACKs while Kafka was unreachable');
  assert.ok(Number(up['bufferedRows']) > 0, 'rows acknowledged during the blackout were waiting on disk');
  assert.ok(blackoutRss.length >= BLACKOUT_MS / 1000 - 2, `RSS sampled through the blackout (${blackoutRss.length} samples)`);
  assert.ok(maxBlackoutRss < 3 * rssAtDrop, `RSS bounded: max ${mib(maxBlackoutRss)} MiB vs ${mib(rssAtDrop)} MiB at the drop`);

  assert.equal(sim.errors, 0);
  assert.equal(sim.acked, sim.sent, 'every message sent was eventually PUBACKed');
  assertNoLoss(report);
  assert.equal(report.devices, DEVICES);
  assert.equal(report.ok, true);
});
