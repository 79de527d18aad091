/**
 * Avro encoder: single-object encoded envelopes. Types and fingerprints are built once at start;
 * a route with `valueSchema` validates the JSON payload against it, with the failing field paths
 * as the dead-letter reason.
 */
import { readFileSync } from 'node:fs';
import avro from 'avsc';
import { gatewayError } from '../errors.js';
import { TopicRouteTable } from '../lib/topic-route.js';
import type { StoredRecord } from '../record.js';
import type { EncodeOutcome, RecordEncoder } from './encoder.js';
import { RAW_ENVELOPE_SCHEMA, typedEnvelopeSchema } from './envelope-schema.js';
import { createSingleObjectCodec, type SingleObjectCodec } from './single-object.js';

export interface EncoderRoute {
  topic: string;
  valueSchema?: string | Record<string, unknown> | undefined;
  kafkaTopic?: string | undefined;
}

interface CompiledRoute {
  kafkaTopic: string;
  payloadType: avro.Type | null;
  codec: SingleObjectCodec;
}

export interface AvroEncoderOptions {
  gatewayId: string;
  defaultTopic: string;
  routes: readonly EncoderRoute[];
}

export class AvroEncoder implements RecordEncoder {
  readonly rawCodec: SingleObjectCodec;
  readonly typedCodecs: readonly SingleObjectCodec[];
  private readonly table: TopicRouteTable;
  private readonly compiled: CompiledRoute[];
  private readonly gatewayId: string;
  private readonly defaultTopic: string;
  // Reused envelope object: fixed shape, filled per record (no allocation per message).
  private readonly envelope = { gatewayId: '', deviceId: '', topic: '', receivedAt: 0, seq: 0, qos: 0, payload: null as unknown };

  constructor(opts: AvroEncoderOptions) {
    this.gatewayId = opts.gatewayId;
    this.defaultTopic = opts.defaultTopic;
    this.rawCodec = createSingleObjectCodec(avro.Type.forSchema(RAW_ENVELOPE_SCHEMA as unknown as avro.Schema));
    this.table = new TopicRouteTable(opts.routes.map((r) => r.topic));
    this.compiled = opts.routes.map((route, i) => this.compileRoute(route, i));
    this.typedCodecs = this.compiled.filter((c) => c.payloadType !== null).map((c) => c.codec);
  }

  private compileRoute(route: EncoderRoute, index: number): CompiledRoute {
    const kafkaTopic = route.kafkaTopic ?? this.defaultTopic;
    if (route.valueSchema === undefined) return { kafkaTopic, payloadType: null, codec: this.rawCodec };
    const schema = loadSchema(route.valueSchema, index);
    try {
      const envelopeType = avro.Type.forSchema(typedEnvelopeSchema(schema) as unknown as avro.Schema);
      const payloadType = (envelopeType as unknown as { field(name: string): { type: avro.Type } }).field('payload').type;
      if (payloadType.typeName !== 'record') throw new Error('valueSchema must be an Avro record');
      return { kafkaTopic, payloadType, codec: createSingleObjectCodec(envelopeType) };
    } catch (cause) {
      throw gatewayError('GW_ERR_ENCODE_SCHEMA_INVALID', `mqtt.routes.${index}.valueSchema: ${(cause as Error).message}`, { cause });
    }
  }

  private fill(record: StoredRecord, payload: unknown): typeof this.envelope {
    const e = this.envelope;
    e.gatewayId = this.gatewayId;
    e.deviceId = record.deviceId;
    e.topic = record.topic;
    e.receivedAt = record.receivedAt;
    e.seq = record.seq;
    e.qos = record.qos;
    e.payload = payload;
    return e;
  }

  encode(record: StoredRecord): EncodeOutcome {
    const hit = this.table.resolve(record.topic);
    if (hit === null) return { ok: false, code: 'GW_ERR_INGEST_TOPIC_UNROUTED', reason: `topic "${record.topic}" matches no configured route` };
    const route = this.compiled[hit.route.index]!;
    if (route.payloadType === null) return { ok: true, topic: route.kafkaTopic, value: this.encodeRaw(record) };

    let json: unknown;
    try {
      json = JSON.parse(record.payload.toString('utf8'));
    } catch (err) {
      return { ok: false, code: 'GW_ERR_ENCODE_PAYLOAD_NOT_JSON', reason: `payload is not JSON: ${(err as Error).message}` };
    }
    const problems: string[] = [];
    let value: unknown;
    try {
      // clone() fills fields that have schema defaults; isValid() then names every bad field.
      value = route.payloadType.clone(json);
    } catch {
      value = json;
    }
    if (!route.payloadType.isValid(value, { errorHook: (path: string[], v: unknown) => problems.push(`${path.join('.') || '(root)'}=${preview(v)}`) })) {
      return { ok: false, code: 'GW_ERR_ENCODE_SCHEMA_MISMATCH', reason: `payload does not match ${route.payloadType.name ?? 'schema'}: ${problems.slice(0, 5).join(', ')}` };
    }
    try {
      return { ok: true, topic: route.kafkaTopic, value: route.codec.encode(this.fill(record, value)) };
    } catch (err) {
      return { ok: false, code: 'GW_ERR_ENCODE_SCHEMA_MISMATCH', reason: (err as Error).message };
    }
  }

  encodeRaw(record: StoredRecord): Buffer {
    return this.rawCodec.encode(this.fill(record, record.payload));
  }

  /** Every schema this encoder can emit (raw + one per typed route), for `schemas export`. */
  allCodecs(): SingleObjectCodec[] {
    return [this.rawCodec, ...this.typedCodecs];
  }
}

function loadSchema(source: string | Record<string, unknown>, index: number): Record<string, unknown> {
  if (typeof source !== 'string') return source;
  try {
    return JSON.parse(readFileSync(source, 'utf8')) as Record<string, unknown>;
  } catch (cause) {
    throw gatewayError('GW_ERR_ENCODE_SCHEMA_INVALID', `mqtt.routes.${index}.valueSchema: cannot read ${source}: ${(cause as Error).message}`, { cause });
  }
}

function preview(v: unknown): string {
  const s = JSON.stringify(v) ?? String(v);
  return s.length > 40 ? `${s.slice(0, 37)}...` : s;
}

export function createAvroEncoder(opts: AvroEncoderOptions): AvroEncoder {
  return new AvroEncoder(opts);
}
