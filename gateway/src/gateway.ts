/**
 * Composition root: the only file that wires concrete stages together.
 *   ingest (aedes + publish gate) -> buffer (group commit -> SQLite) -> encode (Avro) -> forward (pump -> Kafka)
 */
import type { GatewayConfig } from './config/schema.js';
import { GroupCommitter } from './buffer/group-commit.js';
import { FlowControl, type FlowState } from './buffer/flow-control.js';
import { createExpiryTimer } from './buffer/expiry-timer.js';
import { logFlowChange } from './buffer/flow-log.js';
import { createSqliteBuffer, type SqliteBuffer } from './buffer/sqlite-buffer.js';
import { createAvroEncoder } from './encode/avro-encoder.js';
import { readTlsClientOptions } from './config/tls-files.js';
import { createKafkaSink } from './forward/kafka-sink.js';
import { createForwardPump, type ForwardPump } from './forward/pump.js';
import { createPublishGate, type IngestCounters } from './ingest/publish-gate.js';
import { createMqttListener, type MqttListener } from './ingest/mqtt-listener.js';
import type { Logger } from './lib/logger.js';
import type { BufferStats } from './buffer/buffer.js';
import type { PumpStats } from './forward/pump.js';
import type { TelemetrySink } from './forward/sink.js';

export interface GatewayStatus {
  gatewayId: string;
  mqtt: { host: string; port: number; connectedClients: number };
  ingest: IngestCounters;
  buffer: BufferStats & { oldestAgeMs: number | null };
  flow: { state: FlowState; heldRecords: number; delayedAckGroups: number; maxSizeBytes: number; lastCommitError: { code: string; message: string; at: number } | null };
  forward: PumpStats;
}

export interface Gateway {
  start(): Promise<{ host: string; port: number }>;
  status(): GatewayStatus;
  /** Graceful: stop accepting, finish commits and acks, give Kafka `forwardGraceMs`, close the DB. */
  close(opts?: { forwardGraceMs?: number }): Promise<void>;
}

export interface GatewayDeps {
  logger: Logger;
  /** better-sqlite3 native addon path (single-executable builds). */
  sqliteNativeBinding?: string | undefined;
  /** Replace the Kafka sink (unit tests only; integration tests use real Kafka). */
  sink?: TelemetrySink;
}

export function createGateway(config: Readonly<GatewayConfig>, deps: GatewayDeps): Gateway {
  const log = deps.logger;
  // Read first, before the buffer opens: a bad file fails the start with the field named.
  const kafkaTls = config.kafka.tls.enabled && !deps.sink ? readTlsClientOptions('kafka.tls', config.kafka.tls) : undefined;
  const buffer: SqliteBuffer = createSqliteBuffer({
    path: config.buffer.path,
    synchronous: config.buffer.synchronous,
    deadLetterMaxRows: config.buffer.deadLetterMaxRows,
    dropLogMaxRows: config.buffer.dropLogMaxRows,
    nativeBinding: deps.sqliteNativeBinding,
  });
  const encoder = createAvroEncoder({ gatewayId: config.gatewayId, defaultTopic: config.kafka.topic, routes: config.mqtt.routes });
  const sink =
    deps.sink ??
    createKafkaSink({
      brokers: config.kafka.brokers,
      clientId: config.kafka.clientId,
      compression: config.kafka.compression,
      connectionTimeoutMs: config.kafka.connectionTimeoutMs,
      requestTimeoutMs: config.kafka.requestTimeoutMs,
      allowAutoTopicCreation: config.kafka.allowAutoTopicCreation,
      sasl: config.kafka.sasl,
      tls: kafkaTls,
      logger: log,
    });
  let pump: ForwardPump | null = null;
  const flow = new FlowControl({
    maxSizeBytes: config.buffer.maxSizeBytes,
    highWatermark: config.buffer.highWatermark,
    lowWatermark: config.buffer.lowWatermark,
    maxAckDelayMs: config.buffer.maxAckDelayMs,
    onChange: (from, to, bytes) => logFlowChange(log, from, to, bytes, config.buffer.maxSizeBytes, buffer.stats().droppedTotal),
  });
  let lastCommitError: { code: string; message: string; at: number } | null = null;
  const committer = new GroupCommitter(buffer, {
    maxRecords: config.buffer.commitMaxRecords,
    lingerMs: config.buffer.commitLingerMs,
    releaseSlice: config.buffer.ackSliceRecords,
    overflowPolicy: config.buffer.overflowPolicy,
    flow,
    onCommit: (n, evicted) => {
      if (evicted > 0) log.debug({ evicted }, 'evicted oldest rows (dropOldest)');
      if (n > 0) pump?.notify();
    },
    onCommitError: (err) => {
      lastCommitError = { code: err.code, message: err.message, at: Date.now() };
      log.debug({ code: err.code, err: err.message }, 'buffer commit failed; publishes held, retrying');
    },
  });
  const expiry = createExpiryTimer(buffer, config.buffer.maxAgeSecs, log, () => flow.update(buffer.stats().bytes, false));
  const gate = createPublishGate({
    routes: config.mqtt.routes.map((r) => r.topic),
    maxPayloadBytes: config.mqtt.maxPayloadBytes,
    requireClientIdMatch: true,
    committer,
    logger: log,
  });
  const listener: MqttListener = createMqttListener({
    host: config.mqtt.host,
    port: config.mqtt.port,
    connectTimeoutMs: config.mqtt.connectTimeoutMs,
    maxClientIdLength: 128,
    authorizePublish: gate.authorizePublish,
    logger: log,
  });
  pump = createForwardPump({
    buffer,
    encoder,
    sink,
    logger: log,
    dlqTopic: config.kafka.dlqTopic,
    batchMaxRecords: config.kafka.batchMaxRecords,
    batchMaxBytes: config.kafka.batchMaxBytes,
    lingerMs: config.kafka.lingerMs,
    retryInitialMs: config.kafka.retryInitialMs,
    retryMaxMs: config.kafka.retryMaxMs,
    onAcked: () => {
      flow.update(buffer.stats().bytes, false);
      committer.kick();
    },
  });
  let address = { host: config.mqtt.host, port: config.mqtt.port };
  let closing: Promise<void> | null = null;
  let statsTimer: NodeJS.Timeout | null = null;

  return {
    async start() {
      const st = buffer.stats();
      log.info({ event: 'buffer_open', path: config.buffer.path, synchronous: config.buffer.synchronous, bufferedRows: st.rows, bufferedBytes: st.bytes }, 'buffer opened');
      const addr = await listener.start();
      address = { host: addr.address, port: addr.port };
      log.info({ event: 'mqtt_listening', host: addr.address, port: addr.port, routes: config.mqtt.routes.map((r) => r.topic) }, `MQTT listening on ${addr.address}:${addr.port}`);
      log.info({ event: 'forward_start', brokers: config.kafka.brokers, topic: config.kafka.topic, tls: config.kafka.tls.enabled, sasl: config.kafka.sasl?.mechanism ?? false }, 'forwarding to Kafka');
      const t = config.kafka.tls;
      if (!t.enabled && [t.caFile, t.certFile, t.keyFile, t.serverName].some((v) => v !== undefined)) {
        // Files without enabled: true mean plaintext; say so rather than look like TLS is on.
        log.warn({ event: 'kafka_tls_disabled' }, 'kafka.tls files are set but kafka.tls.enabled is false: connecting to Kafka WITHOUT TLS');
      }
      pump!.start();
      expiry.start();
      if (config.log.statsIntervalSecs > 0) {
        statsTimer = setInterval(() => log.info({ event: 'stats', ...statsLine(this.status()) }, 'stats'), config.log.statsIntervalSecs * 1000).unref();
      }
      return address;
    },
    status() {
      return {
        gatewayId: config.gatewayId,
        mqtt: { ...address, connectedClients: listener.connectedClients },
        ingest: gate.counters,
        buffer: withAge(buffer.stats()),
        flow: { state: flow.state, heldRecords: committer.pending, delayedAckGroups: committer.delayed, maxSizeBytes: config.buffer.maxSizeBytes, lastCommitError },
        forward: pump!.stats(),
      };
    },
    close(opts) {
      closing ??= (async () => {
        log.info({ event: 'shutdown_begin' }, 'shutting down');
        if (statsTimer) clearInterval(statsTimer);
        listener.stopAccepting();
        // Commit what devices already sent and release delayed acks, so they go out before the
        // sockets are ended (end() flushes queued writes).
        committer.flush();
        committer.releaseDelayed();
        await listener.close();
        committer.flush();
        committer.close();
        expiry.close();
        await pump!.stop(opts?.forwardGraceMs ?? 10_000);
        await sink.close().catch((err) => log.warn({ err: (err as Error).message }, 'Kafka producer close failed'));
        const st = buffer.stats();
        buffer.close();
        log.info({ event: 'shutdown_complete', bufferedRows: st.rows }, 'shutdown complete');
      })();
      return closing;
    },
  };
}

function withAge(s: BufferStats): BufferStats & { oldestAgeMs: number | null } {
  return { ...s, oldestAgeMs: s.oldestReceivedAt === null ? null : Math.max(0, Date.now() - s.oldestReceivedAt) };
}

/** The periodic `stats` log line: counters an operator greps for, plus process memory. */
function statsLine(s: GatewayStatus): Record<string, unknown> {
  const mem = process.memoryUsage();
  return {
    clients: s.mqtt.connectedClients,
    accepted: s.ingest.acceptedTotal,
    bufferedRows: s.buffer.rows,
    bufferedBytes: s.buffer.bytes,
    oldestAgeMs: s.buffer.oldestAgeMs,
    flow: s.flow.state,
    acked: s.buffer.ackedTotal,
    deadLettered: s.buffer.deadLetteredTotal,
    dropped: s.buffer.droppedTotal,
    kafkaUp: s.forward.kafkaUp,
    sendErrors: s.forward.sendErrorsTotal,
    rssBytes: mem.rss,
    heapUsedBytes: mem.heapUsed,
    heapTotalBytes: mem.heapTotal,
    externalBytes: mem.external,
  };
}
