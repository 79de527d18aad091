/**
 * Prometheus metrics (prom-client), collected at scrape time from the running pipeline's status
 * snapshot: every counter keeps its one owner (the stage that counts, see GatewayStatus), and
 * this file only maps a snapshot to metric values. The snapshot is taken once per scrape. Only
 * what a snapshot cannot hold is recorded as it happens: the histograms, fed once per commit and
 * once per Kafka send through the PipelineObserver the pipeline is built with.
 *
 * Counters come from the pipeline running now: a rebuild starts its stages' counts at 0 again,
 * which Prometheus treats like a process restart (rate() and increase() handle the reset).
 */
import { collectDefaultMetrics, Counter, Gauge, Histogram, Registry } from 'prom-client';
import { FlowState } from '../buffer/flow-control.js';
import type { GatewayStatus } from '../gateway.js';
import type { PipelineObserver } from '../lib/pipeline-observer.js';
import type { HeapTrimStats } from './heap-trim.js';

type Values = number | Readonly<Record<string, number>>;

/** One metric read from the snapshot: a number, or a value per label (`label`). */
export interface SnapshotMetric {
  name: string;
  help: string;
  type: 'counter' | 'gauge';
  label?: string;
  read(s: GatewayStatus): Values;
}

const limitCounters = (s: GatewayStatus): Record<string, number> => {
  const out: Record<string, number> = {};
  for (const [k, v] of Object.entries(s.ingest.limits)) {
    // LimitCounters end in Total; the rest of LimitsSnapshot are gauges (connections, queued...).
    if (k.endsWith('Total')) out[snakeCase(k.slice(0, -'Total'.length))] = v;
  }
  return out;
};

/** Every snapshot metric, in exposition order (the README's table lists the same). */
export const SNAPSHOT_METRICS: readonly SnapshotMetric[] = [
  { name: 'gateway_ingest_connections', type: 'gauge', help: 'MQTT clients connected now', read: (s) => s.mqtt.connectedClients },
  { name: 'gateway_ingest_auth_accepted_total', type: 'counter', label: 'method', help: 'MQTT logins accepted, by method', read: (s) => s.ingest.auth.acceptedTotal },
  { name: 'gateway_ingest_auth_refused_total', type: 'counter', label: 'reason', help: 'MQTT logins refused (CONNACK 4/5), by reason', read: (s) => s.ingest.auth.refusedTotal },
  { name: 'gateway_ingest_publishes_accepted_total', type: 'counter', help: 'Publishes on a route accepted for the buffer', read: (s) => s.ingest.acceptedTotal },
  { name: 'gateway_ingest_publishes_rejected_total', type: 'counter', label: 'code', help: 'Publishes rejected before buffering, by error code', read: (s) => s.ingest.rejectedTotal },
  { name: 'gateway_ingest_publishes_local_total', type: 'counter', help: 'Publishes outside every route delivered as local broker traffic (never forwarded)', read: (s) => s.ingest.localTotal },
  { name: 'gateway_ingest_limit_hits_total', type: 'counter', label: 'limit', help: 'Times an mqtt.limits bound bit, by bound', read: limitCounters },
  { name: 'gateway_buffer_rows', type: 'gauge', help: 'Rows waiting to be forwarded (leased ones included)', read: (s) => s.buffer.rows },
  { name: 'gateway_buffer_bytes', type: 'gauge', help: 'Accounted bytes of those rows', read: (s) => s.buffer.bytes },
  { name: 'gateway_buffer_capacity_bytes', type: 'gauge', help: 'buffer.maxSizeBytes in effect', read: (s) => s.flow.maxSizeBytes },
  { name: 'gateway_buffer_fill_ratio', type: 'gauge', help: 'bytes / capacity (watermarks apply to this)', read: (s) => (s.flow.maxSizeBytes > 0 ? s.buffer.bytes / s.flow.maxSizeBytes : 0) },
  { name: 'gateway_buffer_oldest_age_seconds', type: 'gauge', help: 'Age of the oldest buffered row (0 when empty)', read: (s) => (s.buffer.oldestAgeMs ?? 0) / 1000 },
  {
    name: 'gateway_buffer_flow_state',
    type: 'gauge',
    label: 'state',
    help: 'Flow state: 1 for the state in effect (open, slowing, full, diskError), 0 for the others',
    read: (s) => Object.fromEntries(Object.values(FlowState).map((st) => [st, st === s.flow.state ? 1 : 0])),
  },
  { name: 'gateway_buffer_held_records', type: 'gauge', help: 'Publishes waiting for a group commit (held while full or on disk errors)', read: (s) => s.flow.heldRecords },
  { name: 'gateway_buffer_appended_total', type: 'counter', help: 'Records committed to the buffer', read: (s) => s.buffer.appendedTotal },
  { name: 'gateway_buffer_acked_total', type: 'counter', help: 'Rows deleted after Kafka acknowledged them', read: (s) => s.buffer.ackedTotal },
  { name: 'gateway_buffer_dead_lettered_total', type: 'counter', label: 'code', help: 'Records moved to the dead_letters table, by code', read: (s) => s.buffer.deadLetteredByCode },
  { name: 'gateway_buffer_dead_letter_rows', type: 'gauge', help: 'Rows in the local dead_letters table', read: (s) => s.buffer.deadLetterRows },
  { name: 'gateway_buffer_dropped_total', type: 'counter', label: 'reason', help: 'Unsent rows dropped by policy (overflow under dropOldest, expired), by reason', read: (s) => s.buffer.droppedTotal },
  { name: 'gateway_forward_kafka_up', type: 'gauge', help: '1 while the forwarder reaches Kafka, else 0', read: (s) => (s.forward.kafkaUp ? 1 : 0) },
  { name: 'gateway_forward_waiting', type: 'gauge', help: '1 while buffered records wait for a Schema Registry id (valueFormat: registry), else 0', read: (s) => (s.forward.waitingFor !== null ? 1 : 0) },
  { name: 'gateway_forward_batches_total', type: 'counter', help: 'Sends Kafka acknowledged (acks=all)', read: (s) => s.forward.batchesTotal },
  { name: 'gateway_forward_records_total', type: 'counter', help: 'Messages Kafka acknowledged (DLQ messages included)', read: (s) => s.forward.sentTotal },
  { name: 'gateway_forward_bytes_total', type: 'counter', help: 'Encoded value bytes Kafka acknowledged', read: (s) => s.forward.sentBytesTotal },
  { name: 'gateway_forward_errors_total', type: 'counter', label: 'code', help: 'Failed Kafka connects and sends (each retry counts), by error code', read: (s) => s.forward.sendErrorsByCode },
  { name: 'gateway_forward_dlq_records_total', type: 'counter', label: 'code', help: 'Dead letters Kafka acknowledged on the DLQ topic, by code', read: (s) => s.forward.dlqSentByCode },
  { name: 'gateway_forward_dlq_undeliverable_total', type: 'counter', label: 'code', help: 'Dead letters kept only in the local dead_letters table (the DLQ topic refused them or they could not be encoded for it), by code', read: (s) => s.forward.dlqUndeliverableByCode },
  { name: 'gateway_forward_poison_rows_total', type: 'counter', help: 'Rows dead-lettered unsent by the crash breaker', read: (s) => s.forward.poisonRowsTotal },
  { name: 'gateway_forward_unknown_fields_dropped_total', type: 'counter', help: 'JSON fields left out of typed records because the route schema does not declare them (unknownFields: drop)', read: (s) => s.forward.unknownFieldsDroppedTotal },
  { name: 'gateway_forward_unknown_field_records_total', type: 'counter', help: 'Typed records sent with undeclared JSON fields left out (unknownFields: drop)', read: (s) => s.forward.unknownFieldRecordsTotal },
];

export interface GatewayMetricsOptions {
  /** The pipeline running now (null while none is). */
  status(): GatewayStatus | null;
  /** Static labels of gateway_info. */
  info(): Record<string, string>;
  /**
   * A scrape asked for within this many ms of the last one's start gets that one's text (and
   * concurrent scrapes share one): scraping in a tight loop, by however many clients, costs one
   * exposition per interval, not the event loop the MQTT side needs. Default 1000; 0 = every time.
   */
  reuseMs?: number;
  now?: () => number;
  /** The control room's heap trim (absent: its metrics are not exported). */
  memoryTrim?: () => HeapTrimStats;
}

export interface GatewayMetrics {
  readonly contentType: string;
  /** The Prometheus text exposition, from one snapshot taken now. */
  scrape(): Promise<string>;
  /** Stable for the process: every pipeline is built with it. Records only while enabled. */
  readonly observer: PipelineObserver;
  /** Admin on: observe, and sample the event loop and memory (default metrics). */
  setEnabled(on: boolean): void;
  readonly registry: Registry;
}

const SECONDS_BUCKETS = [0.0005, 0.001, 0.0025, 0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1, 2.5, 5, 10];
const LATENCY_BUCKETS = [0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1, 2.5, 5, 10, 30, 60, 300, 900, 3600];

export function createGatewayMetrics(o: GatewayMetricsOptions): GatewayMetrics {
  const registry = new Registry();
  let snap: GatewayStatus | null = null;
  let enabled = false;
  let defaults = false;
  const reuseMs = o.reuseMs ?? 1000;
  const now = o.now ?? Date.now;
  let last: { at: number; text: Promise<string> } | null = null;

  for (const m of SNAPSHOT_METRICS) {
    const labelNames = m.label ? [m.label] : [];
    const collect = function (this: Counter | Gauge): void {
      if (snap === null) return;
      const v = m.read(snap);
      this.reset();
      if (typeof v === 'number') {
        if (m.type === 'counter') (this as Counter).inc(v);
        else (this as Gauge).set(v);
        return;
      }
      for (const [k, n] of Object.entries(v)) {
        if (m.type === 'counter') (this as Counter).inc({ [m.label!]: k }, n);
        else (this as Gauge).set({ [m.label!]: k }, n);
      }
    };
    if (m.type === 'counter') new Counter({ name: m.name, help: m.help, labelNames, registers: [registry], collect });
    else new Gauge({ name: m.name, help: m.help, labelNames, registers: [registry], collect });
  }
  new Gauge({
    name: 'gateway_info',
    help: 'Always 1; labels: version, gateway id and the config in effect',
    labelNames: ['version', 'gateway_id', 'config_source', 'config_version', 'config_hash'],
    registers: [registry],
    collect() {
      this.reset();
      this.set(o.info(), 1);
    },
  });

  const memoryTrim = o.memoryTrim;
  if (memoryTrim) {
    const gauge = (name: string, help: string, read: (t: HeapTrimStats) => number) =>
      new Gauge({ name, help, registers: [registry], collect() { this.set(read(memoryTrim())); } });
    new Counter({ name: 'gateway_memory_trims_total', help: 'Memory-reducing GCs run by the heap trim (memory.trim)', registers: [registry], collect() { this.reset(); this.inc(memoryTrim().trimsTotal); } });
    gauge('gateway_memory_trim_available', '1 if the heap trim could get V8\'s memory-reducing collector (memory.trim on and working)', (t) => (t.available ? 1 : 0));
    gauge('gateway_memory_trim_pause_seconds', 'Event-loop pause of the last heap trim', (t) => t.lastPauseMs / 1000);
    gauge('gateway_memory_trim_freed_bytes', 'Anonymous resident memory the last heap trim returned to the OS (RssAnon before - after)', (t) => t.lastFreedBytes);
  }

  const commitSize = new Histogram({
    name: 'gateway_buffer_commit_size_records',
    help: 'Records per group commit (one SQLite transaction)',
    buckets: [1, 2, 4, 8, 16, 32, 64, 128, 256, 512, 1024, 2048],
    registers: [registry],
  });
  const commitSeconds = new Histogram({ name: 'gateway_buffer_commit_duration_seconds', help: 'Group commit duration, fsync included', buckets: SECONDS_BUCKETS, registers: [registry] });
  const sendSeconds = new Histogram({ name: 'gateway_forward_send_duration_seconds', help: 'Kafka send until acknowledged (acks=all), per send', buckets: SECONDS_BUCKETS, registers: [registry] });
  const ackLatency = new Histogram({
    name: 'gateway_forward_publish_ack_latency_seconds',
    help: 'From the gateway reading a publish to Kafka acknowledging its record (buffering during outages included), per record',
    buckets: LATENCY_BUCKETS,
    registers: [registry],
  });

  const observer: PipelineObserver = {
    committed(records, seconds) {
      if (!enabled) return;
      commitSize.observe(records);
      commitSeconds.observe(seconds);
    },
    sent(seconds) {
      if (enabled) sendSeconds.observe(seconds);
    },
    acked(records, ackedAtMs) {
      if (!enabled) return;
      for (let i = 0; i < records.length; i++) ackLatency.observe(Math.max(0, ackedAtMs - records[i]!.receivedAt) / 1000);
    },
  };

  return {
    contentType: registry.contentType,
    registry,
    observer,
    scrape() {
      const t = now();
      if (last !== null && t - last.at < reuseMs && t >= last.at) return last.text;
      const text = (async () => {
        snap = o.status();
        try {
          return await registry.metrics();
        } finally {
          snap = null;
        }
      })();
      const entry = { at: t, text };
      last = entry;
      // A failed scrape is not reused.
      text.catch(() => {
        if (last === entry) last = null;
      });
      return text;
    },
    setEnabled(on) {
      enabled = on;
      if (on && !defaults) {
        // Process memory, CPU, event-loop lag (perf_hooks.monitorEventLoopDelay), GC, handles.
        collectDefaultMetrics({ register: registry, prefix: 'gateway_' });
        defaults = true;
      }
    },
  };
}

function snakeCase(s: string): string {
  return s.replace(/[A-Z]/g, (c) => `_${c.toLowerCase()}`);
}
