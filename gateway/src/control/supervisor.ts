/**
 * The supervisor owns the gateway's lifetime: it builds the pipeline from one frozen config, and
 * moves it to a new config (a signed push or the local file on SIGHUP) by the same path:
 * validate -> dry-run -> apply live when only live fields changed (config/apply-mode.ts), else
 * rebuild in process (close gracefully, acks are durable; build and start the new one). A pushed
 * config then has a health window: listeners bound, Kafka reached, buffer committing. If that
 * fails, or the rebuild fails, it returns to last-good by itself and says why.
 *
 * Precedence: at boot the last-good pushed document (database) wins over the local file; the
 * file is the bootstrap, used until a push is applied and as the fallback if nothing else starts.
 * `gatewayId` is the box's own and never changes by push. One change at a time (a queue).
 */
import { createHash } from 'node:crypto';
import { diffConfig } from '../config/apply-mode.js';
import { applySecretEnvOverrides } from '../config/env-overrides.js';
import { validateConfig } from '../config/load-config.js';
import { secretPaths } from '../config/secrets.js';
import type { GatewayConfig } from '../config/schema.js';
import { describeError, gatewayError, isGatewayError, type GatewayError } from '../errors.js';
import type { Gateway } from '../gateway.js';
import type { Logger } from '../lib/logger.js';
import type { ConfigStore, StoredDocument } from './config-store.js';
import { dryRunConfig } from './dry-run.js';
import { checkRegistrySchemas } from './registry-check.js';
import type { ConfigResult } from './status-record.js';

/** A document whose signature, target and expiry were verified (control/config-document.ts). */
export interface PushedDocument {
  version: number;
  hash: string;
  kid: string;
  /** The compact JWS, stored as received. */
  jws: string;
  /** The config object, not yet validated. */
  config: unknown;
}

export interface ConfigInEffect {
  source: 'file' | 'pushed';
  version: number | null;
  hash: string;
  config: Readonly<GatewayConfig>;
}

export type SupervisorEvent =
  | { type: 'built'; gateway: Gateway }
  | { type: 'result'; result: ConfigResult }
  | { type: 'confirmed'; inEffect: ConfigInEffect; previous: ConfigInEffect }
  /** No configuration starts any more: the process should exit so that its service manager restarts it. */
  | { type: 'stranded'; reason: string };

export interface SupervisorOptions {
  /** The local file's config (the bootstrap). */
  fileConfig: Readonly<GatewayConfig>;
  store: ConfigStore;
  buildGateway(config: Readonly<GatewayConfig>): Gateway;
  logger: Logger;
  /** Grace the old pipeline gets to finish sends when it is rebuilt. */
  rebuildGraceMs?: number;
  /** How often the health window looks at the new pipeline. */
  healthPollMs?: number;
  /**
   * The rest of the health window, beside the pipeline's: what a pushed config changes outside the
   * pipeline (the control room's own link) must work too, or the next push could never arrive.
   * Resolves null when fine, else what failed; at most `windowMs`, sooner when `signal` aborts.
   */
  checkOutsidePipeline?(next: Readonly<GatewayConfig>, windowMs: number, signal: AbortSignal): Promise<string | null>;
}

export interface Supervisor {
  start(): Promise<void>;
  gateway(): Gateway | null;
  inEffect(): ConfigInEffect;
  lastResult(): ConfigResult | null;
  /** Applies a verified pushed document; resolves when it is applied (health window passed), rejected or rolled back. */
  applyPushed(doc: PushedDocument): Promise<ConfigResult>;
  /**
   * SIGHUP: the local file through the same path (when no pushed config is in effect). `read` runs
   * when this reload's turn comes (after a health window in progress), so the newest file counts.
   */
  reloadFile(read: () => unknown, path: string): Promise<ConfigResult>;
  /** Returns the unsubscribe function. */
  on(listener: (e: SupervisorEvent) => void): () => void;
  close(opts?: { forwardGraceMs?: number }): Promise<void>;
}

export function configHash(config: unknown): string {
  return createHash('sha256').update(JSON.stringify(config)).digest('hex');
}

export function createSupervisor(o: SupervisorOptions): Supervisor {
  const log = o.logger;
  const listeners: Array<(e: SupervisorEvent) => void> = [];
  const emit = (e: SupervisorEvent) => {
    for (const l of listeners) {
      try {
        l(e);
      } catch (err) {
        log.error({ event: 'supervisor_listener_failed', err }, 'supervisor event listener failed');
      }
    }
  };
  const fileInEffect: ConfigInEffect = { source: 'file', version: null, hash: configHash(o.fileConfig), config: o.fileConfig };
  let inEffect: ConfigInEffect = fileInEffect;
  let gw: Gateway | null = null;
  let lastResult: ConfigResult | null = null;
  let queue: Promise<unknown> = Promise.resolve();
  let closed = false;
  const stopping = new AbortController();
  const serial = <T>(fn: () => Promise<T>): Promise<T> => {
    const next = queue.then(fn, fn);
    queue = next.catch(() => undefined);
    return next;
  };

  const result = (version: number | null, state: ConfigResult['state'], err?: GatewayError): ConfigResult => {
    const r: ConfigResult = { version, state, at: new Date().toISOString(), ...(err ? { code: err.code, reason: err.message } : {}) };
    lastResult = r;
    emit({ type: 'result', result: r });
    return r;
  };

  async function build(config: Readonly<GatewayConfig>): Promise<Gateway> {
    const g = o.buildGateway(config);
    try {
      await g.start();
    } catch (err) {
      await g.close({ forwardGraceMs: 0 }).catch(() => undefined);
      throw err;
    }
    gw = g;
    emit({ type: 'built', gateway: g });
    return g;
  }

  /** Moves the running pipeline to `next`: live when it can, else a graceful rebuild. */
  async function moveTo(next: Readonly<GatewayConfig>): Promise<'live' | 'rebuild'> {
    const current = gw;
    if (current === null) {
      await build(next);
      return 'rebuild';
    }
    const change = diffConfig(current.config, next);
    if (change.rebuild.length === 0) {
      current.reconfigure(next);
      return 'live';
    }
    log.info({ event: 'config_rebuild', fields: change.rebuild }, `rebuilding the pipeline for: ${change.rebuild.join(', ')}`);
    gw = null;
    await current.close({ forwardGraceMs: o.rebuildGraceMs ?? 2000 });
    await build(next);
    return 'rebuild';
  }

  /** Back to `target` after a failed apply; the file config if even that does not start. */
  async function restore(target: ConfigInEffect): Promise<void> {
    for (const candidate of target === fileInEffect ? [target] : [target, fileInEffect]) {
      try {
        await moveTo(candidate.config);
        inEffect = candidate;
        return;
      } catch (err) {
        log.error({ event: 'config_restore_failed', source: candidate.source, version: candidate.version, err }, 'could not start the previous configuration');
        if (gw !== null) {
          const g = gw;
          gw = null;
          await g.close({ forwardGraceMs: 0 }).catch(() => undefined);
        }
      }
    }
    const e = gatewayError('GW_ERR_CONTROL_UNHEALTHY', 'no configuration starts (pushed, last-good and local file all failed)');
    emit({ type: 'stranded', reason: e.message });
    throw e;
  }

  async function outsidePipeline(next: Readonly<GatewayConfig>, windowMs: number): Promise<string | null> {
    if (!o.checkOutsidePipeline) return null;
    try {
      return await o.checkOutsidePipeline(next, windowMs, stopping.signal);
    } catch (err) {
      return describeError(err);
    }
  }

  /** Waits until the new pipeline is healthy or the window ends; null = healthy, else what failed. */
  async function healthWindow(windowMs: number): Promise<string | null> {
    const appliedAt = Date.now();
    const deadline = appliedAt + windowMs;
    let sawKafka = false;
    for (;;) {
      const g = gw;
      if (g === null || closed) return 'pipeline closed';
      const h = g.health();
      // Kafka counts as reached by the new config when it is up and, if rows wait, a batch
      // encoded after the change (new topics, routes) was acknowledged; an idle buffer has
      // nothing to prove it with, and being connected is all there is.
      sawKafka ||= h.kafkaUp && (h.bufferedRows === 0 || h.lastAckedEncodedAt >= appliedAt);
      if (h.listening && sawKafka && !h.bufferFailing) return null;
      if (Date.now() >= deadline) {
        const kafka = h.kafkaUp ? 'no batch of the new config acknowledged by Kafka' : `Kafka not reached (${g.status().forward.lastError?.message ?? 'no answer'})`;
        const failed = [!h.listening && 'listeners not bound', !sawKafka && kafka, h.bufferFailing && 'buffer commits failing'].filter(Boolean);
        return `${failed.join('; ')} within ${windowMs} ms`;
      }
      await new Promise((r) => setTimeout(r, o.healthPollMs ?? 250));
    }
  }

  function candidateConfig(raw: unknown, source: string, code: 'GW_ERR_CONTROL_SCHEMA' | 'GW_ERR_CONFIG_INVALID'): Readonly<GatewayConfig> {
    const gatewayId = o.fileConfig.gatewayId;
    if (typeof raw !== 'object' || raw === null || Array.isArray(raw)) throw gatewayError(code, `${source}: the config must be an object`);
    const obj = raw as Record<string, unknown>;
    if (obj['gatewayId'] !== undefined && obj['gatewayId'] !== gatewayId) {
      throw gatewayError(code, `${source}: gatewayId "${String(obj['gatewayId'])}" differs from this gateway's "${gatewayId}" (it never changes by push)`);
    }
    let next: Readonly<GatewayConfig>;
    try {
      next = validateConfig({ ...obj, gatewayId }, source);
    } catch (err) {
      throw gatewayError(code, describeError(err), { cause: err });
    }
    dryRunConfig(next);
    return next;
  }

  return {
    async start() {
      const pending = o.store.rollBackPending('the gateway restarted inside the health window');
      for (const p of pending) log.warn({ event: 'config_rolled_back', version: p.version }, `pushed config v${p.version} was inside its health window at the last stop: rolled back`);
      const good = o.store.lastGood();
      if (good !== null) {
        try {
          const config = candidateConfig(applySecretEnvOverrides(storedConfig(good), process.env, secretPaths()), `last-good v${good.version}`, 'GW_ERR_CONTROL_SCHEMA');
          await build(config);
          inEffect = { source: 'pushed', version: good.version, hash: good.hash, config };
          log.info({ event: 'config_last_good', version: good.version, hash: good.hash }, `running last-good pushed config v${good.version}`);
          return;
        } catch (err) {
          log.error({ event: 'config_last_good_failed', version: good.version, err }, 'last-good pushed config does not start; using the local file');
        }
      }
      await build(o.fileConfig);
      inEffect = fileInEffect;
    },
    gateway: () => gw,
    inEffect: () => inEffect,
    lastResult: () => lastResult,
    on(l) {
      listeners.push(l);
      return () => {
        const i = listeners.indexOf(l);
        if (i >= 0) listeners.splice(i, 1);
      };
    },
    applyPushed(doc) {
      return serial(async () => {
        if (closed) return result(doc.version, 'rejected', gatewayError('GW_ERR_INGEST_SHUTTING_DOWN'));
        const highest = o.store.highestVersion();
        if (doc.version <= highest) {
          const e = gatewayError('GW_ERR_CONTROL_REPLAY', `version ${doc.version} is not above ${highest}`);
          log.warn({ event: 'config_refused', version: doc.version, code: e.code, reason: e.message }, 'pushed config refused; running config unchanged');
          return result(doc.version, 'rejected', e);
        }
        const stored = { version: doc.version, hash: doc.hash, kid: doc.kid, document: doc.jws };
        let next: Readonly<GatewayConfig>;
        try {
          next = candidateConfig(applySecretEnvOverrides(doc.config, process.env, secretPaths()), `pushed v${doc.version}`, 'GW_ERR_CONTROL_SCHEMA');
          if (!next.control.remoteConfig.enabled) {
            // It would cut off the next push: only the local file may turn remote config off.
            throw gatewayError('GW_ERR_CONTROL_SCHEMA', 'control.remoteConfig.enabled: a pushed config cannot turn remote configuration off (that would cut off the next push; only the local file of a gateway not running a pushed config can)');
          }
          const refused = await checkRegistrySchemas(next, inEffect.config);
          if (refused !== null) throw refused;
        } catch (err) {
          const e = isGatewayError(err) ? err : gatewayError('GW_ERR_CONTROL_NOT_APPLIABLE', describeError(err), { cause: err });
          o.store.insert(stored, 'rejected', e.code, e.message);
          log.warn({ event: 'config_rejected', version: doc.version, code: e.code, reason: e.message }, `pushed config v${doc.version} rejected`);
          return result(doc.version, 'rejected', e);
        }
        o.store.insert(stored, 'pending');
        result(doc.version, 'pending');
        const previous = inEffect;
        const t0 = performance.now();
        let mode: 'live' | 'rebuild';
        try {
          mode = await moveTo(next);
        } catch (err) {
          const e = gatewayError('GW_ERR_CONTROL_UNHEALTHY', `apply failed: ${describeError(err)}`, { cause: err });
          o.store.setState(doc.version, 'rolled_back', e.code, e.message);
          log.error({ event: 'config_rolled_back', version: doc.version, code: e.code, reason: e.message }, `pushed config v${doc.version} did not start; rolling back`);
          await restore(previous);
          return result(doc.version, 'rolled_back', e);
        }
        inEffect = { source: 'pushed', version: doc.version, hash: doc.hash, config: next };
        // The window of the config in effect before: a push cannot lengthen its own probation.
        const windowMs = previous.config.control.remoteConfig.healthWindowMs;
        const failed = await Promise.all([healthWindow(windowMs), outsidePipeline(next, windowMs)]);
        const unhealthy = failed.filter((f) => f !== null).join('; ') || null;
        if (closed) {
          // Stopped inside the window: the document stays pending and is rolled back at boot.
          return result(doc.version, 'pending');
        }
        if (unhealthy !== null) {
          const e = gatewayError('GW_ERR_CONTROL_UNHEALTHY', unhealthy);
          o.store.setState(doc.version, 'rolled_back', e.code, e.message);
          log.error({ event: 'config_rolled_back', version: doc.version, code: e.code, reason: unhealthy, to: previous.version ?? 'file' }, `pushed config v${doc.version} unhealthy: rolling back`);
          await restore(previous);
          return result(doc.version, 'rolled_back', e);
        }
        o.store.setState(doc.version, 'applied');
        const ms = Math.round(performance.now() - t0);
        log.info({ event: 'config_applied', version: doc.version, hash: doc.hash, mode, ms }, `pushed config v${doc.version} applied (${mode})`);
        emit({ type: 'confirmed', inEffect, previous });
        return result(doc.version, 'applied');
      });
    },
    reloadFile(read, path) {
      return serial(async () => {
        let raw: unknown;
        try {
          raw = read();
        } catch (err) {
          const e = isGatewayError(err) ? err : gatewayError('GW_ERR_CONFIG_READ', describeError(err));
          log.error({ event: 'config_rejected', source: path, code: e.code, reason: e.message }, 'local config file unreadable; running config unchanged');
          return { version: null, state: 'rejected', code: e.code, reason: e.message, at: new Date().toISOString() };
        }
        if (inEffect.source === 'pushed') {
          // Not a push result: the status keeps the last push's outcome.
          const e = gatewayError('GW_ERR_CONTROL_FILE_SHADOWED', `pushed config v${inEffect.version} is in effect; ${path} is the bootstrap and fallback only (push a new version to change this gateway)`);
          log.warn({ event: 'config_file_shadowed', version: inEffect.version, path, code: e.code }, e.message);
          return { version: null, state: 'rejected', code: e.code, reason: e.message, at: new Date().toISOString() };
        }
        let next: Readonly<GatewayConfig>;
        try {
          next = candidateConfig(raw, path, 'GW_ERR_CONFIG_INVALID');
          const refused = await checkRegistrySchemas(next, inEffect.config);
          if (refused !== null) throw refused;
        } catch (err) {
          const e = isGatewayError(err) ? err : gatewayError('GW_ERR_CONFIG_INVALID', describeError(err));
          log.error({ event: 'config_rejected', source: path, code: e.code, reason: e.message }, 'local config file rejected; running config unchanged');
          return result(null, 'rejected', e);
        }
        const previous = inEffect;
        try {
          const mode = await moveTo(next);
          inEffect = { source: 'file', version: null, hash: configHash(next), config: next };
          log.info({ event: 'config_applied', source: path, mode }, `local config file applied (${mode})`);
          emit({ type: 'confirmed', inEffect, previous });
          return result(null, 'applied');
        } catch (err) {
          const e = gatewayError('GW_ERR_CONTROL_UNHEALTHY', `apply failed: ${describeError(err)}`, { cause: err });
          log.error({ event: 'config_rolled_back', source: path, code: e.code, reason: e.message }, 'local config file did not start; rolling back');
          await restore(previous);
          return result(null, 'rolled_back', e);
        }
      });
    },
    async close(opts) {
      closed = true;
      stopping.abort();
      await queue;
      const g = gw;
      gw = null;
      await g?.close(opts);
    },
  };
}

/** The `config` claim of a stored document (its signature was checked when it was received). */
function storedConfig(doc: StoredDocument): unknown {
  const payload = JSON.parse(Buffer.from(doc.document.split('.')[1] ?? '', 'base64url').toString('utf8')) as { config?: unknown };
  return payload.config;
}
