/**
 * DeviceConfigStore on a real, migrated SQLite file: desired versions only rise (replays of a
 * re-read topic change nothing), tombstones clear unless replayed, own devices are provisioned or
 * seen, acks are recorded by the rules of the state machine, and the status-dirty revision
 * survives a reopen.
 */
import assert from 'node:assert/strict';
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { test, type TestContext } from 'node:test';
import type { Database } from 'better-sqlite3';
import { openBufferDatabase } from '../../../gateway/src/buffer/sqlite-buffer.js';
import { configState, parseConfigAck, parseDesiredConfig } from '../../../gateway/src/control/device-config-record.js';
import { createDeviceConfigStore, type DeviceConfigStore } from '../../../gateway/src/control/device-config-store.js';
import { isGatewayError } from '../../../gateway/src/errors.js';

function dbPath(t: TestContext): string {
  const dir = mkdtempSync(join(tmpdir(), 'gw-devcfg-'));
  t.after(() => rmSync(dir, { recursive: true, force: true }));
  return join(dir, 'buffer.db');
}

function open(t: TestContext, path: string): Database {
  const db = openBufferDatabase({ path, synchronous: 'FULL' });
  t.after(() => db.close());
  return db;
}

const src = (offset: number, partition = 0) => ({ partition, offset: BigInt(offset) });
const desired = (version: number, config: object = { publishIntervalMs: 100 }) => ({ version, configJson: JSON.stringify(config) });

function provision(db: Database, id: string): void {
  db.prepare('INSERT INTO device_credentials (device_id, secret_hash, created_at) VALUES (?, ?, ?)').run(id, 'scrypt$x', Date.now());
}

function stateOf(store: DeviceConfigStore, id: string): string {
  return configState(store.get(id)!);
}

test('desired versions only rise; a re-read of the topic is a replay; tombstones clear unless replayed', (t) => {
  const store = createDeviceConfigStore(open(t, dbPath(t)));
  assert.equal(store.applyDesired('a', desired(2), src(10)), 'stored');
  assert.equal(store.applyDesired('a', desired(2), src(10)), 'replay', 'the same record again');
  assert.equal(store.applyDesired('a', desired(1), src(5)), 'replay', 'an older version');
  assert.equal(store.get('a')!.desiredVersion, 2);
  assert.equal(store.applyDesired('a', desired(3, { x: 1 }), src(11)), 'stored');
  assert.equal(store.get('a')!.desiredConfig, '{"x":1}');

  assert.equal(store.applyDesired('a', null, src(11)), 'replay', 'a tombstone at or below the offset that set the config');
  assert.equal(store.applyDesired('a', null, src(12)), 'cleared');
  assert.equal(store.get('a')!.desiredConfig, null);
  assert.equal(stateOf(store, 'a'), 'cleared');
  assert.equal(store.applyDesired('a', null, src(13)), 'unchanged', 'already cleared');
  assert.equal(store.applyDesired('a', desired(3), src(11)), 'replay', 'versions keep rising across a tombstone');
  assert.equal(store.applyDesired('a', desired(4), src(14)), 'stored');
  assert.equal(store.applyDesired('nobody', null, src(1)), 'unchanged', 'a tombstone for a device without a row');
});

test('own devices: provisioned here or seen here; first sightings are reported once; the seen table is bounded', (t) => {
  const db = open(t, dbPath(t));
  let now = 1000;
  const store = createDeviceConfigStore(db, { maxSeenDevices: 3, now: () => now });
  provision(db, 'prov');
  assert.equal(store.isOwn('prov'), true);
  assert.equal(store.isOwn('x'), false);
  assert.deepEqual(store.recordSeen(['x', 'y']), ['x', 'y']);
  now = 2000;
  assert.deepEqual(store.recordSeen(['x', 'z']), ['z'], 'x was seen before');
  assert.equal(store.isOwn('x'), true);
  assert.equal(store.seenDevices, 3);
  // y was seen longest ago (1000) and has no config row: it goes first when the bound bites.
  store.applyDesired('x', desired(1), src(0));
  now = 3000;
  assert.deepEqual(store.recordSeen(['w']), ['w']);
  assert.equal(store.seenDevices, 3);
  assert.equal(store.isOwn('y'), false, 'the longest unseen device without a config was forgotten');
  assert.equal(store.isOwn('x'), true, 'a device with a config row is kept');
});

test('delivery marks only the version still desired; acks follow the state machine', (t) => {
  const store = createDeviceConfigStore(open(t, dbPath(t)));
  store.applyDesired('a', desired(1), src(0));
  assert.equal(stateOf(store, 'a'), 'pending');
  assert.equal(store.markDelivered('a', 1, 1), true);
  assert.equal(store.markDelivered('a', 1, 1), false, 'already delivered: no change');
  assert.equal(stateOf(store, 'a'), 'delivered');
  const ack = (version: number, state: 'applied' | 'rejected', reason?: string) => ({ version, state, reason: reason ?? null });

  assert.equal(store.recordAck('a', ack(2, 'applied')), 'ahead', 'a version above the desired one');
  assert.equal(store.recordAck('a', ack(1, 'applied')), 'recorded');
  assert.equal(stateOf(store, 'a'), 'applied');
  assert.equal(store.recordAck('a', ack(1, 'applied')), 'unchanged', 'the same answer again (after a reconnect)');

  store.applyDesired('a', desired(2), src(1));
  assert.equal(store.markDelivered('a', 1, 1), false, 'a newer desired version arrived: the old delivery does not mark it');
  assert.equal(stateOf(store, 'a'), 'pending', 'the ack of v1 does not answer for v2');
  assert.equal(store.get('a')!.ackedVersion, 1);
  store.markDelivered('a', 2, 2);
  assert.equal(store.recordAck('a', ack(2, 'rejected', 'publishIntervalMs must be > 0')), 'recorded');
  assert.equal(stateOf(store, 'a'), 'rejected');
  assert.equal(store.get('a')!.ackReason, 'publishIntervalMs must be > 0');
  assert.equal(store.recordAck('a', ack(1, 'applied')), 'stale', 'a late answer for an older version');
  assert.equal(store.recordAck('b', ack(1, 'applied')), 'no_config');
  store.applyDesired('a', null, src(2));
  assert.equal(store.recordAck('a', ack(2, 'applied')), 'no_config', 'cleared');
});

test('status revisions: every change is dirty until marked sent, across a reopen', (t) => {
  const path = dbPath(t);
  const db1 = openBufferDatabase({ path, synchronous: 'FULL' });
  const s1 = createDeviceConfigStore(db1);
  s1.applyDesired('a', desired(1), src(0));
  s1.applyDesired('b', desired(1), src(1));
  assert.deepEqual(s1.idsStatusDirty(), ['a', 'b']);
  s1.markStatusSent('a', s1.get('a')!.revision);
  s1.markDelivered('b', 1, 1);
  const rev = s1.get('b')!.revision;
  s1.markStatusSent('b', rev - 1);
  assert.deepEqual(s1.idsStatusDirty(), ['b'], 'an older revision sent leaves the newer one dirty');
  assert.deepEqual(s1.idsUndelivered(), ['a']);
  assert.deepEqual(s1.idsWithConfig(), ['a', 'b']);
  db1.close();
  const s2 = createDeviceConfigStore(open(t, path));
  assert.deepEqual(s2.idsStatusDirty(), ['b']);
  s2.markStatusSent('b', rev);
  assert.deepEqual(s2.idsStatusDirty(), []);
});

test('wire formats: desired records and acks are parsed strictly', () => {
  assert.deepEqual(parseDesiredConfig(Buffer.from('{"version":3,"config":{"publishIntervalMs":100}}')), { version: 3, configJson: '{"publishIntervalMs":100}' });
  const bad = [
    'nope',
    '[]',
    '{"version":0,"config":{}}',
    '{"version":1.5,"config":{}}',
    `{"version":${2 ** 53},"config":{}}`,
    '{"version":1,"config":[]}',
    '{"version":1}',
    '{"version":1,"config":{},"extra":1}',
    `{"version":1,"config":${'['.repeat(40)}${']'.repeat(40)}}`,
    `{"version":1,"config":{"pad":"${'x'.repeat(64 * 1024)}"}}`,
  ];
  for (const text of bad) assert.throws(() => parseDesiredConfig(Buffer.from(text)), (e: unknown) => isGatewayError(e, 'GW_ERR_DEVICE_CONFIG_INVALID'), text.slice(0, 60));

  assert.deepEqual(parseConfigAck(Buffer.from('{"version":1,"state":"applied"}')), { version: 1, state: 'applied', reason: null });
  assert.deepEqual(parseConfigAck(Buffer.from('{"version":2,"state":"rejected","reason":"no"}')), { version: 2, state: 'rejected', reason: 'no' });
  for (const text of ['', '{}', '{"version":1,"state":"done"}', '{"version":-1,"state":"applied"}', '{"version":1,"state":"applied","reason":5}', '{"version":1,"state":"applied","x":1}']) {
    assert.throws(() => parseConfigAck(Buffer.from(text)), (e: unknown) => isGatewayError(e, 'GW_ERR_DEVICE_CONFIG_ACK_INVALID'), text);
  }
});
