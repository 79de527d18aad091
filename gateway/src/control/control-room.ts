/**
 * The control room, beside the pipeline and never on its hot path: the supervisor (the
 * pipeline's lifetime), the remote config client, the status/heartbeat publisher, the stats log,
 * the heap trim,
 * device configuration, and the admin HTTP server (probes, /status, /metrics), which outlives
 * pipeline rebuilds and always reads the pipeline running now. `run-command.ts` creates it; `gateway.ts` knows nothing of it.
 */
import { openBufferDatabase } from '../buffer/sqlite-buffer.js';
import { readConfigFile } from '../config/load-config.js';
import { applyEnvOverrides } from '../config/env-overrides.js';
import type { GatewayConfig } from '../config/schema.js';
import { createGateway, type Gateway, type GatewayDeps } from '../gateway.js';
import type { Logger } from '../lib/logger.js';
import { createConfigStore } from './config-store.js';
import { createDeviceConfigService, type DeviceConfigService } from './device-config-service.js';
import type { DeviceControlHooks } from './device-port.js';
import { describeError, gatewayError } from '../errors.js';
import type { KafkaLink } from './kafka-link.js';
import { createKafkaLink } from './kafka-link-impl.js';
import { createRemoteConfigClient, type RemoteConfigClient } from './remote-config.js';
import { createAdminServer, readiness, type AdminServer } from './admin-server.js';
import { buildAdminStatus } from './admin-status.js';
import { createGatewayMetrics } from './gateway-metrics.js';
import { gatewayVersion } from '../cli/version.js';
import { createHeapTrim } from './heap-trim.js';
import { createStatsLog } from './stats-log.js';
import { createStatusSnapshot } from './status-snapshot.js';
import { createStatusPublisher, type StatusPublisher } from './status-publisher.js';
import { createSupervisor, type Supervisor } from './supervisor.js';
import type { ConfigResult } from './status-record.js';

export interface ControlRoomOptions {
  /** The local file's config, validated (the bootstrap). */
  fileConfig: Readonly<GatewayConfig>;
  /** Where it came from (SIGHUP re-reads it); undefined = embedded defaults. */
  configPath: string | undefined;
  logger: Logger;
  gatewayDeps: Omit<GatewayDeps, 'logger'>;
  /** Nothing runs any more (no config starts): exit, and let systemd restart the process. */
  onStranded(reason: string): void;
}

export interface ControlRoom {
  start(): Promise<void>;
  supervisor: Supervisor;
  /** SIGHUP: re-read the local file (same validate/dry-run/apply path) and the TLS certificates. */
  reload(): Promise<ConfigResult | null>;
  recordCrash(err: unknown): ReturnType<Gateway['recordCrash']>;
  close(opts?: { forwardGraceMs?: number }): Promise<void>;
}

interface ControlLink {
  link: KafkaLink;
  remote: RemoteConfigClient | null;
  status: StatusPublisher;
  devices: DeviceConfigService | null;
}

/** Sections whose change restarts the control room's own Kafka link. */
const linkKey = (c: Readonly<GatewayConfig>): string => JSON.stringify([c.kafka.brokers, c.kafka.clientId, c.kafka.tls, c.kafka.sasl, c.kafka.connectionTimeoutMs, c.kafka.requestTimeoutMs, c.control]);

export function createControlRoom(o: ControlRoomOptions): ControlRoom {
  const log = o.logger;
  const gatewayId = o.fileConfig.gatewayId;
  // The control records live in the bootstrap buffer file; FULL: an applied document must survive a power cut.
  const db = openBufferDatabase({ path: o.fileConfig.buffer.path, synchronous: 'FULL', nativeBinding: o.gatewayDeps.sqliteNativeBinding });
  const store = createConfigStore(db);
  let control: ControlLink | null = null;
  // Every pipeline gets these hooks; they reach the device config service while it runs (it
  // outlives rebuilds and can be switched on by a push).
  const deviceControl: DeviceControlHooks = {
    enabled: () => control?.devices != null,
    onDeviceConnected: (id) => control?.devices?.hooks.onDeviceConnected(id),
    onConfigAck: (id, payload) => {
      const devices = control?.devices;
      if (!devices) throw gatewayError('GW_ERR_INGEST_TOPIC_UNROUTED', 'device configuration is off on this gateway');
      devices.hooks.onConfigAck(id, payload);
    },
  };
  const supervisor = createSupervisor({
    fileConfig: o.fileConfig,
    store,
    logger: log,
    buildGateway: (config) => {
      log.level = config.log.level; // the pipeline's start is logged at the level it runs with
      return createGateway(config, { ...o.gatewayDeps, deviceControl, logger: log, observer: metrics.observer });
    },
    checkOutsidePipeline: (next, windowMs, signal) => probeControlLink(next, windowMs, signal),
  });
  const statusSnapshot = createStatusSnapshot({ gatewayId, supervisor, store });
  const heapTrim = createHeapTrim({ logger: log });
  const metrics = createGatewayMetrics({
    status: () => supervisor.gateway()?.status() ?? null,
    memoryTrim: () => heapTrim.stats(),
    info: () => {
      const e = supervisor.inEffect();
      return { version: gatewayVersion(), gateway_id: gatewayId, config_source: e.source, config_version: e.version === null ? '' : String(e.version), config_hash: e.hash };
    },
  });
  let admin: AdminServer | null = null;
  let adminKey = '';
  let adminRetry: NodeJS.Timeout | null = null;
  let adminOp: Promise<void> = Promise.resolve();
  const stats = createStatsLog(() => supervisor.gateway()?.status() ?? null, log);
  let controlKey = '';
  let queuedReload: Promise<ConfigResult | null> | null = null;
  let closed = false;

  function openControl(config: Readonly<GatewayConfig>): void {
    const c = config.control;
    controlKey = linkKey(config);
    if (!c.remoteConfig.enabled && !c.deviceConfig.enabled) return;
    const link = createKafkaLink({ kafka: config.kafka, logger: log });
    const status = createStatusPublisher({ producer: link.producer(), topic: c.status.topic, gatewayId, supervisor, status: statusSnapshot, heartbeatIntervalSecs: c.status.heartbeatIntervalSecs, logger: log });
    const remote = c.remoteConfig.enabled
      ? createRemoteConfigClient({ link, supervisor, store, gatewayId, topic: c.remoteConfig.topic, pollIntervalMs: c.remoteConfig.pollIntervalMs, logger: log, onRefused: (r) => status.publish(r) })
      : null;
    const devices = c.deviceConfig.enabled ? createDeviceConfigService({ database: db, link, config: c.deviceConfig, gatewayId, logger: log, pollMaxWaitMs: c.remoteConfig.pollIntervalMs }) : null;
    control = { link, remote, status, devices };
    status.start();
    remote?.start();
    const gw = supervisor.gateway();
    if (devices && gw) devices.attach(gw.devicePort);
    devices?.start();
    log.info({ event: 'control_started', remoteConfig: c.remoteConfig.enabled ? c.remoteConfig.topic : false, status: c.status.topic, deviceConfig: c.deviceConfig.enabled ? c.deviceConfig.topic : false }, 'control room connected to Kafka');
  }

  /**
   * A push that changes the control room's own link (config topic, brokers, credentials, poll
   * interval) is confirmed only if a link with the new settings reads this gateway's partition of
   * the new config topic to its end inside the health window: once confirmed, the old link is
   * closed, and a link that cannot read would never see the push that fixes it.
   */
  async function probeControlLink(next: Readonly<GatewayConfig>, windowMs: number, signal: AbortSignal): Promise<string | null> {
    if (linkKey(next) === controlKey || !next.control.remoteConfig.enabled) return null;
    const topic = next.control.remoteConfig.topic;
    let link: KafkaLink;
    try {
      link = createKafkaLink({ kafka: next.kafka, clientIdSuffix: 'probe', logger: log });
    } catch (err) {
      return `control link: ${describeError(err)}`;
    }
    const reader = link.reader({ topic, key: gatewayId, maxWaitMs: next.control.remoteConfig.pollIntervalMs, onRecords: () => undefined });
    reader.start();
    let timer: NodeJS.Timeout | undefined;
    let onAbort: (() => void) | undefined;
    const readable = await Promise.race([
      reader.caughtUp.then(() => true),
      new Promise<boolean>((resolve) => {
        timer = setTimeout(() => resolve(false), windowMs);
        onAbort = () => resolve(false);
        signal.addEventListener('abort', onAbort, { once: true });
      }),
    ]);
    clearTimeout(timer);
    signal.removeEventListener('abort', onAbort!);
    const lastError = reader.state().lastError;
    await link.close();
    return readable ? null : `control link cannot read ${topic} (${lastError?.message ?? 'no answer'}) within ${windowMs} ms`;
  }

  async function closeControl(): Promise<void> {
    const c = control;
    control = null;
    if (c === null) return;
    await c.status.close();
    await c.remote?.close();
    await c.devices?.close();
    await c.link.close();
  }

  /**
   * (Re)starts the admin server for this config. A port that cannot be bound (another process
   * holds it) does not stop the gateway, whose job is the data: it is logged and retried.
   */
  function openAdmin(config: Readonly<GatewayConfig>): Promise<void> {
    // One (re)start at a time: a config change and a retry must not leave two servers bound.
    adminOp = adminOp.then(() => restartAdmin(config));
    return adminOp;
  }

  async function restartAdmin(config: Readonly<GatewayConfig>): Promise<void> {
    const a = config.admin;
    adminKey = JSON.stringify(a);
    await closeAdmin();
    metrics.setEnabled(a.enabled);
    if (!a.enabled || closed) return;
    const server = createAdminServer({
      config: a,
      logger: log,
      readiness: () => {
        const g = supervisor.gateway();
        return readiness(g?.health() ?? null, g?.status().flow.state ?? null);
      },
      status: () => buildAdminStatus(statusSnapshot.snapshot(), supervisor.gateway()?.status() ?? null),
      metrics,
    });
    admin = server;
    try {
      await server.start();
    } catch (err) {
      log.error({ event: 'admin_listen_failed', host: a.host, port: a.port, err }, 'admin HTTP listener not bound; retrying in 5 s');
      if (admin === server && !closed) adminRetry = setTimeout(() => void openAdmin(supervisor.inEffect().config), 5000).unref();
    }
  }

  async function closeAdmin(): Promise<void> {
    if (adminRetry !== null) clearTimeout(adminRetry);
    adminRetry = null;
    const a = admin;
    admin = null;
    await a?.close();
  }

  supervisor.on((e) => {
    if (e.type === 'stranded') o.onStranded(e.reason);
    if (e.type === 'built') {
      log.level = e.gateway.config.log.level;
      control?.devices?.attach(e.gateway.devicePort);
    }
    if (e.type === 'confirmed') {
      stats.setInterval(e.inEffect.config.log.statsIntervalSecs);
      heapTrim.configure(e.inEffect.config.memory.trim);
      if (JSON.stringify(e.inEffect.config.admin) !== adminKey) void openAdmin(e.inEffect.config);
      if (linkKey(e.inEffect.config) !== controlKey) {
        // Deferred: this event is raised inside the reader's own callback.
        setImmediate(() => {
          if (closed) return;
          void closeControl().then(() => {
            if (!closed) openControl(supervisor.inEffect().config);
          });
        });
      }
    }
  });

  return {
    supervisor,
    async start() {
      await supervisor.start();
      const config = supervisor.inEffect().config;
      stats.setInterval(config.log.statsIntervalSecs);
      heapTrim.configure(config.memory.trim);
      await openAdmin(config);
      openControl(config);
    },
    reload() {
      supervisor.gateway()?.reloadTls();
      const path = o.configPath;
      if (path === undefined) return Promise.resolve(null);
      // SIGHUPs while one reload waits for its turn share it (the file is read at its turn).
      if (queuedReload !== null) return queuedReload;
      const next = supervisor.reloadFile(() => {
        queuedReload = null;
        return applyEnvOverrides(readConfigFile(path), process.env);
      }, path);
      queuedReload = next;
      return next;
    },
    recordCrash(err) {
      const g = supervisor.gateway();
      return g === null ? { guard: null } : g.recordCrash(err);
    },
    async close(opts) {
      closed = true;
      stats.close();
      heapTrim.close();
      await adminOp;
      await closeAdmin();
      statusSnapshot.close();
      await closeControl();
      await supervisor.close(opts);
      db.close();
    },
  };
}
