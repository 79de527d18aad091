/**
 * AuditLedger bookkeeping (no Kafka): gaps, duplicates, order, keys, acknowledged-but-missing,
 * expected dead letters; deviceSeqOf for JSON, typed records and malformed JSON text.
 */
import assert from 'node:assert/strict';
import { test } from 'node:test';
import { AuditLedger, deviceSeqOf, type AuditRecord } from '../../../gateway/src/audit/audit-report.js';

function feed(ledger: AuditLedger, deviceId: string, seqs: number[], over: Partial<AuditRecord> = {}): void {
  for (const s of seqs) ledger.add({ key: deviceId, deviceId, deviceSeq: s, partition: 0, ...over });
}

test('contiguous seqs from several devices -> ok', () => {
  const l = new AuditLedger();
  feed(l, 'a', [1, 2, 3, 4]);
  feed(l, 'b', [1, 2]);
  const r = l.report('telemetry.raw', { a: { ackedContiguousTo: 4 }, b: { ackedContiguousTo: 2 } });
  assert.equal(r.ok, true);
  assert.equal(r.topic, 'telemetry.raw');
  assert.equal(r.records, 6);
  assert.equal(r.devices, 2);
  assert.equal(r.gaps, 0);
  assert.equal(r.duplicates, 0);
  assert.equal(r.outOfOrder, 0);
  assert.equal(r.missingAcked, 0);
  assert.deepEqual(r.problems, []);
});

test('a missing seq -> gaps 1, ok false, listed in problems', () => {
  const l = new AuditLedger();
  feed(l, 'a', [1, 2, 4, 5]);
  const r = l.report('t');
  assert.equal(r.gaps, 1);
  assert.equal(r.ok, false);
  assert.deepEqual(r.problems, [{ deviceId: 'a', gaps: [3], missingAcked: [], duplicates: 0, outOfOrder: 0, partitions: [0] }]);
});

test('without an expectation, gaps are counted from the lowest seq seen', () => {
  const l = new AuditLedger();
  feed(l, 'a', [5, 6, 7]);
  assert.equal(l.report('t').ok, true);
  const withExpect = l.report('t', { a: { ackedContiguousTo: 7 } });
  assert.equal(withExpect.gaps, 4);
  assert.equal(withExpect.missingAcked, 4);
});

test('duplicate -> counted, ok stays true', () => {
  const l = new AuditLedger();
  feed(l, 'a', [1, 2, 2, 3, 1]);
  const r = l.report('t');
  assert.equal(r.duplicates, 2);
  assert.equal(r.outOfOrder, 0, 'a re-delivered seq is a duplicate, not out of order');
  assert.equal(r.ok, true);
  assert.equal(r.problems[0]?.duplicates, 2);
});

test('a lower never-seen seq after a higher one -> outOfOrder, ok false', () => {
  const l = new AuditLedger();
  feed(l, 'a', [1, 3, 2, 4]);
  const r = l.report('t');
  assert.equal(r.outOfOrder, 1);
  assert.equal(r.gaps, 0);
  assert.equal(r.ok, false);
});

test('key != deviceId -> keyMismatches, ok false', () => {
  const l = new AuditLedger();
  feed(l, 'a', [1]);
  l.add({ key: 'b', deviceId: 'a', deviceSeq: 2, partition: 0 });
  l.add({ key: null, deviceId: 'a', deviceSeq: 3, partition: 0 });
  const r = l.report('t');
  assert.equal(r.keyMismatches, 2);
  assert.equal(r.ok, false);
});

test('ackedContiguousTo beyond what was seen -> missingAcked', () => {
  const l = new AuditLedger();
  feed(l, 'a', [1, 2, 3]);
  const r = l.report('t', { a: { ackedContiguousTo: 5 } });
  assert.equal(r.missingAcked, 2);
  assert.deepEqual(r.problems[0]?.missingAcked, [4, 5]);
  assert.equal(r.ok, false);
});

test('an expected device with nothing in Kafka -> expectedDevicesMissing', () => {
  const l = new AuditLedger();
  feed(l, 'a', [1]);
  const r = l.report('t', { a: { ackedContiguousTo: 1 }, ghost: { ackedContiguousTo: 2 }, idle: { ackedContiguousTo: 0 } });
  assert.equal(r.expectedDevicesMissing, 1);
  assert.equal(r.missingAcked, 2);
  assert.equal(r.ok, false);
});

test('dead-lettered malformed seqs are accounted for (no gap) and counted as found', () => {
  const l = new AuditLedger();
  feed(l, 'a', [1, 2, 4, 5]);
  l.addDeadLetter('a', 3, 'GW_ERR_ENCODE_PAYLOAD_NOT_JSON');
  l.addDeadLetter('a', null, 'GW_ERR_ENCODE_SCHEMA_MISMATCH');
  const r = l.report('t', { a: { ackedContiguousTo: 5, malformedSeqs: [3, 6] } });
  assert.equal(r.gaps, 0);
  assert.equal(r.missingAcked, 0);
  assert.deepEqual(r.dlq, {
    records: 2,
    byCode: { GW_ERR_ENCODE_PAYLOAD_NOT_JSON: 1, GW_ERR_ENCODE_SCHEMA_MISMATCH: 1 },
    malformedExpected: 2,
    malformedFound: 1,
  });
  assert.equal(r.ok, true);
});

test('a dead letter of another device does not fill this device gap', () => {
  const l = new AuditLedger();
  feed(l, 'a', [1, 3]);
  l.addDeadLetter('b', 2, 'X');
  assert.equal(l.report('t').gaps, 1);
});

test('deliberate drops (drop log) fill gaps without counting as loss; drops also delivered are counted', () => {
  const l = new AuditLedger();
  feed(l, 'a', [1, 2, 5, 6]);
  l.addDeliberateDrop('a', 3, 'overflow');
  l.addDeliberateDrop('a', 4, 'expired');
  l.addDeliberateDrop('a', 6, 'overflow'); // dropped and yet in Kafka (sent before the drop)
  l.addDeliberateDrop('a', null, 'expired');
  const r = l.report('t', { a: { ackedContiguousTo: 6 } });
  assert.equal(r.gaps, 0);
  assert.equal(r.missingAcked, 0);
  assert.equal(r.ok, true);
  assert.deepEqual(r.deliberateDrops, { records: 4, byReason: { overflow: 2, expired: 2 }, alsoDelivered: 1 });
});

test('one device on several partitions is flagged; records without seq are counted', () => {
  const l = new AuditLedger();
  feed(l, 'a', [1]);
  feed(l, 'a', [2], { partition: 1 });
  l.add({ key: 'a', deviceId: 'a', deviceSeq: null, partition: 0 });
  const r = l.report('t');
  assert.equal(r.devicesOnSeveralPartitions, 1);
  assert.equal(r.noSeq, 1);
  assert.equal(r.records, 3);
  assert.equal(r.ok, false);
  assert.deepEqual(r.problems[0]?.partitions, [0, 1]);
});

test('undecodable records make the report fail', () => {
  const l = new AuditLedger();
  feed(l, 'a', [1]);
  l.undecodable = 1;
  assert.equal(l.report('t').ok, false);
});

test('problems list is capped at 20 devices', () => {
  const l = new AuditLedger();
  for (let d = 0; d < 25; d++) feed(l, `d${d}`, [1, 3]);
  const r = l.report('t');
  assert.equal(r.gaps, 25);
  assert.equal(r.problems.length, 20);
});

test('deviceSeqOf: JSON payload, typed record, malformed JSON text', () => {
  assert.equal(deviceSeqOf(Buffer.from('{"seq":17,"temperature":1}')), 17);
  assert.equal(deviceSeqOf(Buffer.from('{"temperature":1,"seq":0}')), 0);
  assert.equal(deviceSeqOf({ temperature: 21.5, seq: 9 }), 9);
  assert.equal(deviceSeqOf({ temperature: 21.5, seq: '9' }), null);
  assert.equal(deviceSeqOf({ temperature: 21.5 }), null);
  assert.equal(deviceSeqOf(Buffer.from('{"seq": 42, "temperature": ')), 42, 'regex fallback for malformed JSON');
  assert.equal(deviceSeqOf(Buffer.from('not json at all')), null);
  assert.equal(deviceSeqOf(Buffer.from([0xff, 0x00, 0x01])), null);
});
