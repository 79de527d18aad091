/**
 * Well-formed MQTT 3.1.1 / 5 packets, built by mqtt-packet's generate() (the encoder MQTT.js and
 * aedes use), as the starting points the mutator damages and as the legal traffic around it.
 */
import mqttPacket from 'mqtt-packet';
import type { FuzzRng } from './fuzz-rng.js';

export type ProtocolVersion = 4 | 5;

export interface SessionContext {
  clientId: string;
  version: ProtocolVersion;
  /** The topic this client may publish on (devices/<clientId>/telemetry). */
  ownTopic: string;
  /** Share of publishes with the RETAIN flag (each kept by the broker per topic, beyond the socket). */
  retainShare: number;
}

const gen = (packet: mqttPacket.Packet, version: ProtocolVersion): Buffer => mqttPacket.generate(packet, { protocolVersion: version });

export function connectFrame(ctx: SessionContext, rng: FuzzRng, over: { clean?: boolean; keepalive?: number } = {}): Buffer {
  const packet: mqttPacket.IConnectPacket = {
    cmd: 'connect',
    protocolId: 'MQTT',
    protocolVersion: ctx.version,
    clientId: ctx.clientId,
    clean: over.clean ?? !rng.chance(0.1),
    keepalive: over.keepalive ?? rng.pick([0, 5, 30, 60, 65535]),
  };
  if (rng.chance(0.15)) packet.username = rng.pick(['', 'admin', 'u'.repeat(rng.range(1, 300))]);
  if (packet.username !== undefined && rng.chance(0.5)) packet.password = rng.bytes(rng.range(0, 64));
  if (rng.chance(0.1)) packet.will = { topic: rng.chance(0.5) ? ctx.ownTopic : 'fz/will', payload: rng.bytes(rng.range(0, 256)), qos: rng.pick([0, 1, 2] as const), retain: rng.chance(0.3) && ctx.retainShare > 0 };
  if (ctx.version === 5 && rng.chance(0.3)) {
    packet.properties = { sessionExpiryInterval: rng.pick([0, 60, 0xffffffff]), receiveMaximum: rng.range(1, 65535), maximumPacketSize: rng.range(16, 1 << 20), topicAliasMaximum: rng.range(0, 100), userProperties: { a: 'b' } };
  }
  return gen(packet, ctx.version);
}

export function publishFrame(ctx: SessionContext, rng: FuzzRng, topic: string, payload: Buffer, qos: 0 | 1 | 2, messageId: number): Buffer {
  const packet: mqttPacket.IPublishPacket = { cmd: 'publish', topic, payload, qos, dup: rng.chance(0.05), retain: rng.chance(ctx.retainShare) };
  if (qos > 0) packet.messageId = messageId;
  if (ctx.version === 5 && rng.chance(0.2)) packet.properties = { payloadFormatIndicator: rng.chance(0.5), messageExpiryInterval: rng.range(0, 3600), contentType: 'application/json', userProperties: { k: 'v' } };
  return gen(packet, ctx.version);
}

export function subscribeFrame(ctx: SessionContext, rng: FuzzRng, filters: readonly string[], messageId: number): Buffer {
  const packet: mqttPacket.ISubscribePacket = {
    cmd: 'subscribe',
    messageId,
    subscriptions: filters.map((topic) => ({ topic, qos: rng.pick([0, 1, 2] as const) })),
  };
  return gen(packet, ctx.version);
}

export function unsubscribeFrame(ctx: SessionContext, filters: readonly string[], messageId: number): Buffer {
  return gen({ cmd: 'unsubscribe', messageId, unsubscriptions: [...filters] }, ctx.version);
}

export function pubrelFrame(ctx: SessionContext, messageId: number): Buffer {
  return gen({ cmd: 'pubrel', messageId }, ctx.version);
}

/** An ack for a message the client may or may not have received (spurious acks are legal input to handle). */
export function ackFrame(ctx: SessionContext, cmd: 'puback' | 'pubrec' | 'pubcomp', messageId: number): Buffer {
  return gen({ cmd, messageId }, ctx.version);
}

export function pingreqFrame(ctx: SessionContext): Buffer {
  return gen({ cmd: 'pingreq' }, ctx.version);
}

export function disconnectFrame(ctx: SessionContext): Buffer {
  return gen({ cmd: 'disconnect' }, ctx.version);
}

/** Ordinary topic filters, plus the broad ones a snooping client would try. */
export function someFilters(ctx: SessionContext, rng: FuzzRng): string[] {
  const pool = ['#', '+/+/telemetry', 'devices/+/telemetry', '$SYS/#', ctx.ownTopic, 'devices/#', 'fz/+', '+'];
  return Array.from({ length: rng.range(1, 4) }, () => rng.pick(pool));
}
