/**
 * Composition root: the only file that wires concrete stages together.
 *   ingest (aedes + publish gate) -> buffer (group commit -> SQLite) -> encode (Avro) -> forward (pump -> Kafka)
 */
import type { GatewayConfig } from './config/schema.js';
import { GroupCommitter } from './buffer/group-commit.js';
import { FlowControl, type FlowState } from './buffer/flow-control.js';
import { createExpiryTimer } from './buffer/expiry-timer.js';
import { logFlowChange } from './buffer/flow-log.js';
import { closeBufferDatabase, createSqliteBuffer, openBufferDatabase, type SqliteBuffer } from './buffer/sqlite-buffer.js';
import { createSqliteCrashGuard } from './buffer/sqlite-crash-guard.js';
import type { CrashGuard } from './buffer/crash-guard.js';
import { isGatewayError } from './errors.js';
import { createAvroEncoder, type AvroEncoder } from './encode/avro-encoder.js';
import { createRegistryClient, type RegistryClient } from './encode/registry-client.js';
import { createSchemaIdResolver, type SchemaIdResolver } from './encode/schema-id-resolver.js';
import { createSqliteSchemaIdStore } from './buffer/sqlite-schema-id-store.js';
import { readTlsClientOptions } from './config/tls-files.js';
import { createKafkaSink } from './forward/kafka-sink.js';
import { createForwardPump, type ForwardPump } from './forward/pump.js';
import { createPublishGate, type IngestCounters } from './ingest/publish-gate.js';
import { createMqttListener, listenerOf, type MqttListener, type SubscribeCounters } from './ingest/mqtt-listener.js';
import { createAcl, ReloadableAcl } from './ingest/acl.js';
import { diffConfig } from './config/apply-mode.js';
import { createAuthenticator, type AuthCounters, type CredentialVerifier, type LoginThrottle } from './ingest/authenticate.js';
import { allowsAnonymous, isLoopbackHost } from './config/mqtt-listener-schema.js';
import { effectiveListeners } from './config/mqtt-schema.js';
import { createIngestLimits } from './ingest/ingest-limits.js';
import { createDeviceActivity, type BusiestDevices } from './ingest/device-activity.js';
import type { LimitsSnapshot } from './ingest/limit-counters.js';
import { TopicRouteTable } from './lib/topic-route.js';
import { createDeviceCredentials } from './ingest/device-credentials.js';
import { createFailureThrottle, throttleKey, type FailureThrottle } from './lib/failure-throttle.js';
import type { Logger } from './lib/logger.js';
import type { PipelineObserver } from './lib/pipeline-observer.js';
import type { BufferStats } from './buffer/buffer.js';
import type { PumpStats } from './forward/pump.js';
import { DEVICE_CONFIG_TOPIC, type DeviceControlHooks, type DevicePort } from './control/device-port.js';

export interface GatewayStatus {
  gatewayId: string;
  mqtt: { host: string; port: number; listeners: Array<{ host: string; port: number; tls: boolean; anonymous: boolean }>; connectedClients: number };
  ingest: IngestCounters & { auth: AuthCounters; subscribe: SubscribeCounters; limits: LimitsSnapshot; busiest: BusiestDevices };
  buffer: BufferStats & { oldestAgeMs: number | null };
  flow: { state: FlowState; heldRecords: number; delayedAckGroups: number; maxSizeBytes: number; lastCommitError: { code: string; message: string; at: number } | null };
  forward: PumpStats;
}

export interface Gateway {
  start(): Promise<{ host: string; port: number }>;
  status(): GatewayStatus;
  /** The frozen config this gateway runs (the last one given to reconfigure). */
  readonly config: Readonly<GatewayConfig>;
  /**
   * Applies a config that differs from the running one only in live fields (config/apply-mode.ts)
   * without closing a connection. Throws (changing nothing) when a rebuild field differs or the
   * new routes do not build; the caller dry-runs first.
   */
  reconfigure(next: Readonly<GatewayConfig>): void;
  /** Health signals the control room's health window watches. */
  health(): GatewayHealth;
  /** Re-reads the TLS listeners' certificate files (SIGHUP); established connections stay. */
  reloadTls(): Array<{ index: number; ok: boolean; error?: string }>;
  /** Graceful: stop accepting, finish commits and acks, give Kafka `forwardGraceMs` (default forward.shutdownGraceMs), close the DB. */
  close(opts?: { forwardGraceMs?: number }): Promise<void>;
  /**
   * The process is dying of `err` (uncaught exception): synchronously records the buffer rows in
   * flight in the crash guard. Returns the guard written, null when no row was in flight; never throws.
   */
  recordCrash(err: unknown): { guard: CrashGuard | null; error?: string };
  /** Publishes on the devices' downstream topics (device configuration). */
  readonly devicePort: DevicePort;
}

export interface GatewayHealth {
  /** Every listener is bound (start() resolved and close() not begun). */
  listening: boolean;
  /** The forward pump reaches Kafka now. */
  kafkaUp: boolean;
  /** Encoding time (epoch ms) of the newest batch Kafka acknowledged: proves the topics in use work. */
  lastAckedEncodedAt: number;
  /** Rows waiting in the buffer (0: nothing to prove a send with). */
  bufferedRows: number;
  /** The last buffer commit failed and is being retried (publishes held). */
  bufferFailing: boolean;
}

export interface GatewayDeps {
  logger: Logger;
  /** better-sqlite3 native addon path (single-executable builds). */
  sqliteNativeBinding?: string | undefined;
  /** Device credentials (username = device id); without one, only anonymous and certificate logins. */
  credentials?: CredentialVerifier;
  loginThrottle?: LoginThrottle;
  /** Device configuration (control room): config acks and connected devices go here. */
  deviceControl?: DeviceControlHooks;
  /** Commit and send timings for the metrics histograms (control room); none when absent. */
  observer?: PipelineObserver;
}

/** Failed logins slow down later attempts from the same source (IPv6 by /64). */
function loginThrottleOf(t: FailureThrottle): LoginThrottle {
  return {
    delayMs: (source) => t.admit(throttleKey(source)),
    recordFailure: (source) => t.recordFailure(throttleKey(source)),
    // A success does not clear the record: one valid credential must not reset guessing penalties.
    recordSuccess: () => undefined,
  };
}

export function createGateway(config: Readonly<GatewayConfig>, deps: GatewayDeps): Gateway {
  const log = deps.logger;
  // Read first, before the buffer opens: a bad file fails the start with the field named.
  const kafkaTls = config.kafka.tls.enabled ? readTlsClientOptions('kafka.tls', config.kafka.tls) : undefined;
  const registryClient = config.kafka.valueFormat === 'registry' ? registryClientFor(config, log) : null;
  // One file: the buffer and the stores that must survive with it (crash guard, schema ids,
  // device credentials). This gateway opens it, hands it to each, and closes it last.
  const db = openBufferDatabase({ path: config.buffer.path, synchronous: config.buffer.synchronous, nativeBinding: deps.sqliteNativeBinding });
  const buffer: SqliteBuffer = createSqliteBuffer(db, { deadLetterMaxRows: config.buffer.deadLetterMaxRows, dropLogMaxRows: config.buffer.dropLogMaxRows });
  const crashGuard = createSqliteCrashGuard(db, () => buffer.leasedRange());
  let current = config;
  const resolver: SchemaIdResolver | null =
    registryClient === null
      ? null
      : createSchemaIdResolver({
          client: registryClient,
          store: createSqliteSchemaIdStore(db),
          autoRegister: config.kafka.schemaRegistry!.autoRegister,
          retryMaxMs: config.kafka.schemaRegistry!.retryMaxMs,
          logger: log,
          onResolved: () => pump?.notify(),
        });
  const encoderFor = (c: Readonly<GatewayConfig>): AvroEncoder => {
    const e = createAvroEncoder({
      gatewayId: c.gatewayId,
      defaultTopic: c.kafka.topic,
      routes: c.mqtt.routes,
      registry: resolver === null ? undefined : { ids: resolver, strategy: c.kafka.schemaRegistry!.subjectNameStrategy, dlqTopic: c.kafka.dlqTopic },
    });
    resolver?.want(e.schemaRefs());
    return e;
  };
  const encoder = encoderFor(config);
  const sink = createKafkaSink({
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
    onChange: (from, to, bytes) => logFlowChange(log, from, to, bytes, current.buffer.maxSizeBytes, buffer.stats().droppedTotal),
  });
  let lastCommitError: { code: string; message: string; at: number } | null = null;
  const committer = new GroupCommitter(buffer, {
    maxRecords: config.buffer.commitMaxRecords,
    lingerMs: config.buffer.commitLingerMs,
    releaseSlice: config.buffer.ackSliceRecords,
    observer: deps.observer,
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
  let routeTable = new TopicRouteTable(config.mqtt.routes.map((r) => r.topic));
  const deviceControl = deps.deviceControl;
  const limits = createIngestLimits({
    limits: config.mqtt.limits,
    maxPayloadBytes: config.mqtt.maxPayloadBytes,
    isRoutedTopic: (t) => routeTable.resolve(t) !== null,
    exemptRetained: deviceControl ? (t) => deviceControl.enabled() && DEVICE_CONFIG_TOPIC.match(t) !== null : undefined,
    logger: log,
  });
  // Busiest devices over the last 30-60 s; at most one id per allowed connection (0 = unlimited: 10,000).
  const activity = createDeviceActivity({ maxDevices: config.mqtt.limits.maxConnections || 10_000, windowMs: 30_000 });
  const gate = createPublishGate({
    routes: config.mqtt.routes.map((r) => r.topic),
    maxPayloadBytes: config.mqtt.maxPayloadBytes,
    unrouted: config.mqtt.unrouted,
    committer,
    warnLog: limits.warnLog,
    logFieldMaxChars: limits.logFieldMaxChars,
    deviceControl,
    activity,
  });
  const listeners = effectiveListeners(config.mqtt);
  let listener: MqttListener | null = null;
  const acl = new ReloadableAcl(createAcl({ rules: config.mqtt.acl, sysTopics: config.mqtt.sysTopics }));
  const auth = createAuthenticator({
    acl,
    credentials: deps.credentials ?? createDeviceCredentials(db),
    throttle: deps.loginThrottle ?? loginThrottleOf(createFailureThrottle()),
    listenerOf,
    sentEmptyClientId: (client) => listener?.sentEmptyClientId(client) ?? false,
    connectedMethod: (clientId) => listener?.connectedMethod(clientId),
    maxPendingLogins: config.mqtt.limits.maxPendingLogins,
    logger: log,
    warnLog: limits.warnLog,
    logFieldMaxChars: limits.logFieldMaxChars,
  });
  listener = createMqttListener({
    listeners,
    connectTimeoutMs: config.mqtt.connectTimeoutMs,
    maxClientIdLength: config.mqtt.maxClientIdLength,
    authenticate: auth.authenticate,
    authorizePublish: gate.authorizePublish,
    limits,
    logger: log,
    onDeviceConnected: deviceControl ? (id) => deviceControl.onDeviceConnected(id) : undefined,
  });
  const mqtt: MqttListener = listener;
  pump = createForwardPump({
    buffer,
    encoder,
    sink,
    logger: log,
    dlqTopic: config.kafka.dlqTopic,
    dlqMaxValueBytes: config.kafka.dlqMaxValueBytes,
    batchMaxRecords: config.kafka.batchMaxRecords,
    batchMaxBytes: config.kafka.batchMaxBytes,
    lingerMs: config.kafka.lingerMs,
    retryInitialMs: config.kafka.retryInitialMs,
    retryMaxMs: config.kafka.retryMaxMs,
    onAcked: () => {
      flow.update(buffer.stats().bytes, false);
      committer.kick();
    },
    crashGuard,
    crashLimit: config.forward.crashLimit,
    observer: deps.observer,
  });
  let address = { host: listeners[0]!.host, port: listeners[0]!.port };
  let closing: Promise<void> | null = null;
  let listening = false;

  return {
    async start() {
      const st = buffer.stats();
      log.info({ event: 'buffer_open', path: config.buffer.path, synchronous: config.buffer.synchronous, bufferedRows: st.rows, bufferedBytes: st.bytes }, 'buffer opened');
      const bound = await mqtt.start();
      address = { host: bound[0]!.host, port: bound[0]!.port };
      for (const b of bound) {
        const anonymous = allowsAnonymous(b.config);
        log.info(
          { event: 'mqtt_listening', host: b.host, port: b.port, tls: b.tls, clientCert: b.config.tls?.clientCert ?? 'none', anonymous, routes: config.mqtt.routes.map((r) => r.topic) },
          `MQTT listening on ${b.host}:${b.port}${b.tls ? ' (TLS)' : ''}`,
        );
        if (anonymous && !isLoopbackHost(b.config.host)) {
          log.warn({ event: 'anonymous_listener', host: b.host, port: b.port }, 'anonymous clients allowed on a non-loopback listener: anyone who reaches this port can connect');
        }
      }
      log.info({ event: 'forward_start', brokers: config.kafka.brokers, topic: config.kafka.topic, tls: config.kafka.tls.enabled, sasl: config.kafka.sasl?.mechanism ?? false }, 'forwarding to Kafka');
      const t = config.kafka.tls;
      if (!t.enabled && [t.caFile, t.certFile, t.keyFile, t.serverName].some((v) => v !== undefined)) {
        // Files without enabled: true mean plaintext; say so rather than look like TLS is on.
        log.warn({ event: 'kafka_tls_disabled' }, 'kafka.tls files are set but kafka.tls.enabled is false: connecting to Kafka WITHOUT TLS');
      }
      pump!.start();
      expiry.start();
      listening = true;
      return address;
    },
    get config() {
      return current;
    },
    reconfigure(next) {
      const change = diffConfig(current, next);
      if (change.rebuild.length > 0) throw new Error(`not live: ${change.rebuild.join(', ')}`);
      if (change.live.length === 0) {
        current = next;
        return;
      }
      // Build what can fail first; then swap, so a throw changes nothing.
      const nextEncoder = encoderFor(next);
      const nextAcl = createAcl({ rules: next.mqtt.acl, sysTopics: next.mqtt.sysTopics });
      const b = next.buffer;
      const k = next.kafka;
      log.level = next.log.level;
      routeTable = new TopicRouteTable(next.mqtt.routes.map((r) => r.topic));
      gate.reconfigure({ routes: next.mqtt.routes.map((r) => r.topic), unrouted: next.mqtt.unrouted });
      acl.replace(nextAcl);
      flow.reconfigure({ maxSizeBytes: b.maxSizeBytes, highWatermark: b.highWatermark, lowWatermark: b.lowWatermark, maxAckDelayMs: b.maxAckDelayMs });
      committer.reconfigure({ lingerMs: b.commitLingerMs, overflowPolicy: b.overflowPolicy });
      expiry.setMaxAgeSecs(b.maxAgeSecs);
      pump!.reconfigure({ encoder: nextEncoder, dlqTopic: k.dlqTopic, dlqMaxValueBytes: k.dlqMaxValueBytes, batchMaxRecords: k.batchMaxRecords, batchMaxBytes: k.batchMaxBytes, lingerMs: k.lingerMs, retryInitialMs: k.retryInitialMs, retryMaxMs: k.retryMaxMs });
      current = next;
      flow.update(buffer.stats().bytes, false);
      committer.kick();
      log.info({ event: 'config_live_applied', fields: change.live }, `applied live: ${change.live.join(', ')}`);
    },
    health() {
      const p = pump!.stats();
      return { listening, kafkaUp: p.kafkaUp, lastAckedEncodedAt: p.lastAckedEncodedAt, bufferedRows: buffer.stats().rows, bufferFailing: flow.state === 'diskError' };
    },
    status() {
      return {
        gatewayId: config.gatewayId,
        mqtt: {
          ...address,
          listeners: mqtt.addresses.map((b) => ({ host: b.host, port: b.port, tls: b.tls, anonymous: allowsAnonymous(b.config) })),
          connectedClients: mqtt.connectedClients,
        },
        ingest: { ...gate.counters, auth: auth.counters, subscribe: mqtt.subscribeCounters, limits: limits.snapshot(), busiest: activity.busiest(5) },
        buffer: withAge(buffer.stats()),
        flow: { state: flow.state, heldRecords: committer.pending, delayedAckGroups: committer.delayed, maxSizeBytes: current.buffer.maxSizeBytes, lastCommitError },
        forward: pump!.stats(),
      };
    },
    reloadTls() {
      const results = mqtt.reloadTls();
      for (const r of results) {
        if (r.ok) log.info({ event: 'tls_reloaded', listener: r.index }, 'TLS certificates reloaded');
        else log.error({ event: 'tls_reload_failed', listener: r.index, reason: r.error }, 'TLS reload failed; keeping the previous certificates');
      }
      return results;
    },
    devicePort: { publishRetained: (topic, payload) => mqtt.publishRetained(topic, payload) },
    recordCrash(err) {
      try {
        const code = isGatewayError(err) ? err.code : err instanceof Error ? err.name : typeof err;
        return { guard: crashGuard.recordCrash(code) };
      } catch (e) {
        return { guard: null, error: (e as Error)?.message ?? String(e) };
      }
    },
    close(opts) {
      closing ??= (async () => {
        log.info({ event: 'shutdown_begin' }, 'shutting down');
        listening = false;
        mqtt.stopAccepting();
        // Commit what devices already sent and release delayed acks, so they go out before the
        // sockets are ended (end() flushes queued writes).
        committer.flush();
        committer.releaseDelayed();
        await mqtt.close();
        committer.flush();
        committer.close();
        expiry.close();
        activity.close();
        await pump!.stop(opts?.forwardGraceMs ?? current.forward.shutdownGraceMs);
        await sink.close().catch((err) => log.warn({ event: 'kafka_producer_close_failed', err }, 'Kafka producer close failed'));
        resolver?.close();
        const st = buffer.stats();
        buffer.close();
        closeBufferDatabase(db);
        log.info({ event: 'shutdown_complete', bufferedRows: st.rows }, 'shutdown complete');
      })();
      return closing;
    },
  };
}

/** The client of kafka.schemaRegistry (valueFormat: registry); its TLS files are read here, before anything opens. */
function registryClientFor(config: Readonly<GatewayConfig>, log: Logger): RegistryClient {
  const r = config.kafka.schemaRegistry!;
  const https = r.url.startsWith('https:');
  if (!https && (r.tls.caFile !== undefined || r.tls.certFile !== undefined)) {
    log.warn({ event: 'registry_tls_unused', url: r.url }, 'kafka.schemaRegistry.tls files are set but the url is http://: the registry is reached WITHOUT TLS');
  }
  const tls = https ? readTlsClientOptions('kafka.schemaRegistry.tls', { ...r.tls }) : undefined;
  const client = createRegistryClient({ url: r.url, auth: r.auth, tls, requestTimeoutMs: r.requestTimeoutMs });
  log.info({ event: 'registry_format', registry: client.displayUrl, subjectNameStrategy: r.subjectNameStrategy, autoRegister: r.autoRegister }, `values in Schema Registry format (${client.displayUrl})`);
  return client;
}

function withAge(s: BufferStats): BufferStats & { oldestAgeMs: number | null } {
  return { ...s, oldestAgeMs: s.oldestReceivedAt === null ? null : Math.max(0, Date.now() - s.oldestReceivedAt) };
}
