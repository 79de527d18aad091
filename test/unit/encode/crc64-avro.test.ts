/**
 * CRC-64-AVRO against the reference vectors of apache/avro share/test/data/schema-tests.txt
 * (cross-checked there by the Java implementation). The file lists signed Java longs; the
 * gateway works with the unsigned view, hence BigInt.asUintN(64, ...).
 */
import assert from 'node:assert/strict';
import { test } from 'node:test';
import avro from 'avsc';
import { crc64Avro } from '../../../gateway/src/encode/crc64-avro.js';
import { createSingleObjectCodec } from '../../../gateway/src/encode/single-object.js';

interface Vector {
  input: unknown;
  canonical: string;
  fingerprint: bigint;
}

const VECTORS: readonly Vector[] = [
  { input: 'null', canonical: '"null"', fingerprint: 7195948357588979594n },
  { input: 'boolean', canonical: '"boolean"', fingerprint: -6970731678124411036n },
  { input: { type: 'int' }, canonical: '"int"', fingerprint: 8247732601305521295n },
  { input: 'long', canonical: '"long"', fingerprint: -3434872931120570953n },
  { input: 'float', canonical: '"float"', fingerprint: 5583340709985441680n },
  { input: 'double', canonical: '"double"', fingerprint: -8181574048448539266n },
  { input: 'bytes', canonical: '"bytes"', fingerprint: 5746618253357095269n },
  { input: { type: 'string' }, canonical: '"string"', fingerprint: -8142146995180207161n },
  { input: ['int'], canonical: '["int"]', fingerprint: -5232228896498058493n },
  { input: ['int', { type: 'boolean' }], canonical: '["int","boolean"]', fingerprint: 5392556393470105090n },
  { input: { fields: [], type: 'record', name: 'foo' }, canonical: '{"name":"foo","type":"record","fields":[]}', fingerprint: -4824392279771201922n },
  { input: { fields: [], type: 'record', name: 'foo', namespace: 'x.y' }, canonical: '{"name":"x.y.foo","type":"record","fields":[]}', fingerprint: 5916914534497305771n },
  { input: { fields: [], type: 'record', name: 'a.b.foo', namespace: 'x.y' }, canonical: '{"name":"a.b.foo","type":"record","fields":[]}', fingerprint: -4616218487480524110n },
  { input: { fields: [], type: 'record', name: 'foo', doc: 'Useful info', aliases: ['bar'] }, canonical: '{"name":"foo","type":"record","fields":[]}', fingerprint: -4824392279771201922n },
  {
    input: { fields: [{ type: { type: 'boolean' }, name: 'f1' }], type: 'record', name: 'foo' },
    canonical: '{"name":"foo","type":"record","fields":[{"name":"f1","type":"boolean"}]}',
    fingerprint: 7843277075252814651n,
  },
  {
    input: {
      fields: [
        { type: 'boolean', aliases: [], name: 'f1', default: true },
        { order: 'descending', name: 'f2', doc: 'Hello', type: 'int' },
      ],
      type: 'record',
      name: 'foo',
    },
    canonical: '{"name":"foo","type":"record","fields":[{"name":"f1","type":"boolean"},{"name":"f2","type":"int"}]}',
    fingerprint: -4860222112080293046n,
  },
  { input: { type: 'enum', name: 'foo', symbols: ['A1'] }, canonical: '{"name":"foo","type":"enum","symbols":["A1"]}', fingerprint: -6342190197741309591n },
  {
    input: { namespace: 'x.y.z', type: 'enum', name: 'foo', doc: 'foo bar', symbols: ['A1', 'A2'] },
    canonical: '{"name":"x.y.z.foo","type":"enum","symbols":["A1","A2"]}',
    fingerprint: -4448647247586288245n,
  },
  { input: { type: 'fixed', name: 'foo', size: 15 }, canonical: '{"name":"foo","type":"fixed","size":15}', fingerprint: 1756455273707447556n },
  { input: { namespace: 'x.y.z', type: 'fixed', name: 'foo', doc: 'foo bar', size: 32 }, canonical: '{"name":"x.y.z.foo","type":"fixed","size":32}', fingerprint: -3064184465700546786n },
  { input: { items: { type: 'null' }, type: 'array' }, canonical: '{"type":"array","items":"null"}', fingerprint: -589620603366471059n },
  { input: { values: 'string', type: 'map' }, canonical: '{"type":"map","values":"string"}', fingerprint: -8732877298790414990n },
  {
    input: { name: 'PigValue', type: 'record', fields: [{ name: 'value', type: ['null', 'int', 'long', 'PigValue'] }] },
    canonical: '{"name":"PigValue","type":"record","fields":[{"name":"value","type":["null","int","long","PigValue"]}]}',
    fingerprint: -1759257747318642341n,
  },
];

const utf8 = (s: string) => Buffer.from(s, 'utf8');

test('the four spec vectors named in the brief', () => {
  assert.equal(crc64Avro(utf8('"null"')), 7195948357588979594n);
  assert.equal(crc64Avro(utf8('"int"')), BigInt.asUintN(64, 8247732601305521295n));
  assert.equal(crc64Avro(utf8('"string"')), BigInt.asUintN(64, -8142146995180207161n));
  assert.equal(crc64Avro(utf8('{"name":"foo","type":"fixed","size":15}')), BigInt.asUintN(64, 1756455273707447556n));
});

test('every fingerprint in schema-tests.txt, computed over the canonical form', () => {
  for (const v of VECTORS) {
    assert.equal(crc64Avro(utf8(v.canonical)), BigInt.asUintN(64, v.fingerprint), v.canonical);
  }
});

test('empty input yields the CRC-64-AVRO seed; result always fits in 64 unsigned bits', () => {
  assert.equal(crc64Avro(new Uint8Array(0)), 0xc15d213aa4d7a795n);
  const fp = crc64Avro(utf8('"string"'));
  assert.ok(fp >= 0n && fp < 1n << 64n);
  // Key order matters: a non-canonical rendering is a different fingerprint.
  assert.notEqual(crc64Avro(utf8('{"type":"fixed","name":"foo","size":15}')), crc64Avro(utf8('{"name":"foo","type":"fixed","size":15}')));
});

test('single-object codec derives the Parsing Canonical Form and its fingerprint from an avsc type', () => {
  for (const v of VECTORS) {
    const codec = createSingleObjectCodec(avro.Type.forSchema(v.input as avro.Schema));
    assert.equal(codec.canonical, v.canonical, JSON.stringify(v.input));
    assert.equal(codec.fingerprint, BigInt.asUintN(64, v.fingerprint), v.canonical);
    const le = Buffer.alloc(8);
    le.writeBigUInt64LE(codec.fingerprint);
    assert.equal(codec.fingerprintHex, le.toString('hex'));
  }
});
