/**
 * Proves the README's durability table under real power cuts, not kill -9: the buffer lives on
 * powercut-fs (test/powercut-fs: everything not fsynced is lost at a cut, self-tested in
 * test/integration/powercut-fs.test.ts). While 30 devices publish QoS 1, the power is cut at
 * seeded random moments (EG_TEST_POWERCUT_SEED replays a run): the gateway is SIGKILLed and the
 * unsynced data thrown away together, the file system remounted over what was durable, the
 * gateway restarted on it. Odd lives cannot reach Kafka (everything acknowledged is only in the
 * buffer), even lives forward. After the drain the auditor reads Kafka back.
 *   FULL and EXTRA: no acknowledged message is missing, order kept, duplicates bounded.
 *   NORMAL: acknowledged messages are lost at cuts (shown, counted per cut), never otherwise.
 * The long run (20 cuts per mode) is `npm run bench -- power-cut`.
 */
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { randomInt } from 'node:crypto';
import { sharedKafka } from '../kafka/shared-kafka.js';
import { uniqueTopics } from '../support/topics.js';
import { BATCH_MAX_RECORDS, runPowerCuts, type PowerCutResult, type Synchronous } from '../support/power-cut-run.js';

const CUTS = 4;
const seed = Number(process.env['EG_TEST_POWERCUT_SEED'] ?? randomInt(1, 2 ** 31));

async function run(synchronous: Synchronous, diagnostic: (s: string) => void): Promise<PowerCutResult> {
  const kafka = await sharedKafka();
  const { topic, dlqTopic } = uniqueTopics(`powercut-${synchronous.toLowerCase()}`);
  await kafka.createTopics([topic, dlqTopic], 3);
  const r = await runPowerCuts({ synchronous, cuts: CUTS, seed, brokers: kafka.brokers, topic, dlqTopic, log: diagnostic });
  for (const c of r.cuts) {
    diagnostic(`cut ${c.cut} (Kafka ${c.kafka}, life ${c.lifeMs} ms): acked in life ${c.ackedInLife}, lost ${c.lostAcked}, rows at restart ${c.bufferedAtRestart}, syncs ${c.fs.fsyncs + c.fs.fdatasyncs}`);
  }
  const rep = r.report;
  diagnostic(`${synchronous}: sent ${r.sim.sent}, acked ${r.sim.acked}, Kafka records ${rep.records}, duplicates ${rep.duplicates}, gaps ${rep.gaps}, out of order ${rep.outOfOrder}, lost acked ${r.loss.lostPerCut.join('+')} (without a cut: ${r.loss.lostWithoutCut}), ${r.elapsedMs} ms`);
  return r;
}

function assertNothingElseWrong(r: PowerCutResult): void {
  assert.equal(r.sim.dropped, 0, 'no device overflowed its offline queue');
  assert.equal(r.sim.acked, r.sim.sent, 'in the end every message was PUBACKed');
  assert.equal(r.loss.lostWithoutCut, 0, `nothing acknowledged is lost without a power cut: ${JSON.stringify(r.loss.examples)}`);
  assert.equal(r.report.outOfOrder, 0);
  assert.equal(r.report.keyMismatches, 0);
  assert.equal(r.report.undecodable, 0);
  assert.equal(r.report.devicesOnSeveralPartitions, 0);
}

for (const synchronous of ['FULL', 'EXTRA'] as const) {
  test(`power cuts with synchronous=${synchronous}: nothing PUBACKed is lost (seed ${seed})`, async (t) => {
    t.diagnostic(`seed ${seed} (replay with EG_TEST_POWERCUT_SEED=${seed})`);
    const r = await run(synchronous, (s) => t.diagnostic(s));
    assertNothingElseWrong(r);
    const lost = r.loss.lostPerCut.reduce((a, b) => a + b, 0);
    assert.equal(lost, 0, `no acknowledged message lost at a cut: ${JSON.stringify(r.loss.examples)}`);
    assert.equal(r.report.missingAcked, 0, 'the auditor agrees');
    assert.equal(r.report.gaps, 0);
    assert.equal(r.report.records - r.report.duplicates, r.sim.sent, 'each message is in Kafka, once or more');
    assert.ok(r.cuts.some((c) => c.kafka === 'down' && c.bufferedAtRestart > 0), 'a cut found acknowledged rows only in the buffer, and they survived');
    const bound = CUTS * (r.sim.devices * 16 + 2 * BATCH_MAX_RECORDS);
    assert.ok(r.report.duplicates <= bound, `duplicates ${r.report.duplicates} within ${bound}`);
  });
}

test(`power cuts with synchronous=NORMAL: acknowledged messages are lost at cuts, and only there (seed ${seed})`, async (t) => {
  t.diagnostic(`seed ${seed} (replay with EG_TEST_POWERCUT_SEED=${seed})`);
  const r = await run('NORMAL', (s) => t.diagnostic(s));
  assertNothingElseWrong(r);
  const lostWhileBuffering = r.cuts.filter((c) => c.kafka === 'down').reduce((a, c) => a + c.lostAcked, 0);
  assert.ok(lostWhileBuffering > 0, 'NORMAL loses acknowledged messages that were only in the buffer at a cut');
});
