/**
 * The step that makes "acknowledged means committed" true. aedes runs authorizePublish before it
 * writes PUBACK (QoS1) or PUBREC (QoS2) (moscajs/aedes lib/handlers/publish.js: authorizePublish
 * then enqueuePublish), and it is asynchronous: we route the message, queue it for the group
 * commit, and call back only once SQLite committed it. Only then does aedes send the ack.
 * aedes also stops reading a client's socket until its current batch of packets is handled,
 * so a held callback is TCP backpressure for that device.
 */
import type { Client, PublishPacket } from 'aedes';
import type { CommitCallback, GroupCommitter } from '../buffer/group-commit.js';
import { gatewayError, type GatewayError } from '../errors.js';
import type { Logger } from '../lib/logger.js';
import { TopicRouteTable } from '../lib/topic-route.js';
import { truncateField } from '../lib/log-fields.js';
import type { RateLimitedLog } from '../lib/rate-limited-log.js';

export interface PublishGateOptions {
  routes: readonly string[];
  maxPayloadBytes: number;
  /** The topic's device id must equal the MQTT client id (a device speaks only as itself). */
  requireClientIdMatch: boolean;
  committer: GroupCommitter;
  logger: Logger;
  /** Rejections are logged once per code and client per interval (a rejected device retries). */
  warnLog?: RateLimitedLog;
  /** Client-supplied strings (topic, client id) are truncated to this in logs and errors. */
  logFieldMaxChars?: number;
}

export interface IngestCounters {
  acceptedTotal: number;
  rejectedTotal: Record<string, number>;
}

export type AuthorizePublish = (client: Client | null, packet: PublishPacket, callback: (error?: Error | null) => void) => void;

export function createPublishGate(opts: PublishGateOptions): { authorizePublish: AuthorizePublish; counters: IngestCounters } {
  const table = new TopicRouteTable(opts.routes);
  const counters: IngestCounters = { acceptedTotal: 0, rejectedTotal: {} };
  const { committer, maxPayloadBytes, requireClientIdMatch, logger, warnLog } = opts;
  const maxChars = opts.logFieldMaxChars ?? 256;
  const field = (s: string) => truncateField(s, maxChars);

  function reject(client: Client, packet: PublishPacket, err: GatewayError, callback: (e?: Error | null) => void): void {
    counters.rejectedTotal[err.code] = (counters.rejectedTotal[err.code] ?? 0) + 1;
    const fields = { code: err.code, clientId: field(client.id), topic: field(packet.topic), reason: err.message };
    if (warnLog) warnLog.warn(`publish_rejected:${err.code}:${fields.clientId}`, fields, 'publish rejected; closing connection');
    else logger.warn(fields, 'publish rejected; closing connection');
    // MQTT 3.1.1 has no negative PUBACK: aedes closes the connection on error, which the
    // device sees and retries; nothing is acknowledged that was not stored.
    callback(err);
  }

  function authorizePublish(client: Client | null, packet: PublishPacket, callback: (error?: Error | null) => void): void {
    // Publishes originated by the broker itself (no client) are not device telemetry.
    if (client === null) return callback(null);
    const topic = packet.topic;
    const hit = table.resolve(topic);
    if (hit === null) {
      return reject(client, packet, gatewayError('GW_ERR_INGEST_TOPIC_UNROUTED', `"${field(topic)}"`), callback);
    }
    if (requireClientIdMatch && hit.deviceId !== client.id) {
      return reject(client, packet, gatewayError('GW_ERR_INGEST_IDENTITY', `client "${field(client.id)}" published as device "${field(hit.deviceId)}"`), callback);
    }
    const payload = packet.payload as Buffer;
    if (payload.length > maxPayloadBytes) {
      return reject(client, packet, gatewayError('GW_ERR_INGEST_PAYLOAD_TOO_LARGE', `${payload.length} > ${maxPayloadBytes} bytes`), callback);
    }
    counters.acceptedTotal++;
    committer.submit(
      { deviceId: hit.deviceId, topic, qos: packet.qos, receivedAt: Date.now(), payload: Buffer.isBuffer(payload) ? payload : Buffer.from(payload) },
      callback as CommitCallback,
    );
  }

  return { authorizePublish, counters };
}
