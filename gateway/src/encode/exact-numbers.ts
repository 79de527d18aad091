/**
 * 64-bit integers without loss. JSON.parse turns 9223372036854775807 into a double
 * (9223372036854775808), which avsc's long then refuses as unsafe: a valid Avro long would be
 * dead-lettered. For payloads that may hold such a literal, the encoder parses with
 * lossless-json (integers beyond 2^53 become BigInt) and writes with `exactLongType`; every
 * other payload keeps JSON.parse and avsc's native long (the hot path).
 */
import avro from 'avsc';
import { parse as parseLossless, isInteger } from 'lossless-json';

const LONG_MIN = -(2n ** 63n);
const LONG_MAX = 2n ** 63n - 1n;
const SAFE_MIN = BigInt(Number.MIN_SAFE_INTEGER);
const SAFE_MAX = BigInt(Number.MAX_SAFE_INTEGER);

/**
 * Whether the payload has a run of 16 ASCII digits. Every integer of 15 digits or fewer is below
 * 2^53 (16 digits), so a payload without such a run parses exactly with JSON.parse. A run inside
 * a string or a long fraction only sends the payload to the exact parser: slower, never wrong.
 * A byte loop: ~140 ns for a 150-byte payload, a third of /\d{16}/ on the decoded string
 * (bench/micro/exact-json.ts).
 */
export function mayHoldUnsafeInteger(payload: Buffer): boolean {
  let run = 0;
  for (let i = 0; i < payload.length; i++) {
    const c = payload[i]!;
    if (c >= 0x30 && c <= 0x39) {
      if (++run >= 16) return true;
    } else run = 0;
  }
  return false;
}

function isExactLong(v: unknown): v is number | bigint {
  if (typeof v === 'number') return Number.isSafeInteger(v);
  return typeof v === 'bigint' && v >= LONG_MIN && v <= LONG_MAX;
}

/** A JS number when it is exact as one, else a BigInt: callers doing arithmetic on small longs keep numbers. */
export function exactLongValue(n: bigint): number | bigint {
  return n >= SAFE_MIN && n <= SAFE_MAX ? Number(n) : n;
}

/**
 * Avro long over the full signed 64-bit range: writes safe-integer numbers and in-range BigInts,
 * reads a number when it is exact as one and a BigInt otherwise. Same wire bytes and canonical
 * form ("long") as avsc's own long, so fingerprints do not change.
 */
export const exactLongType: avro.Type = avro.types.LongType.__with({
  fromBuffer: (buf: Buffer) => exactLongValue(buf.readBigInt64LE(0)),
  toBuffer: (v: number | bigint) => {
    const buf = Buffer.allocUnsafe(8);
    buf.writeBigInt64LE(typeof v === 'bigint' ? v : BigInt(v));
    return buf;
  },
  fromJSON: (v: unknown) => {
    if (isExactLong(v)) return v;
    if (typeof v === 'string' && isInteger(v)) return exactLongValue(BigInt(v));
    throw new Error(`not an Avro long: ${String(v)}`);
  },
  toJSON: (v: number | bigint) => v,
  isValid: isExactLong,
  compare: (a: number | bigint, b: number | bigint) => (a < b ? -1 : a > b ? 1 : 0),
});

/**
 * avsc type hook: every plain `long` becomes `exactLongType`. A long with a logical type
 * (timestamp-millis, ...) keeps avsc's long underneath: its real values fit a double.
 */
export function exactLongHook(schema: avro.Schema): avro.Type | undefined {
  if (schema === 'long') return exactLongType;
  if (typeof schema === 'object' && schema !== null && !Array.isArray(schema)) {
    const s = schema as { type?: unknown; logicalType?: unknown };
    if (s.type === 'long' && s.logicalType === undefined) return exactLongType;
  }
  return undefined;
}

/** An integer literal beyond 2^53 becomes a BigInt; every other number is what JSON.parse gives. */
function parseNumber(text: string): number | bigint {
  const n = Number(text);
  // Beyond 20 characters no int64 is possible ("-9223372036854775808" is 20): keep the double, and
  // do not hand a 256 KB literal to BigInt().
  if (Number.isSafeInteger(n) || text.length > 20 || !isInteger(text)) return n;
  return BigInt(text);
}

/**
 * JSON.parse, except that integer literals beyond 2^53 are kept exact as BigInt. A duplicate
 * key keeps its last value, as JSON.parse does (lossless-json would throw).
 */
export function parseJsonExact(text: string): unknown {
  return parseLossless(text, null, { parseNumber, onDuplicateKey: ({ newValue }) => newValue });
}

/**
 * The exact parser yields BigInt wherever an integer literal exceeds 2^53, but only `long`
 * fields can hold one: a `double` (or `float`) field written as 12345678901234567 gets the
 * double JSON.parse would have given. Walks value and schema together; other mismatches are
 * left for isValid() to name.
 */
export function bigIntsToSchema(value: unknown, type: avro.Type): unknown {
  if (typeof value === 'bigint') {
    const leaf = bigIntTarget(type);
    return leaf === 'double' ? Number(value) : value;
  }
  if (value === null || typeof value !== 'object') return value;
  const t = underlying(type);
  switch (t.typeName) {
    case 'record':
    case 'error': {
      const obj = value as Record<string, unknown>;
      for (const f of (t as unknown as { fields: Array<{ name: string; type: avro.Type }> }).fields) {
        if (Object.hasOwn(obj, f.name)) obj[f.name] = bigIntsToSchema(obj[f.name], f.type);
      }
      return value;
    }
    case 'array': {
      if (!Array.isArray(value)) return value;
      const items = (t as unknown as { itemsType: avro.Type }).itemsType;
      for (let i = 0; i < value.length; i++) value[i] = bigIntsToSchema(value[i], items);
      return value;
    }
    case 'map': {
      const values = (t as unknown as { valuesType: avro.Type }).valuesType;
      const obj = value as Record<string, unknown>;
      for (const k of Object.keys(obj)) obj[k] = bigIntsToSchema(obj[k], values);
      return value;
    }
    case 'union:unwrapped': {
      const branches = (t as unknown as { types: avro.Type[] }).types;
      const objectLike = branches.find((b) => ['record', 'error', 'map', 'array'].includes(underlying(b).typeName));
      return objectLike ? bigIntsToSchema(value, objectLike) : value;
    }
    case 'union:wrapped': {
      const branches = (t as unknown as { types: avro.Type[] }).types;
      const obj = value as Record<string, unknown>;
      for (const k of Object.keys(obj)) {
        const b = branches.find((x) => x.branchName === k);
        if (b) obj[k] = bigIntsToSchema(obj[k], b);
      }
      return value;
    }
    default:
      return value;
  }
}

/** Where a BigInt may go: a long (keep it), only a double/float (convert), or neither (isValid reports). */
function bigIntTarget(type: avro.Type): 'long' | 'double' | 'none' {
  const t = underlying(type);
  if (t.typeName === 'long' || t.typeName === 'abstract:long') return 'long';
  if (t.typeName === 'double' || t.typeName === 'float') return 'double';
  if (t.typeName === 'union:unwrapped') {
    const targets = (t as unknown as { types: avro.Type[] }).types.map(bigIntTarget);
    return targets.includes('long') ? 'long' : targets.includes('double') ? 'double' : 'none';
  }
  return 'none';
}

/** The type under any logical types. */
export function underlying(type: avro.Type): avro.Type {
  let t = type;
  while (t.typeName.startsWith('logical:')) t = (t as unknown as { underlyingType: avro.Type }).underlyingType;
  return t;
}
