/**
 * Proves every `kafka.compression` codec end to end: for none, gzip, snappy, lz4 and zstd, the
 * real gateway process takes 20 simulated devices x 100 QoS1 messages and forwards them to a real
 * Kafka; kcat (librdkafka, which decodes every codec; the auditor's kafkajs only decodes gzip)
 * reads the topic back, each value is decoded with the gateway's own Avro codecs, and the audit
 * ledger finds every acknowledged message, keyed by its device, in order, without duplicates.
 * Kafka's DumpLogSegments then shows every stored record batch carries the codec asked for.
 * (The binary suite runs this file again with the x64 binary as the gateway.)
 */
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { runSimulation } from '../../firmware-sim/src/load-generator.js';
import { createAvroEncoder } from '../../gateway/src/encode/avro-encoder.js';
import type { DecodedEnvelope } from '../../gateway/src/encode/envelope-schema.js';
import { readFingerprint, SINGLE_OBJECT_HEADER_BYTES } from '../../gateway/src/encode/single-object.js';
import { AuditLedger, deviceSeqOf } from '../../gateway/src/audit/audit-report.js';
import { startKafka, type KafkaBroker } from '../kafka/kafka-harness.js';
import { batchCodecs } from '../kafka/log-segments.js';
import { GatewayProcess } from '../support/gateway-process.js';
import { kcatReadRaw } from '../support/kcat.js';
import { uniqueTopics } from '../support/topics.js';
import { assertNoLoss } from '../support/audit-assertions.js';

const CODECS = ['none', 'gzip', 'snappy', 'lz4', 'zstd'] as const;
const DEVICES = 20;
const PER_DEVICE = 100;

let broker: Promise<KafkaBroker> | undefined;
/** One private broker for the file: its log directory is read, which the shared one does not expose. */
function kafka(): Promise<KafkaBroker> {
  return (broker ??= startKafka());
}
test.after(async () => {
  if (broker) await (await broker).close();
});

const encoder = createAvroEncoder({ gatewayId: 'audit', defaultTopic: 'x', routes: [{ topic: 'devices/{deviceId}/telemetry' }] });
const byFingerprint = new Map(encoder.allCodecs().map((c) => [c.fingerprint, c]));

function decode(value: Buffer | null): DecodedEnvelope | null {
  if (!value) return null;
  const fp = readFingerprint(value);
  const codec = fp === null ? undefined : byFingerprint.get(fp);
  return codec ? (codec.type.fromBuffer(value.subarray(SINGLE_OBJECT_HEADER_BYTES)) as DecodedEnvelope) : null;
}

for (const codec of CODECS) {
  test(`compression ${codec}: every acknowledged message is read back by kcat, decoded, keyed and in order; batches stored as ${codec}`, { timeout: 180_000 }, async (t) => {
    const k = await kafka();
    const { topic, dlqTopic } = uniqueTopics(`codec-${codec}`);
    await k.createTopics([topic, dlqTopic], 3);
    const gw = new GatewayProcess({ config: { gatewayId: `gw-${codec}`, kafka: { brokers: k.brokers, topic, dlqTopic, compression: codec, lingerMs: 20 } } });
    t.after(() => gw.close());
    await gw.start();

    const sim = await runSimulation({ url: gw.url, devices: DEVICES, qos: 1, messagesPerDevice: PER_DEVICE, inflightWindow: 16 });
    assert.equal(sim.acked, DEVICES * PER_DEVICE, 'every publish was PUBACKed');
    assert.equal(sim.errors, 0);

    // Read back with librdkafka until every acknowledged message is there (bounded).
    let records = await kcatReadRaw(k.brokers, topic);
    for (let i = 0; i < 120 && records.length < sim.acked; i++) {
      await new Promise((r) => setTimeout(r, 500));
      records = await kcatReadRaw(k.brokers, topic);
    }
    const ledger = new AuditLedger();
    records.sort((a, b) => a.partition - b.partition || a.offset - b.offset);
    for (const r of records) {
      const env = decode(r.value);
      if (env === null) {
        ledger.undecodable++;
        continue;
      }
      ledger.add({ key: r.key, deviceId: env.deviceId, deviceSeq: deviceSeqOf(env.payload), partition: r.partition });
    }
    const report = ledger.report(topic, sim.perDevice);
    assertNoLoss(report);
    assert.equal(report.records, DEVICES * PER_DEVICE);
    assert.equal(report.devices, DEVICES);
    assert.equal(report.duplicates, 0);

    // The broker's own view of what it stored: every batch in the codec asked for.
    const stored = await batchCodecs(k.dataDir, topic);
    assert.deepEqual(Object.keys(stored.batches), [codec], `batches by codec: ${JSON.stringify(stored.batches)}`);
    assert.equal(stored.records, DEVICES * PER_DEVICE);
    t.diagnostic(`${codec}: ${records.length} records read back by kcat; ${stored.batches[codec]} batches stored as ${codec}`);
  });
}
