/**
 * The versioned Avro envelope every record travels in. v1 carries the raw payload as bytes; a
 * route with a typed schema gets its own envelope whose `payload` field is that record type.
 * Changing a field here means a new namespace version (v2), never an in-place edit.
 */
export const ENVELOPE_NAMESPACE = 'io.edgegateway.telemetry.v1';

const envelopeFields = [
  { name: 'gatewayId', type: 'string', doc: 'Gateway that received the message' },
  { name: 'deviceId', type: 'string', doc: 'Device identity (also the Kafka key)' },
  { name: 'topic', type: 'string', doc: 'MQTT topic the device published on' },
  { name: 'receivedAt', type: { type: 'long', logicalType: 'timestamp-millis' }, doc: 'When the gateway received it' },
  { name: 'seq', type: 'long', doc: 'Gateway-wide monotonic sequence number' },
  { name: 'qos', type: 'int', doc: 'MQTT QoS of the PUBLISH' },
] as const;

export const RAW_ENVELOPE_SCHEMA = {
  type: 'record',
  name: 'Envelope',
  namespace: ENVELOPE_NAMESPACE,
  doc: 'Telemetry from one device, payload as received',
  fields: [...envelopeFields, { name: 'payload', type: 'bytes', doc: 'PUBLISH payload, unchanged' }],
} as const;

/** Envelope for a route whose payload is decoded into `payloadSchema` (an Avro record). */
export function typedEnvelopeSchema(payloadSchema: Record<string, unknown>): Record<string, unknown> {
  const name = String(payloadSchema['name'] ?? 'Payload');
  const ns = typeof payloadSchema['namespace'] === 'string' ? `${payloadSchema['namespace']}.` : '';
  const suffix = `${ns}${name}`.replace(/[^A-Za-z0-9_]/g, '_');
  return {
    type: 'record',
    name: `TypedEnvelope_${suffix}`,
    namespace: ENVELOPE_NAMESPACE,
    doc: `Telemetry from one device, payload decoded as ${ns}${name}`,
    fields: [...envelopeFields, { name: 'payload', type: payloadSchema, doc: 'PUBLISH payload, decoded from JSON' }],
  };
}

/** Shape of a decoded envelope (either kind). */
export interface DecodedEnvelope {
  gatewayId: string;
  deviceId: string;
  topic: string;
  receivedAt: number;
  seq: number;
  qos: number;
  payload: Buffer | Record<string, unknown>;
}
