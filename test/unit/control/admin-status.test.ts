/**
 * The /status JSON: built from the heartbeat record and the pipeline's status(), or from the
 * record alone while no pipeline runs (a rebuild).
 */
import assert from 'node:assert/strict';
import { test } from 'node:test';
import { buildAdminStatus } from '../../../gateway/src/control/admin-status.js';
import { STATUS_KIND, type GatewayStatusRecord } from '../../../gateway/src/control/status-record.js';
import type { GatewayStatus } from '../../../gateway/src/gateway.js';

const record: GatewayStatusRecord = {
  kind: STATUS_KIND,
  schemaVersion: 1,
  gatewayId: 'pi-1',
  at: '2026-01-01T00:00:00.000Z',
  config: { version: 3, hash: 'h'.repeat(64), source: 'pushed', lastResult: { version: 4, state: 'rolled_back', code: 'GW_ERR_CONTROL_UNHEALTHY', reason: 'Kafka not reached', at: '2026-01-01T00:00:00.000Z' } },
  heartbeat: {
    uptimeSecs: 61,
    binaryVersion: '0.1.0',
    node: 'v20.19.0',
    devicesConnected: 9,
    buffer: { rows: 5, bytes: 500, oldestAgeMs: 1234 },
    kafka: { up: false, lastError: 'connect ECONNREFUSED' },
    deadLetteredTotal: 2,
    droppedTotal: 7,
  },
};

const pipeline = {
  gatewayId: 'pi-1',
  mqtt: { host: '127.0.0.1', port: 1883, listeners: [], connectedClients: 12 },
  ingest: {
    acceptedTotal: 1000,
    localTotal: 0,
    willsNotForwardedTotal: 0,
    configAcksTotal: 0,
    rejectedTotal: { GW_ERR_INGEST_TOPIC_UNROUTED: 2, GW_ERR_INGEST_IDENTITY: 1 },
    auth: {},
    subscribe: {},
    limits: {},
    busiest: { windowMs: 40_000, untracked: 0, devices: [{ deviceId: 'd1', messages: 600 }] },
  },
  buffer: { rows: 50, bytes: 256, oldestReceivedAt: 1, oldestAgeMs: 900, deadLetterRows: 3, appendedTotal: 1000, ackedTotal: 950, deadLetteredTotal: 3, droppedTotal: { overflow: 4, expired: 1 } },
  flow: { state: 'slowing', heldRecords: 0, delayedAckGroups: 0, maxSizeBytes: 1024, lastCommitError: null },
  forward: { kafkaUp: true, sentTotal: 947, batchesTotal: 20, sendErrorsTotal: 1, deadLetteredTotal: 3, poisonRowsTotal: 0, lastSendMs: 6, lastAckedEncodedAt: 0, lastError: null },
} as unknown as GatewayStatus;

test('with a pipeline: its counters, the record for config and uptime', () => {
  const s = buildAdminStatus(record, pipeline, Date.UTC(2026, 0, 1, 0, 0, 5));
  assert.equal(s.kind, 'edge-gateway-admin-status');
  assert.equal(s.at, '2026-01-01T00:00:05.000Z');
  assert.equal(s.atMs, Date.UTC(2026, 0, 1, 0, 0, 5));
  assert.equal(s.pipelineRunning, true);
  assert.deepEqual(s.config, { version: 3, source: 'pushed', hash: record.config.hash, lastResult: record.config.lastResult });
  assert.deepEqual(s.devices, { connected: 12, busiest: [{ deviceId: 'd1', messages: 600 }], busiestWindowMs: 40_000 });
  assert.deepEqual(s.ingest, { acceptedTotal: 1000, rejectedTotal: 3, rejectedByCode: { GW_ERR_INGEST_TOPIC_UNROUTED: 2, GW_ERR_INGEST_IDENTITY: 1 } });
  assert.deepEqual(s.forward, { sentTotal: 947, batchesTotal: 20, sendErrorsTotal: 1, lastSendMs: 6 });
  assert.deepEqual(s.buffer, { rows: 50, bytes: 256, maxSizeBytes: 1024, fill: 0.25, oldestAgeMs: 900, flow: 'slowing' });
  assert.deepEqual(s.kafka, { up: true, lastError: null });
  assert.deepEqual(s.deadLetters, { total: 3, rows: 3 });
  assert.deepEqual(s.drops, { total: 5, byReason: { overflow: 4, expired: 1 } });
  assert.equal(s.uptimeSecs, 61);
  assert.deepEqual(JSON.parse(JSON.stringify(s)), s, 'plain JSON');
});

test('without a pipeline (rebuilding): the heartbeat fields, counters at 0', () => {
  const s = buildAdminStatus(record, null, 0);
  assert.equal(s.pipelineRunning, false);
  assert.equal(s.devices.connected, 9);
  assert.deepEqual(s.devices.busiest, []);
  assert.equal(s.ingest.acceptedTotal, 0);
  assert.deepEqual(s.buffer, { rows: 5, bytes: 500, maxSizeBytes: 0, fill: 0, oldestAgeMs: 1234, flow: 'stopped' });
  assert.deepEqual(s.kafka, { up: false, lastError: 'connect ECONNREFUSED' });
  assert.deepEqual(s.deadLetters, { total: 2, rows: 0 });
  assert.deepEqual(s.drops, { total: 7, byReason: {} });
});
