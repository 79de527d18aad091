/**
 * The step that makes "acknowledged means committed" true. aedes runs authorizePublish before it
 * writes PUBACK (QoS1) or PUBREC (QoS2) (moscajs/aedes lib/handlers/publish.js: authorizePublish
 * then enqueuePublish), and it is asynchronous: we route the message, queue it for the group
 * commit, and call back only once SQLite committed it. Only then does aedes send the ack.
 * aedes also stops reading a client's socket until its current batch of packets is handled,
 * so a held callback is TCP backpressure for that device.
 *
 * Who may publish what: on a route, only the device whose authenticated identity is the topic's
 * device id; elsewhere (unrouted) either nobody (`reject`) or whoever the ACL lets write
 * (`local`: ordinary broker traffic, never buffered nor forwarded). A last will is never
 * forwarded to Kafka: on a route topic it is delivered to local subscribers only (counted).
 *
 * With device configuration on (`deviceControl`): `devices/{id}/config/ack` from the device whose
 * identity is {id} is handed to the control room, which persists it before this calls back (so
 * the PUBACK means "recorded"); it is never buffered nor forwarded. Another device's id there is
 * GW_ERR_INGEST_IDENTITY. `devices/{id}/config` is written by the gateway only.
 */
import type { Client, PublishPacket } from 'aedes';
import type { CommitCallback, RecordCommitter } from '../buffer/buffer.js';
import { DEVICE_CONFIG_ACK_TOPIC, DEVICE_CONFIG_TOPIC, type DeviceControlHooks } from '../control/device-port.js';
import { gatewayError, isGatewayError, type GatewayError } from '../errors.js';
import { truncateField } from '../lib/log-fields.js';
import type { RateLimitedLog } from '../lib/rate-limited-log.js';
import { TopicRouteTable } from '../lib/topic-route.js';
import { clientIdentity } from './client-identity.js';
import type { DeviceActivity } from './device-activity.js';

export interface PublishGateOptions {
  routes: readonly string[];
  maxPayloadBytes: number;
  /** Publishes on unrouted topics: reject (close) or local broker traffic under the ACL. */
  unrouted: 'reject' | 'local';
  committer: RecordCommitter;
  /** Rejections are logged once per code and client per interval (a rejected device retries). */
  warnLog: RateLimitedLog;
  /** Client-supplied strings (topic, client id) are truncated to this in logs and errors. */
  logFieldMaxChars: number;
  /** Device configuration answers go here (absent: device configuration is off). */
  deviceControl?: Pick<DeviceControlHooks, 'onConfigAck' | 'enabled'> | undefined;
  /** Accepted publishes per device (the status page's busiest devices). */
  activity?: Pick<DeviceActivity, 'count'> | undefined;
}

export interface IngestCounters {
  acceptedTotal: number;
  /** Unrouted publishes passed to local subscribers (unrouted: local). */
  localTotal: number;
  /** Last wills on route topics, delivered locally and not forwarded. */
  willsNotForwardedTotal: number;
  /** Device configuration answers accepted (recorded or ignored by the control room). */
  configAcksTotal: number;
  rejectedTotal: Record<string, number>;
}

export type AuthorizePublish = (client: Client | null, packet: PublishPacket, callback: (error?: Error | null) => void) => void;

export interface PublishGate {
  authorizePublish: AuthorizePublish;
  counters: IngestCounters;
  /** Live config: new routes and unrouted policy for the next publish (counters are kept). */
  reconfigure(next: Pick<PublishGateOptions, 'routes' | 'unrouted'>): void;
}

export function createPublishGate(opts: PublishGateOptions): PublishGate {
  let table = new TopicRouteTable(opts.routes);
  const counters: IngestCounters = { acceptedTotal: 0, localTotal: 0, willsNotForwardedTotal: 0, configAcksTotal: 0, rejectedTotal: {} };
  const { committer, maxPayloadBytes, deviceControl, activity } = opts;
  let unrouted = opts.unrouted;
  const field = (s: string) => truncateField(s, opts.logFieldMaxChars);

  function reject(client: Client, packet: PublishPacket, err: GatewayError, callback: (e?: Error | null) => void): void {
    counters.rejectedTotal[err.code] = (counters.rejectedTotal[err.code] ?? 0) + 1;
    opts.warnLog.warn(
      `pub:${err.code}:${field(client.id)}`,
      { event: 'publish_rejected', code: err.code, clientId: field(client.id), topic: field(packet.topic), reason: err.message },
      'publish rejected; closing connection',
    );
    // MQTT 3.1.1 has no negative PUBACK: aedes closes the connection on error, which the
    // device sees and retries; nothing is acknowledged that was not stored.
    callback(err);
  }

  function authorizePublish(client: Client | null, packet: PublishPacket, callback: (error?: Error | null) => void): void {
    // Publishes originated by the broker itself (no client, e.g. $SYS) are not device telemetry.
    if (client === null) return callback(null);
    const identity = clientIdentity(client);
    if (identity === undefined) {
      return reject(client, packet, gatewayError('GW_ERR_INGEST_NOT_AUTHORIZED', 'client has no authenticated identity'), callback);
    }
    const topic = packet.topic;
    const isWill = (client as unknown as { will?: unknown }).will === packet;
    if (deviceControl !== undefined && deviceControl.enabled()) {
      const ackOf = DEVICE_CONFIG_ACK_TOPIC.match(topic);
      if (ackOf !== null) return configAck(client, packet, identity.id, ackOf, isWill, callback);
      if (DEVICE_CONFIG_TOPIC.match(topic) !== null) {
        return reject(client, packet, gatewayError('GW_ERR_INGEST_NOT_AUTHORIZED', `"${field(topic)}" is written by the gateway only`), callback);
      }
    }
    const hit = table.resolve(topic);
    if (hit === null) {
      if (unrouted === 'local' && identity.acl.canWrite(topic)) {
        counters.localTotal++;
        return callback(null);
      }
      const code = unrouted === 'local' ? 'GW_ERR_INGEST_NOT_AUTHORIZED' : 'GW_ERR_INGEST_TOPIC_UNROUTED';
      return reject(client, packet, gatewayError(code, `"${field(topic)}"`), callback);
    }
    if (hit.deviceId !== identity.id) {
      return reject(client, packet, gatewayError('GW_ERR_INGEST_IDENTITY', `"${field(identity.id)}" published as device "${field(hit.deviceId)}"`), callback);
    }
    if (isWill) {
      // A will is the broker speaking for a device that vanished, not a reading: local only.
      counters.willsNotForwardedTotal++;
      return callback(null);
    }
    const payload = packet.payload as Buffer;
    if (payload.length > maxPayloadBytes) {
      return reject(client, packet, gatewayError('GW_ERR_INGEST_PAYLOAD_TOO_LARGE', `${payload.length} > ${maxPayloadBytes} bytes`), callback);
    }
    counters.acceptedTotal++;
    activity?.count(hit.deviceId);
    committer.submit(
      { deviceId: hit.deviceId, topic, qos: packet.qos, receivedAt: Date.now(), payload: Buffer.isBuffer(payload) ? payload : Buffer.from(payload) },
      callback as CommitCallback,
    );
  }

  function configAck(client: Client, packet: PublishPacket, identityId: string, ackOf: string, isWill: boolean, callback: (e?: Error | null) => void): void {
    if (ackOf !== identityId) {
      return reject(client, packet, gatewayError('GW_ERR_INGEST_IDENTITY', `"${field(identityId)}" answered for device "${field(ackOf)}"`), callback);
    }
    // A will is the broker speaking after the device vanished, not the device's answer.
    if (isWill) return reject(client, packet, gatewayError('GW_ERR_INGEST_NOT_AUTHORIZED', 'a last will is not a configuration answer'), callback);
    const payload = packet.payload as Buffer | string;
    try {
      deviceControl!.onConfigAck(identityId, Buffer.isBuffer(payload) ? payload : Buffer.from(payload));
    } catch (err) {
      return reject(client, packet, isGatewayError(err) ? err : gatewayError('GW_ERR_CONTROL_STORE', String((err as Error)?.message ?? err), { cause: err }), callback);
    }
    counters.configAcksTotal++;
    callback(null);
  }

  return {
    authorizePublish,
    counters,
    reconfigure(next) {
      table = new TopicRouteTable(next.routes);
      unrouted = next.unrouted;
    },
  };
}
