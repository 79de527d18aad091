/**
 * A corpus of MQTT byte streams (3.1.1 and 5, valid and malformed) and a recorder of everything
 * an mqtt-packet parser does with them: to prove a change to the parser leaves its output alone.
 */
import mqttPacket from 'mqtt-packet';

const v5 = { protocolVersion: 5 } as const;
const gen = (p: object, opts?: object) => mqttPacket.generate(p as mqttPacket.Packet, opts);

export const streams: Record<string, Buffer[]> = {
  'mqtt 3.1.1': [
    gen({ cmd: 'connect', protocolId: 'MQTT', protocolVersion: 4, clientId: 'dev-1', clean: true, keepalive: 30, username: 'u', password: Buffer.from('p'), will: { topic: 'w', payload: Buffer.from('gone'), qos: 1, retain: false } }),
    gen({ cmd: 'publish', topic: 'devices/dev-1/telemetry', payload: Buffer.alloc(51, 1), qos: 1, messageId: 1, retain: false, dup: false }),
    gen({ cmd: 'publish', topic: 'devices/dev-1/telemetry', payload: Buffer.alloc(300, 2), qos: 2, messageId: 2, retain: true, dup: true }),
    gen({ cmd: 'pingreq' }),
    gen({ cmd: 'subscribe', messageId: 3, subscriptions: [{ topic: 'devices/dev-1/config', qos: 1 }] }),
    gen({ cmd: 'pubrel', messageId: 2 }),
    gen({ cmd: 'publish', topic: 'devices/dev-1/telemetry', payload: Buffer.alloc(0), qos: 0, retain: false, dup: false }),
    gen({ cmd: 'disconnect' }),
  ],
  'mqtt 5': [
    gen({ cmd: 'connect', protocolId: 'MQTT', protocolVersion: 5, clientId: 'dev-5', clean: true, keepalive: 30, properties: { sessionExpiryInterval: 60, userProperties: { a: 'b' } }, will: { topic: 'w', payload: Buffer.from('x'), qos: 0, retain: false, properties: { willDelayInterval: 5 } } }, v5),
    gen({ cmd: 'publish', topic: 'devices/dev-5/telemetry', payload: Buffer.alloc(70, 5), qos: 1, messageId: 9, retain: false, dup: false, properties: { contentType: 'application/json', userProperties: { k: 'v' } } }, v5),
    gen({ cmd: 'puback', messageId: 4, reasonCode: 16 }, v5),
    gen({ cmd: 'subscribe', messageId: 5, subscriptions: [{ topic: 'a/+', qos: 1, nl: true, rap: false, rh: 0 }], properties: { subscriptionIdentifier: 7 } }, v5),
    gen({ cmd: 'disconnect', reasonCode: 0 }, v5),
  ],
  // Reserved header flags (PUBREL must be 0x62), then a valid packet: an error, then parsing resumes.
  'bad flags, then more': [Buffer.from([0x60, 0x02, 0x00, 0x01]), gen({ cmd: 'pingreq' }), gen({ cmd: 'publish', topic: 't', payload: Buffer.from('ok'), qos: 0, retain: false, dup: false })],
  'qos 3, then more': [Buffer.from([0x36, 0x03, 0x00, 0x01, 0x74]), gen({ cmd: 'pingreq' })],
};

export interface Parsed {
  /** Every packet (all fields, buffers as hex) and error, in order, and what each parse() call returned. */
  events: string[];
  /** Per packet: was it parsed into the object the parser held when the previous parse() call returned? */
  preCreated: boolean[];
}

export function parse(chunks: Buffer[]): Parsed {
  const p = mqttPacket.parser();
  const held = (): unknown => (p as unknown as { packet: unknown }).packet;
  const out: Parsed = { events: [], preCreated: [] };
  let heldAfterLastCall = held();
  p.on('packet', (packet: mqttPacket.Packet) => {
    out.events.push(JSON.stringify(packet, (_k, v: unknown) => (v && typeof v === 'object' && (v as { type?: unknown }).type === 'Buffer' ? Buffer.from((v as { data: number[] }).data).toString('hex') : v)));
    out.preCreated.push(packet === heldAfterLastCall);
  });
  p.on('error', (err: Error) => out.events.push(`error: ${err.message}`));
  for (const c of chunks) {
    out.events.push(`returned ${p.parse(c)}`);
    heldAfterLastCall = held();
  }
  return out;
}

function splitEvery(buf: Buffer, n: number): Buffer[] {
  const out: Buffer[] = [];
  for (let at = 0; at < buf.length; at += n) out.push(buf.subarray(at, at + n));
  return out;
}

/** Each stream fed packet by packet, whole, and in chunks of 1, 2, 3 and 7 bytes. */
export function feeds(): Array<[string, Buffer[]]> {
  const out: Array<[string, Buffer[]]> = [];
  for (const [name, packets] of Object.entries(streams)) {
    const whole = Buffer.concat(packets);
    out.push([`${name}, packet by packet`, packets], [`${name}, whole`, [whole]]);
    for (const n of [1, 2, 3, 7]) out.push([`${name}, ${n}-byte chunks`, splitEvery(whole, n)]);
  }
  return out;
}

