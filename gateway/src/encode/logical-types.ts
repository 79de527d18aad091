/**
 * Logical types kept in the schema, values untouched. avsc drops a `logicalType` it has no
 * class for, so `schemas export` wrote `receivedAt` (and any logical type in a route schema) as a
 * plain long. Registering a pass-through class for each standard logical type keeps the
 * annotation in the exported schema while the values stay what the encoder writes (epoch
 * millis as a number, a decimal's bytes, a uuid string). The Parsing Canonical Form strips
 * logicalType (Avro spec, "Parsing Canonical Form": [STRIP]), so fingerprints do not change.
 */
import avro from 'avsc';

/** Logical type -> the Avro types it may annotate (Avro 1.12 spec, "Logical Types"). */
const STANDARD: Readonly<Record<string, readonly string[]>> = {
  'timestamp-millis': ['long'],
  'timestamp-micros': ['long'],
  'timestamp-nanos': ['long'],
  'local-timestamp-millis': ['long'],
  'local-timestamp-micros': ['long'],
  'local-timestamp-nanos': ['long'],
  'time-micros': ['long'],
  'time-millis': ['int'],
  date: ['int'],
  uuid: ['string', 'fixed'],
  decimal: ['bytes', 'fixed'],
  duration: ['fixed'],
};

/** Schema keys the underlying type exports itself; everything else (precision, scale) is ours. */
const OWN_KEYS = new Set(['type', 'name', 'namespace', 'aliases', 'doc', 'size', 'logicalType', 'fields', 'symbols', 'items', 'values', 'default', 'order']);

function passThrough(logicalType: string, allowed: readonly string[]): typeof avro.types.LogicalType {
  class PassThroughLogicalType extends avro.types.LogicalType {
    private readonly extraAttrs: Array<[string, unknown]>;

    constructor(schema: Record<string, unknown>, opts?: avro.ForSchemaOptions) {
      super(schema as unknown as avro.Schema, opts);
      // A logical type on the wrong base type is ignored (spec); throwing makes avsc fall back.
      const base = (this.underlyingType as avro.Type).typeName.replace(/^abstract:/, '');
      if (!allowed.includes(base)) throw new Error(`${logicalType} cannot annotate ${base}`);
      this.extraAttrs = Object.entries(schema).filter(([k]) => !OWN_KEYS.has(k));
    }

    protected override _fromValue(v: unknown): unknown {
      return v;
    }

    protected override _toValue(v: unknown): unknown {
      return v;
    }

    protected override _resolve(type: avro.Type): ((v: unknown) => unknown) | undefined {
      return type.typeName === (this.underlyingType as avro.Type).typeName ? (v: unknown) => v : undefined;
    }

    protected override _export(schema: avro.Schema): void {
      // Called with the object form of the schema (avsc's LogicalType#_deref).
      const attrs = schema as unknown as Record<string, unknown>;
      for (const [k, v] of this.extraAttrs) attrs[k] = v;
    }
  }
  return PassThroughLogicalType as unknown as typeof avro.types.LogicalType;
}

export const PASS_THROUGH_LOGICAL_TYPES: Readonly<Record<string, typeof avro.types.LogicalType>> = Object.fromEntries(
  Object.entries(STANDARD).map(([name, allowed]) => [name, passThrough(name, allowed)]),
);
