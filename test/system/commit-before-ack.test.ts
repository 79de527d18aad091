/**
 * Proves on the wire that a PUBACK leaves the gateway only after the message is committed to
 * SQLite. A tap proxy sits between an MQTT.js device and the gateway process; every PUBACK the
 * gateway writes is held on the wire while the test opens the SQLite file read-only (a second
 * connection, like an operator's sqlite3 shell) and looks for that message's row (device id +
 * the seq in its payload). Kafka is unreachable in the first life so no row can have been
 * forwarded and deleted before it is looked for.
 * Second case, kill -9 between commit and ack: the proxy withholds one PUBACK entirely, the test
 * sees the row committed, SIGKILLs the gateway, restarts it on the same files with Kafka up, and
 * the device re-sends the message whose PUBACK never came. The auditor finds it in Kafka twice
 * (once from the buffer, once re-sent): a counted duplicate, no gap, no loss.
 */
import { test } from 'node:test';
import assert from 'node:assert/strict';
import Database from 'better-sqlite3';
import mqtt from 'mqtt';
import type { Packet } from 'mqtt-packet';
import { auditKafka } from '../../gateway/src/audit/kafka-audit.js';
import { deviceSeqOf } from '../../gateway/src/audit/audit-report.js';
import { createAvroEncoder } from '../../gateway/src/encode/avro-encoder.js';
import { sharedKafka } from '../kafka/shared-kafka.js';
import { GatewayProcess } from '../support/gateway-process.js';
import { MqttTapProxy, type TapVerdict } from '../support/mqtt-tap-proxy.js';
import { uniqueTopics } from '../support/topics.js';
import { assertNoLoss } from '../support/audit-assertions.js';

const UNREACHABLE_KAFKA = ['127.0.0.1:1'];

function payloadFor(deviceId: string, seq: number): string {
  return JSON.stringify({ deviceId, seq, temperature: 20 + (seq % 10) / 10 });
}

/** Maps the device's PUBLISH messageIds to the seq in their payloads, as seen on the wire. */
function seqByMessageId(): { observe: (p: Packet) => void; take: (messageId: number | undefined) => number | null } {
  const bySeq = new Map<number, number>();
  return {
    observe(p) {
      if (p.cmd === 'publish' && p.qos > 0 && p.messageId !== undefined) bySeq.set(p.messageId, deviceSeqOf(Buffer.from(p.payload)) ?? -1);
    },
    take(messageId) {
      if (messageId === undefined) return null;
      const seq = bySeq.get(messageId) ?? null;
      bySeq.delete(messageId);
      return seq;
    },
  };
}

/** A read-only second connection to the gateway's buffer: is (device, seq) committed? */
function openBufferReader(dbPath: string): { has: (deviceId: string, seq: number) => boolean; rows: () => number; close: () => void } {
  const db = new Database(dbPath, { readonly: true, fileMustExist: true });
  const find = db.prepare("SELECT count(*) AS n FROM records WHERE device_id = ? AND json_extract(CAST(payload AS TEXT), '$.seq') = ?");
  const count = db.prepare('SELECT count(*) AS n FROM records');
  return {
    has: (deviceId, seq) => (find.get(deviceId, seq) as { n: number }).n > 0,
    rows: () => (count.get() as { n: number }).n,
    close: () => db.close(),
  };
}

test('every PUBACK on the wire comes after its row is committed to SQLite', async (t) => {
  const { topic, dlqTopic } = uniqueTopics('ackwire');
  const gw = new GatewayProcess({ config: { kafka: { brokers: UNREACHABLE_KAFKA, topic, dlqTopic } } });
  t.after(() => gw.close());
  await gw.start();

  const deviceId = 'dev-00001';
  const ids = seqByMessageId();
  const reader = openBufferReader(gw.dbPath); // the file and schema exist once the gateway listens
  t.after(() => reader.close());
  let checked = 0;
  const notCommittedAtAck: number[] = [];
  const proxy = new MqttTapProxy({
    target: { host: '127.0.0.1', port: gw.port },
    onDevicePacket: (p) => ids.observe(p),
    onGatewayPacket: async (p): Promise<TapVerdict> => {
      if (p.cmd !== 'puback') return 'forward';
      // The PUBACK is held here: the device has not seen it yet.
      const seq = ids.take(p.messageId);
      checked++;
      if (seq === null || !reader.has(deviceId, seq)) notCommittedAtAck.push(seq ?? -1);
      return 'forward';
    },
  });
  t.after(() => proxy.close());
  await proxy.start();

  const client = await mqtt.connectAsync(proxy.url, { clientId: deviceId, clean: true, reconnectPeriod: 0, protocolVersion: 4 });
  t.after(() => client.endAsync(true));
  const total = 200;
  const window = 20;
  for (let first = 1; first <= total; first += window) {
    const batch: Promise<unknown>[] = [];
    for (let seq = first; seq < first + window; seq++) batch.push(client.publishAsync(`devices/${deviceId}/telemetry`, payloadFor(deviceId, seq), { qos: 1 }));
    await Promise.all(batch);
  }
  const rowsAtEnd = reader.rows();

  t.diagnostic(`PUBACKs checked on the wire: ${checked}; rows buffered at the end: ${rowsAtEnd}`);
  assert.equal(checked, total, 'every PUBACK passed the tap');
  assert.deepEqual(notCommittedAtAck, [], 'no PUBACK was on the wire before its row was committed');
  assert.equal(rowsAtEnd, total);
});

test('kill -9 between commit and ack: the message whose PUBACK never came is in Kafka after restart', async (t) => {
  const kafka = await sharedKafka();
  const { topic, dlqTopic } = uniqueTopics('ackkill');
  await kafka.createTopics([topic, dlqTopic], 3);

  // First life: Kafka unreachable, so the committed row certainly stays in the file until the kill.
  const first = new GatewayProcess({ config: { kafka: { brokers: UNREACHABLE_KAFKA, topic, dlqTopic } } });
  t.after(() => first.close());
  await first.start();
  const port = first.port;

  const deviceId = 'dev-00007';
  const victimSeq = 11;
  const ids = seqByMessageId();
  let withhold = true;
  let seenCommitted: boolean | null = null;
  let markWithheld!: () => void;
  const withheld = new Promise<void>((r) => (markWithheld = r));
  const proxy = new MqttTapProxy({
    target: { host: '127.0.0.1', port },
    onDevicePacket: (p) => ids.observe(p),
    onGatewayPacket: (p): TapVerdict => {
      if (p.cmd !== 'puback' || !withhold) return 'forward';
      if (ids.take(p.messageId) !== victimSeq) return 'forward';
      const reader = openBufferReader(first.dbPath);
      seenCommitted = reader.has(deviceId, victimSeq);
      reader.close();
      markWithheld();
      return 'drop'; // the device never learns the message was stored
    },
  });
  t.after(() => proxy.close());
  await proxy.start();

  const device = await mqtt.connectAsync(proxy.url, { clientId: deviceId, clean: true, reconnectPeriod: 0, protocolVersion: 4 });
  t.after(() => device.endAsync(true));
  const topicName = `devices/${deviceId}/telemetry`;
  for (let seq = 1; seq < victimSeq; seq++) await device.publishAsync(topicName, payloadFor(deviceId, seq), { qos: 1 });
  let victimAcked = false;
  device.publishAsync(topicName, payloadFor(deviceId, victimSeq), { qos: 1 }).then(
    () => (victimAcked = true),
    () => undefined, // connection lost: expected
  );
  await withheld;
  assert.equal(seenCommitted, true, 'the row was committed when the gateway wrote its PUBACK');

  const closed = new Promise<void>((r) => device.once('close', () => r()));
  await first.kill();
  await closed;
  assert.equal(victimAcked, false, 'the device never saw that PUBACK');
  withhold = false;

  // Second life: same files, same port, Kafka up. The device re-sends what it never saw acked.
  const second = new GatewayProcess({ dir: first.dir, config: { mqtt: { port }, kafka: { brokers: kafka.brokers, topic, dlqTopic } } });
  t.after(() => second.close());
  await second.start();
  const again = await mqtt.connectAsync(proxy.url, { clientId: deviceId, clean: true, reconnectPeriod: 0, protocolVersion: 4 });
  t.after(() => again.endAsync());
  const lastSeq = 20;
  for (let seq = victimSeq; seq <= lastSeq; seq++) await again.publishAsync(topicName, payloadFor(deviceId, seq), { qos: 1 });

  const encoder = createAvroEncoder({ gatewayId: 'audit', defaultTopic: topic, routes: [{ topic: 'devices/{deviceId}/telemetry' }] });
  let victimCopies = 0;
  const report = await auditKafka({
    brokers: kafka.brokers,
    topic,
    dlqTopic,
    codecs: encoder.allCodecs(),
    expect: { [deviceId]: { ackedContiguousTo: lastSeq } },
    timeoutMs: 60_000,
    onRecord: (env) => {
      if (env.deviceId === deviceId && deviceSeqOf(env.payload as Buffer) === victimSeq) victimCopies++;
    },
  });
  t.diagnostic(`records: ${report.records}, duplicates: ${report.duplicates}, copies of seq ${victimSeq}: ${victimCopies}`);
  assertNoLoss(report);
  assert.equal(victimCopies, 2, 'committed before the crash (forwarded from the buffer) and re-sent by the device');
  assert.equal(report.duplicates, 1, 'that one re-send is the only duplicate');
  assert.equal(report.records, lastSeq + 1);
});
