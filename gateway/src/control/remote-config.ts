/**
 * The remote config client: reads this gateway's partition of the config topic (from the
 * beginning, no consumer group), verifies each record addressed to this gateway, and hands what
 * verifies to the supervisor. The Kafka link is not trusted for authenticity; only the signature
 * is (control/config-document.ts). A record that does not verify changes nothing and is reported.
 */
import { describeError, gatewayError, isGatewayError, type GatewayError } from '../errors.js';
import type { Logger } from '../lib/logger.js';
import { createRateLimitedLog } from '../lib/rate-limited-log.js';
import { peekDocumentClaims, verifyConfigDocument, type VerifiedConfigDocument } from './config-document.js';
import type { ConfigStore } from './config-store.js';
import type { ControlRecord, KafkaLink, TopicReader } from './kafka-link.js';
import type { Supervisor } from './supervisor.js';
import type { ConfigResult } from './status-record.js';

export interface RemoteConfigOptions {
  link: KafkaLink;
  supervisor: Supervisor;
  store: ConfigStore;
  gatewayId: string;
  topic: string;
  pollIntervalMs: number;
  logger: Logger;
  /** A record that was refused before it reached the supervisor (signature, target, expiry). */
  onRefused(result: ConfigResult): void;
}

export interface RemoteConfigClient {
  start(): void;
  /** Resolves once the records present at start were handled (applied at start when offline while pushed). */
  readonly caughtUp: Promise<void>;
  reader(): TopicReader;
  close(): Promise<void>;
}

export function createRemoteConfigClient(o: RemoteConfigOptions): RemoteConfigClient {
  const warn = createRateLimitedLog(o.logger, 60_000);
  const reader = o.link.reader({ topic: o.topic, key: o.gatewayId, maxWaitMs: o.pollIntervalMs, onRecords: handle });

  async function handle(records: ControlRecord[]): Promise<void> {
    // The partition holds other gateways' keys too (same hash bucket): only ours count. Every one
    // of ours is checked (a refusal is reported, so garbage appended after a push cannot hide
    // it); of those that verify, only the highest version is applied (compaction keeps the
    // newest anyway, and a gateway catching up must not walk through every health window).
    let best: { doc: VerifiedConfigDocument; jws: string; rec: ControlRecord } | null = null;
    for (const rec of records) {
      if (rec.key !== o.gatewayId || rec.value === null) continue;
      const jws = rec.value.toString('utf8');
      const doc = await verify(jws, rec);
      if (doc !== null && (best === null || doc.version > best.doc.version)) best = { doc, jws, rec };
    }
    if (best === null) return;
    const { doc, jws, rec } = best;
    const known = o.store.find(doc.version);
    if (known !== null && known.hash === doc.hash) return; // handled before (a restart re-reads the partition)
    o.logger.info({ event: 'config_received', version: doc.version, kid: doc.kid, hash: doc.hash, offset: String(rec.offset) }, `pushed config v${doc.version} received`);
    await o.supervisor.applyPushed({ version: doc.version, hash: doc.hash, kid: doc.kid, jws, config: doc.config });
  }

  /** The verified document, or null after reporting why not (old, known records stay quiet). */
  async function verify(jws: string, rec: ControlRecord): Promise<VerifiedConfigDocument | null> {
    const trustedKeys = o.supervisor.inEffect().config.control.trustedKeys;
    try {
      return await verifyConfigDocument(jws, { trustedKeys, gatewayId: o.gatewayId });
    } catch (err) {
      const e: GatewayError = isGatewayError(err) ? err : gatewayError('GW_ERR_CONTROL_MALFORMED', describeError(err));
      let version: number | null = null;
      try {
        version = peekDocumentClaims(jws).version;
      } catch {
        version = null; // not even readable: reported without a version
      }
      if (version !== null && version <= o.store.highestVersion() && o.store.find(version) !== null) return null; // an old, known record seen again
      warn.warn(`refused:${e.code}`, { event: 'config_refused', code: e.code, reason: e.message, version, offset: String(rec.offset) }, 'pushed config refused; running config unchanged');
      o.onRefused({ version, state: 'rejected', code: e.code, reason: e.message, at: new Date().toISOString() });
      return null;
    }
  }

  return {
    start: () => reader.start(),
    get caughtUp() {
      return reader.caughtUp;
    },
    reader: () => reader,
    close: () => reader.close(),
  };
}
