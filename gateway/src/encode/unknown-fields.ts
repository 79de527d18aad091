/**
 * JSON fields a typed route's schema does not declare. avsc writes only the declared fields, so
 * without this check `humidity` vanished with no trace. A route chooses (`unknownFields`):
 *   drop    the record is sent without them, the fields are counted and logged (default)
 *   reject  the record goes to the dead-letter topic (GW_ERR_ENCODE_UNKNOWN_FIELD)
 *   extra   each record type of the schema gains `extra: map<string>`; an unknown field is kept
 *           there under its name, its value as JSON text
 */
import type avro from 'avsc';
import { stringify as stringifyExact } from 'lossless-json';
import { underlying } from './exact-numbers.js';

/** The modes of mqtt.routes[].unknownFields (config/mqtt-schema.ts, where they are validated). */
export type UnknownFieldsMode = 'drop' | 'reject' | 'extra';

/** Name of the map field `extra` mode adds to every record type of a route schema. */
export const EXTRA_FIELD = 'extra';

/**
 * The route schema with `extra: map<string>` (default {}) added to each record definition, so
 * unknown fields have a typed home. Refuses a schema that already has a field named `extra`.
 */
export function withExtraMaps(schema: Record<string, unknown>): Record<string, unknown> {
  const copy = structuredClone(schema);
  const visit = (node: unknown): void => {
    if (Array.isArray(node)) {
      node.forEach(visit);
      return;
    }
    if (node === null || typeof node !== 'object') return;
    const n = node as Record<string, unknown>;
    if ((n['type'] === 'record' || n['type'] === 'error') && Array.isArray(n['fields'])) {
      const fields = n['fields'] as Array<Record<string, unknown>>;
      if (fields.some((f) => f['name'] === EXTRA_FIELD)) {
        throw new Error(`unknownFields "extra" adds a field "${EXTRA_FIELD}" to record ${String(n['name'])}, which already has one`);
      }
      for (const f of fields) visit(f['type']);
      fields.push({ name: EXTRA_FIELD, type: { type: 'map', values: 'string' }, default: {}, doc: 'JSON fields the schema does not declare: name -> the value as JSON text' });
      return;
    }
    if (n['type'] === 'array') visit(n['items']);
    else if (n['type'] === 'map') visit(n['values']);
    else if (typeof n['type'] === 'object') visit(n['type']);
  };
  visit(copy);
  return copy;
}

interface RecordLike {
  fields: Array<{ name: string; type: avro.Type }>;
}

interface RecordShape {
  known: ReadonlySet<string>;
  nested: Array<{ name: string; type: avro.Type }>;
}

/**
 * Finds undeclared fields in a parsed payload, walking value and schema together. Built once
 * per route; per record it costs one key lookup per JSON field, and it descends only into
 * fields whose type can hold a record.
 */
export class UnknownFieldScanner {
  private readonly shapes = new WeakMap<avro.Type, RecordShape>();
  private readonly holdsRecord = new WeakMap<avro.Type, boolean>();

  constructor(
    private readonly root: avro.Type,
    private readonly mode: UnknownFieldsMode,
  ) {}

  /**
   * Paths of the unknown fields (`humidity`, `location.alt`, `readings[2].x`), or null when
   * there are none. In `extra` mode each record object gets its `extra` map filled (the parsed
   * payload is modified; a device's own key `extra` is itself undeclared and kept in the map).
   */
  scan(value: unknown): string[] | null {
    this.found = null;
    this.visit(value, this.root, '');
    const found = this.found;
    this.found = null;
    return found;
  }

  /** Paths found by the scan in progress; allocated only when there is one (not per record). */
  private found: string[] | null = null;

  private visit(value: unknown, type: avro.Type, path: string): void {
    if (value === null || typeof value !== 'object') return;
    const t = underlying(type);
    switch (t.typeName) {
      case 'record':
      case 'error':
        if (!Array.isArray(value)) this.visitRecord(value as Record<string, unknown>, t, path);
        return;
      case 'array': {
        if (!Array.isArray(value)) return;
        const items = (t as unknown as { itemsType: avro.Type }).itemsType;
        if (!this.mayHoldRecord(items)) return;
        for (let i = 0; i < value.length; i++) this.visit(value[i], items, `${path}[${i}]`);
        return;
      }
      case 'map': {
        const values = (t as unknown as { valuesType: avro.Type }).valuesType;
        if (Array.isArray(value) || !this.mayHoldRecord(values)) return;
        for (const k of Object.keys(value)) this.visit((value as Record<string, unknown>)[k], values, join(path, k));
        return;
      }
      case 'union:unwrapped': {
        // An unambiguous union has at most one branch of each JSON kind (object, array).
        const kind = Array.isArray(value) ? ['array'] : ['record', 'error', 'map'];
        const branch = (t as unknown as { types: avro.Type[] }).types.find((b) => kind.includes(underlying(b).typeName));
        if (branch) this.visit(value, branch, path);
        return;
      }
      case 'union:wrapped': {
        const obj = value as Record<string, unknown>;
        for (const k of Object.keys(obj)) {
          const branch = (t as unknown as { types: avro.Type[] }).types.find((b) => b.branchName === k);
          if (branch) this.visit(obj[k], branch, path);
        }
        return;
      }
      default:
        return;
    }
  }

  private visitRecord(obj: Record<string, unknown>, t: avro.Type, path: string): void {
    const shape = this.shapeOf(t);
    let extra: Record<string, string> | null = null;
    // for-in, not Object.keys: no array per record. JSON.parse objects have no inherited keys.
    for (const k in obj) {
      if (shape.known.has(k)) continue;
      (this.found ??= []).push(join(path, k));
      if (this.mode === 'extra') (extra ??= {})[k] = toJsonText(obj[k]);
    }
    if (this.mode === 'extra') obj[EXTRA_FIELD] = extra ?? {};
    for (const f of shape.nested) {
      if (Object.hasOwn(obj, f.name)) this.visit(obj[f.name], f.type, join(path, f.name));
    }
  }

  /**
   * The declared field names (in `extra` mode the added `extra` field is not one a device may
   * send) and the fields whose type can hold a record (the only ones worth descending into).
   */
  private shapeOf(t: avro.Type): RecordShape {
    let shape = this.shapes.get(t);
    if (shape === undefined) {
      const fields = (t as unknown as RecordLike).fields.filter((f) => !(this.mode === 'extra' && f.name === EXTRA_FIELD));
      shape = { known: new Set(fields.map((f) => f.name)), nested: [] };
      // Set before descending: a recursive record refers to itself.
      this.shapes.set(t, shape);
      shape.nested = fields.filter((f) => this.mayHoldRecord(f.type));
    }
    return shape;
  }

  private mayHoldRecord(type: avro.Type): boolean {
    let v = this.holdsRecord.get(type);
    if (v !== undefined) return v;
    const t = underlying(type);
    // Records answer true without descending, so recursive schemas terminate.
    if (t.typeName === 'record' || t.typeName === 'error') v = true;
    else if (t.typeName === 'array') v = this.mayHoldRecord((t as unknown as { itemsType: avro.Type }).itemsType);
    else if (t.typeName === 'map') v = this.mayHoldRecord((t as unknown as { valuesType: avro.Type }).valuesType);
    else if (t.typeName.startsWith('union')) v = (t as unknown as { types: avro.Type[] }).types.some((b) => this.mayHoldRecord(b));
    else v = false;
    this.holdsRecord.set(type, v);
    return v;
  }
}

function toJsonText(v: unknown): string {
  // lossless-json writes a BigInt as its exact literal; JSON.stringify would throw on one.
  return stringifyExact(v) ?? 'null';
}

function join(path: string, key: string): string {
  return path === '' ? key : `${path}.${key}`;
}
