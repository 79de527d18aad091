/**
 * The metrics mapping: a pipeline status snapshot becomes metric values at scrape time (each
 * counter read from its one owner), and the histograms fill only while the admin side is on.
 */
import { test } from 'node:test';
import assert from 'node:assert/strict';
import type { MetricObject, MetricValue } from 'prom-client';
import { createGatewayMetrics, SNAPSHOT_METRICS } from '../../../gateway/src/control/gateway-metrics.js';
import type { GatewayStatus } from '../../../gateway/src/gateway.js';

function fakeStatus(): GatewayStatus {
  return {
    gatewayId: 'gw-1',
    mqtt: { host: '127.0.0.1', port: 1883, listeners: [], connectedClients: 7 },
    ingest: {
      acceptedTotal: 120,
      localTotal: 2,
      willsNotForwardedTotal: 0,
      configAcksTotal: 0,
      rejectedTotal: { GW_ERR_INGEST_TOPIC_UNROUTED: 3, GW_ERR_INGEST_PAYLOAD_TOO_LARGE: 1 },
      auth: { acceptedTotal: { password: 5, certificate: 1, anonymous: 0 }, refusedTotal: { bad_credentials: 4 } },
      subscribe: { grantedTotal: 0, deniedTotal: 0, forwardDeniedTotal: 0 },
      limits: {
        packetTooLargeTotal: 2, malformedFrameTotal: 0, connectionsRefusedTotal: 0, connectionsRefusedPerAddressTotal: 0, keepaliveRefusedTotal: 0,
        subscriptionsRefusedTotal: 0, queuedDroppedTotal: 0, slowSubscriberDroppedTotal: 0, slowSubscriberDisconnectedTotal: 0,
        retainedIgnoredRoutedTotal: 0, retainedDroppedTotal: 0, qos2RefusedTotal: 0, publishesThrottledTotal: 0,
        connections: 7, retainedMessages: 0, retainedBytes: 0, retainedExemptMessages: 0, retainedExemptBytes: 0, queuedMessages: 0, storedQos2Packets: 0,
      },
      busiest: { windowMs: 30_000, devices: [], untracked: 0 },
    },
    buffer: {
      rows: 40, bytes: 2500, oldestReceivedAt: 1, oldestAgeMs: 1500, deadLetterRows: 2, appendedTotal: 118, ackedTotal: 76,
      deadLetteredTotal: 2, deadLetteredByCode: { GW_ERR_ENCODE_SCHEMA_MISMATCH: 2 }, droppedTotal: { overflow: 5, expired: 0 },
    },
    flow: { state: 'slowing', heldRecords: 3, delayedAckGroups: 0, maxSizeBytes: 10_000, lastCommitError: null },
    forward: {
      kafkaUp: true, sentTotal: 78, sentBytesTotal: 9000, batchesTotal: 6, sendErrorsTotal: 3, sendErrorsByCode: { GW_ERR_FORWARD_CONNECT: 3 },
      poisonRowsTotal: 0, dlqSentByCode: { GW_ERR_FORWARD_REJECTED: 1 }, dlqUndeliverableByCode: {}, unknownFieldsDroppedTotal: 0, unknownFieldRecordsTotal: 0, lastSendMs: 4, lastAckedEncodedAt: 0, lastError: null, waitingFor: null,
    },
  };
}

async function scrape(status: GatewayStatus | null, enabled = true, observe?: (m: ReturnType<typeof createGatewayMetrics>) => void) {
  const m = createGatewayMetrics({ status: () => status, info: () => ({ version: '0.1.0', gateway_id: 'gw-1', config_source: 'file', config_version: '', config_hash: 'abc' }) });
  m.setEnabled(enabled);
  observe?.(m);
  await m.scrape();
  // scrape() took the snapshot; read the values prom-client collected from it.
  const byName = new Map<string, MetricObject & { values: MetricValue<string>[] }>();
  const collected = (await m.registry.getMetricsAsJSON()) as Array<MetricObject & { values: MetricValue<string>[] }>;
  for (const x of collected) byName.set(x.name, x);
  return { m, byName };
}

function value(byName: Map<string, { values: MetricValue<string>[] }>, name: string, labels: Record<string, string> = {}): number | undefined {
  return byName.get(name)?.values.find((v) => Object.entries(labels).every(([k, l]) => v.labels[k] === l))?.value;
}

test('a snapshot maps to one value per metric, labelled maps by label', async () => {
  const status = fakeStatus();
  const m = createGatewayMetrics({ status: () => status, info: () => ({}), reuseMs: 0 });
  const text = await m.scrape();
  for (const def of SNAPSHOT_METRICS) assert.match(text, new RegExp(`^# TYPE ${def.name} ${def.type}$`, 'm'), def.name);
  const line = (s: string) => assert.ok(text.split('\n').includes(s), `missing line: ${s}`);
  line('gateway_ingest_connections 7');
  line('gateway_ingest_publishes_accepted_total 120');
  line('gateway_ingest_publishes_rejected_total{code="GW_ERR_INGEST_TOPIC_UNROUTED"} 3');
  line('gateway_ingest_auth_refused_total{reason="bad_credentials"} 4');
  line('gateway_ingest_auth_accepted_total{method="password"} 5');
  line('gateway_ingest_limit_hits_total{limit="packet_too_large"} 2');
  line('gateway_buffer_rows 40');
  line('gateway_buffer_fill_ratio 0.25');
  line('gateway_buffer_oldest_age_seconds 1.5');
  line('gateway_buffer_flow_state{state="slowing"} 1');
  line('gateway_buffer_flow_state{state="open"} 0');
  line('gateway_buffer_dead_lettered_total{code="GW_ERR_ENCODE_SCHEMA_MISMATCH"} 2');
  line('gateway_buffer_dropped_total{reason="overflow"} 5');
  line('gateway_forward_kafka_up 1');
  line('gateway_forward_records_total 78');
  line('gateway_forward_bytes_total 9000');
  line('gateway_forward_errors_total{code="GW_ERR_FORWARD_CONNECT"} 3');
  line('gateway_forward_dlq_records_total{code="GW_ERR_FORWARD_REJECTED"} 1');
  assert.doesNotMatch(text, /dead_lettered_total\{[^}]*\} 4/, 'dead letters are counted once');
});

test('every metric is named gateway_<stage>_<thing>[_unit], counters end in _total', () => {
  for (const def of SNAPSHOT_METRICS) {
    assert.match(def.name, /^gateway_(ingest|buffer|forward)_[a-z_]+$/, def.name);
    assert.equal(def.name.endsWith('_total'), def.type === 'counter', def.name);
  }
  assert.equal(new Set(SNAPSHOT_METRICS.map((d) => d.name)).size, SNAPSHOT_METRICS.length, 'names are unique');
});

test('the next scrape reads the pipeline of that moment (a rebuild: new counts)', async () => {
  let status: GatewayStatus | null = fakeStatus();
  const m = createGatewayMetrics({ status: () => status, info: () => ({}), reuseMs: 0 });
  assert.match(await m.scrape(), /^gateway_ingest_publishes_accepted_total 120$/m);
  status = { ...fakeStatus(), ingest: { ...fakeStatus().ingest, acceptedTotal: 3 } };
  assert.match(await m.scrape(), /^gateway_ingest_publishes_accepted_total 3$/m);
});

test('histograms fill from the observer only while enabled', async () => {
  const rec = [{ receivedAt: 1_000 }, { receivedAt: 1_500 }];
  const off = await scrape(fakeStatus(), false, (m) => {
    m.observer.committed(10, 0.002);
    m.observer.sent(0.01);
    m.observer.acked(rec, 2_000);
  });
  assert.equal(value(off.byName, 'gateway_buffer_commit_size_records', { le: '+Inf' }), 0);
  assert.equal(off.byName.has('gateway_nodejs_eventloop_lag_seconds'), false, 'no event-loop monitor while off');

  const on = await scrape(fakeStatus(), true, (m) => {
    m.observer.committed(10, 0.002);
    m.observer.sent(0.01);
    m.observer.acked(rec, 2_000);
  });
  const count = (name: string) => on.byName.get(name)!.values.find((v) => (v as { metricName?: string }).metricName === `${name}_count`)?.value;
  const sum = (name: string) => on.byName.get(name)!.values.find((v) => (v as { metricName?: string }).metricName === `${name}_sum`)?.value;
  assert.equal(count('gateway_buffer_commit_size_records'), 1);
  assert.equal(sum('gateway_buffer_commit_size_records'), 10);
  assert.equal(count('gateway_buffer_commit_duration_seconds'), 1);
  assert.equal(count('gateway_forward_send_duration_seconds'), 1);
  assert.equal(count('gateway_forward_publish_ack_latency_seconds'), 2, 'one observation per record');
  assert.equal(sum('gateway_forward_publish_ack_latency_seconds'), 1.5);
  assert.ok(on.byName.has('gateway_nodejs_eventloop_lag_seconds'));
  assert.ok(on.byName.has('gateway_process_resident_memory_bytes'));
});

test('no pipeline (between rebuilds): the scrape still answers, with gateway_info', async () => {
  const { byName } = await scrape(null);
  assert.equal(value(byName, 'gateway_info', { gateway_id: 'gw-1' }), 1);
});

test('scrapes in a tight loop or side by side share one exposition per reuse interval', async () => {
  let t = 1000;
  let snapshots = 0;
  let status = fakeStatus();
  const m = createGatewayMetrics({ status: () => (snapshots++, status), info: () => ({}), reuseMs: 1000, now: () => t });
  const side = await Promise.all(Array.from({ length: 50 }, () => m.scrape()));
  for (let i = 0; i < 50; i++) await m.scrape();
  assert.equal(snapshots, 1);
  assert.equal(new Set(side).size, 1);
  status = { ...fakeStatus(), ingest: { ...fakeStatus().ingest, acceptedTotal: 7 } };
  t += 1000;
  assert.match(await m.scrape(), /^gateway_ingest_publishes_accepted_total 7$/m);
  assert.equal(snapshots, 2);
});

test('the heap trim\'s counts are exported when the control room passes them', async () => {
  const trim = { available: true, trimsTotal: 2, lastPauseMs: 250, lastFreedBytes: 70 * 1024 * 1024 };
  const m = createGatewayMetrics({ status: () => fakeStatus(), info: () => ({}), reuseMs: 0, memoryTrim: () => trim });
  const text = await m.scrape();
  const line = (s: string) => assert.ok(text.split('\n').includes(s), `missing line: ${s}`);
  line('gateway_memory_trims_total 2');
  line('gateway_memory_trim_available 1');
  line('gateway_memory_trim_pause_seconds 0.25');
  line(`gateway_memory_trim_freed_bytes ${70 * 1024 * 1024}`);
  trim.trimsTotal = 3;
  assert.match(await m.scrape(), /^gateway_memory_trims_total 3$/m, 'read at each scrape');
  const without = await createGatewayMetrics({ status: () => fakeStatus(), info: () => ({}), reuseMs: 0 }).scrape();
  assert.doesNotMatch(without, /gateway_memory_trim/);
});
