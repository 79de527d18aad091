/**
 * Avro encoder: single-object encoded envelopes. Types and fingerprints are built once at start;
 * a route with `valueSchema` validates the JSON payload against it, with the failing field paths
 * as the dead-letter reason. JSON -> Avro is exact: integers beyond 2^53 stay exact in longs
 * (exact-numbers.ts) and undeclared fields follow the route's `unknownFields` (unknown-fields.ts).
 */
import { readFileSync } from 'node:fs';
import avro from 'avsc';
import { describeError, gatewayError } from '../errors.js';
import { jsonDepthExceeds, loneSurrogatePath } from '../lib/json-depth.js';
import { TopicRouteTable } from '../lib/topic-route.js';
import type { StoredRecord } from '../record.js';
import type { EncodeOutcome, RecordEncoder } from './encoder.js';
import { RAW_ENVELOPE_SCHEMA, typedEnvelopeSchema } from './envelope-schema.js';
import { bigIntsToSchema, mayHoldUnsafeInteger, parseJsonExact } from './exact-numbers.js';
import { createSingleObjectCodec, type SingleObjectCodec } from './single-object.js';
import { UnknownFieldScanner, withExtraMaps, type UnknownFieldsMode } from './unknown-fields.js';
import { registryHeader, subjectFor, type SchemaRef } from './registry-subject.js';
import type { SchemaIdSource } from './schema-id-resolver.js';
import type { SubjectNameStrategy } from '../config/schema-registry-schema.js';

/**
 * Deepest JSON nesting a typed route accepts. avsc validates and encodes recursively; 64 levels
 * is far beyond any telemetry record and far below the stack limit.
 */
export const MAX_PAYLOAD_DEPTH = 64;

export interface EncoderRoute {
  topic: string;
  valueSchema?: string | Record<string, unknown> | undefined;
  kafkaTopic?: string | undefined;
  /** JSON fields the schema does not declare: drop (counted), reject (dead letter) or extra (kept in a map). Default drop. */
  unknownFields?: UnknownFieldsMode | undefined;
}

interface TypedRoute {
  /** Payload record type, longs as numbers (hot path). */
  payloadType: avro.Type;
  /** Same record, longs exact (BigInt beyond 2^53); used only for payloads with a 16-digit run. */
  exactPayloadType: avro.Type;
  /** Whether the schema has a long anywhere; without one JSON.parse is always exact enough. */
  hasLong: boolean;
  unknownFields: UnknownFieldsMode;
  scanner: UnknownFieldScanner;
}

/** Where a record of one schema goes on one topic, in registry format: its subject and, once known, its header. */
interface RegistryWire {
  ref: SchemaRef;
  /** 00 + schema id; null until the registry (or the id cache) gave the id. */
  header: Buffer | null;
}

interface CompiledRoute {
  kafkaTopic: string;
  typed: TypedRoute | null;
  codec: SingleObjectCodec;
  /** Set in registry format only. */
  wire: RegistryWire | null;
}

/** kafka.valueFormat: registry: Confluent wire format with ids from `ids`. */
export interface RegistryFraming {
  ids: SchemaIdSource;
  strategy: SubjectNameStrategy;
  /** Dead letters go there, in the raw envelope, under that topic's subject. */
  dlqTopic: string;
}

export interface AvroEncoderOptions {
  gatewayId: string;
  defaultTopic: string;
  routes: readonly EncoderRoute[];
  /** Absent: single-object encoding (the default valueFormat). */
  registry?: RegistryFraming | undefined;
}

export class AvroEncoder implements RecordEncoder {
  readonly rawCodec: SingleObjectCodec;
  readonly typedCodecs: readonly SingleObjectCodec[];
  private readonly table: TopicRouteTable;
  private readonly compiled: CompiledRoute[];
  private readonly gatewayId: string;
  private readonly defaultTopic: string;
  private readonly registry: RegistryFraming | null;
  /** Registry format: the raw envelope on the DLQ topic. */
  private readonly dlqWire: RegistryWire | null;
  /** Registry format: every wire has its header (rebuilt when the id source reports a changed id). */
  private wiresReady = false;
  /** The id source's generation the headers were built at: a changed id rebuilds them. */
  private wiresGeneration = 0;
  // Reused envelope object: fixed shape, filled per record (no allocation per message).
  private readonly envelope = { gatewayId: '', deviceId: '', topic: '', receivedAt: 0, seq: 0, qos: 0, payload: null as unknown };

  constructor(opts: AvroEncoderOptions) {
    this.gatewayId = opts.gatewayId;
    this.defaultTopic = opts.defaultTopic;
    this.registry = opts.registry ?? null;
    this.rawCodec = createSingleObjectCodec(RAW_ENVELOPE_SCHEMA as unknown as avro.Schema);
    this.table = new TopicRouteTable(opts.routes.map((r) => r.topic));
    this.compiled = opts.routes.map((route, i) => this.compileRoute(route, i));
    this.typedCodecs = this.compiled.filter((c) => c.typed !== null).map((c) => c.codec);
    this.dlqWire = this.registry === null ? null : this.wireFor(this.registry.dlqTopic, this.rawCodec);
  }

  private wireFor(topic: string, codec: SingleObjectCodec): RegistryWire | null {
    const r = this.registry;
    if (r === null) return null;
    const name = (codec.type as unknown as { name?: string }).name ?? 'Envelope';
    return { ref: { subject: subjectFor(r.strategy, topic, name), schema: codec.fullSchema }, header: null };
  }

  /** Registry format: each (subject, schema) this encoder writes; empty in single-object format. */
  schemaRefs(): SchemaRef[] {
    const wires = [...this.compiled.map((c) => c.wire), this.dlqWire].filter((w): w is RegistryWire => w !== null);
    return [...new Map(wires.map((w) => [`${w.ref.subject}\u0000${w.ref.schema}`, w.ref])).values()];
  }

  /**
   * Null when every record can be encoded now; else why not (registry format: a schema still
   * without an id). The pump asks before it leases: records wait in the buffer, never dead-letter.
   */
  ready(): { code: string; reason: string } | null {
    if (this.registry === null) return null;
    const generation = this.registry.ids.generation?.() ?? 0;
    if (this.wiresReady && generation === this.wiresGeneration) return null;
    for (const w of [...this.compiled.map((c) => c.wire), this.dlqWire]) {
      if (w === null) continue;
      const id = this.registry.ids.idOf(w.ref);
      if (id === null) {
        if (w.header !== null) continue; // known before (a schema this encoder's config no longer resolves): kept
        return this.registry.ids.problem(w.ref) ?? { code: 'GW_ERR_REGISTRY_UNREACHABLE', reason: `no id for subject "${w.ref.subject}"` };
      }
      if (w.header === null || w.header.readUInt32BE(1) !== id) w.header = registryHeader(id);
    }
    this.wiresReady = true;
    this.wiresGeneration = generation;
    return null;
  }

  private compileRoute(route: EncoderRoute, index: number): CompiledRoute {
    const kafkaTopic = route.kafkaTopic ?? this.defaultTopic;
    if (route.valueSchema === undefined) return { kafkaTopic, typed: null, codec: this.rawCodec, wire: this.wireFor(kafkaTopic, this.rawCodec) };
    const unknownFields = route.unknownFields ?? 'drop';
    const schema = loadSchema(route.valueSchema, index);
    try {
      const payloadSchema = unknownFields === 'extra' ? withExtraMaps(schema) : schema;
      const codec = createSingleObjectCodec(typedEnvelopeSchema(payloadSchema) as unknown as avro.Schema);
      const payloadType = payloadOf(codec.type);
      if (payloadType.typeName !== 'record') throw new Error('valueSchema must be an Avro record');
      const typed: TypedRoute = {
        payloadType,
        exactPayloadType: payloadOf(codec.exactType),
        hasLong: holdsLong(payloadType),
        unknownFields,
        scanner: new UnknownFieldScanner(payloadType, unknownFields),
      };
      return { kafkaTopic, typed, codec, wire: this.wireFor(kafkaTopic, codec) };
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

  /** Never throws: every failure is an outcome with a code, so one record cannot stop the pump. */
  encode(record: StoredRecord): EncodeOutcome {
    const hit = this.table.resolve(record.topic);
    // Ingest buffers only routed topics; a reload that drops a route leaves such records behind.
    if (hit === null) return { ok: false, code: 'GW_ERR_ENCODE_UNROUTED', reason: `topic "${record.topic}" matches no configured route` };
    const route = this.compiled[hit.route.index]!;
    try {
      if (route.typed === null) return { ok: true, topic: route.kafkaTopic, value: this.frame(route.codec, route.wire, this.fill(record, record.payload), false), dropped: null };
      return this.encodeTyped(record, route, route.typed);
    } catch (err) {
      // A bug or a limit we did not foresee (in avsc or here): dead-letter the record, not the gateway.
      return { ok: false, code: 'GW_ERR_ENCODE_FAILED', reason: `${errorName(err)}: ${clip(describeError(err), 200)}` };
    }
  }

  private encodeTyped(record: StoredRecord, route: CompiledRoute, typed: TypedRoute): EncodeOutcome {
    // Bound the depth before anything walks the value: avsc and JSON.stringify recurse.
    if (jsonDepthExceeds(record.payload, MAX_PAYLOAD_DEPTH)) {
      return { ok: false, code: 'GW_ERR_ENCODE_PAYLOAD_TOO_DEEP', reason: `arrays/objects nest deeper than ${MAX_PAYLOAD_DEPTH} levels` };
    }
    const text = record.payload.toString('utf8');
    // The exact parser only where it can matter: a long in the schema and a 16-digit run in the text.
    const exact = typed.hasLong && mayHoldUnsafeInteger(record.payload);
    const payloadType = exact ? typed.exactPayloadType : typed.payloadType;
    let json: unknown;
    try {
      json = exact ? bigIntsToSchema(parseJsonExact(text), payloadType) : JSON.parse(text);
    } catch (err) {
      return { ok: false, code: 'GW_ERR_ENCODE_PAYLOAD_NOT_JSON', reason: `payload is not JSON: ${clip((err as Error).message, 200)}` };
    }
    // A lone surrogate can only come from a \uD8xx-\uDFxx escape (raw bytes decode to U+FFFD).
    // avsc's clone() would silently turn it into U+FFFD, so check the whole payload before it.
    if (record.payload.includes('\\ud') || record.payload.includes('\\uD')) {
      const at = loneSurrogatePath(json);
      if (at !== null) return { ok: false, code: 'GW_ERR_ENCODE_SCHEMA_MISMATCH', reason: `${at}: string holds an unpaired UTF-16 surrogate (no UTF-8 form)` };
    }
    // Undeclared fields: avsc would silently write only the declared ones.
    const unknown = typed.scanner.scan(json);
    if (unknown !== null && typed.unknownFields === 'reject') {
      return { ok: false, code: 'GW_ERR_ENCODE_UNKNOWN_FIELD', reason: `fields not in ${payloadType.name ?? 'schema'}: ${clip(unknown.slice(0, 10).join(', '), 200)}` };
    }
    const problems: string[] = [];
    let value: unknown;
    try {
      // clone() fills fields that have schema defaults; isValid() then names every bad field.
      value = payloadType.clone(json);
    } catch {
      value = json;
    }
    if (!payloadType.isValid(value, { errorHook: (path: string[], v: unknown) => problems.push(`${path.join('.') || '(root)'}=${preview(v)}`) })) {
      return { ok: false, code: 'GW_ERR_ENCODE_SCHEMA_MISMATCH', reason: `payload does not match ${payloadType.name ?? 'schema'}: ${problems.slice(0, 5).join(', ')}` };
    }
    try {
      const dropped = typed.unknownFields === 'drop' ? unknown : null;
      return { ok: true, topic: route.kafkaTopic, value: this.frame(route.codec, route.wire, this.fill(record, value), exact), dropped };
    } catch (err) {
      return { ok: false, code: 'GW_ERR_ENCODE_SCHEMA_MISMATCH', reason: clip((err as Error).message, 200) };
    }
  }

  /** The raw envelope as it goes to the DLQ topic (registry format: under the DLQ topic's subject). */
  encodeRaw(record: StoredRecord): Buffer {
    return this.frame(this.rawCodec, this.dlqWire, this.fill(record, record.payload), false);
  }

  private frame(codec: SingleObjectCodec, wire: RegistryWire | null, value: unknown, exact: boolean): Buffer {
    if (wire === null) return codec.encode(value, exact);
    // The pump encodes only after ready(): a missing id here is a bug, reported as an encode failure.
    if (wire.header === null) throw new Error(`no schema id yet for subject "${wire.ref.subject}" (encoded before ready())`);
    return codec.encodeFramed(value, exact, wire.header);
  }

  /** Every schema this encoder can emit (raw + one per typed route), for `schemas export`. */
  allCodecs(): SingleObjectCodec[] {
    return [this.rawCodec, ...this.typedCodecs];
  }
}

function payloadOf(envelopeType: avro.Type): avro.Type {
  return (envelopeType as unknown as { field(name: string): { type: avro.Type } }).field('payload').type;
}

/** Whether a long (plain, not under a logical type) occurs anywhere in the type. */
function holdsLong(type: avro.Type, seen: Set<avro.Type> = new Set()): boolean {
  if (seen.has(type)) return false;
  seen.add(type);
  if (type.typeName === 'long' || type.typeName === 'abstract:long') return true;
  if (type.typeName.startsWith('logical:')) return false;
  const t = type as unknown as { fields?: Array<{ type: avro.Type }>; itemsType?: avro.Type; valuesType?: avro.Type; types?: avro.Type[] };
  const children = [...(t.fields?.map((f) => f.type) ?? []), ...(t.itemsType ? [t.itemsType] : []), ...(t.valuesType ? [t.valuesType] : []), ...(t.types ?? [])];
  return children.some((c) => holdsLong(c, seen));
}

function loadSchema(source: string | Record<string, unknown>, index: number): Record<string, unknown> {
  if (typeof source !== 'string') return source;
  try {
    return JSON.parse(readFileSync(source, 'utf8')) as Record<string, unknown>;
  } catch (cause) {
    throw gatewayError('GW_ERR_ENCODE_SCHEMA_INVALID', `mqtt.routes.${index}.valueSchema: cannot read ${source}: ${(cause as Error).message}`, { cause });
  }
}

/** A short, non-recursive rendering of an offending value for the dead-letter reason. */
function preview(v: unknown): string {
  let s: string;
  if (typeof v === 'string') s = JSON.stringify(v.length > 40 ? v.slice(0, 40) : v);
  else if (Array.isArray(v)) s = `array(${v.length})`;
  else if (v !== null && typeof v === 'object') s = `object(${Object.keys(v).slice(0, 3).join(',')}${Object.keys(v).length > 3 ? ',...' : ''})`;
  else s = String(v);
  return clip(s, 40);
}

function clip(s: string, max: number): string {
  return s.length > max ? `${s.slice(0, max - 3)}...` : s;
}

function errorName(err: unknown): string {
  return err instanceof Error ? err.name : typeof err;
}

export function createAvroEncoder(opts: AvroEncoderOptions): AvroEncoder {
  return new AvroEncoder(opts);
}
