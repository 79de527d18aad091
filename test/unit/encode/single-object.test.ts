/**
 * Avro single-object encoding: C3 01, 8-byte little-endian CRC-64-AVRO fingerprint, body.
 */
import assert from 'node:assert/strict';
import { test } from 'node:test';
import avro from 'avsc';
import { crc64Avro } from '../../../gateway/src/encode/crc64-avro.js';
import { createSingleObjectCodec, readFingerprint, SINGLE_OBJECT_HEADER_BYTES } from '../../../gateway/src/encode/single-object.js';

const pointType = avro.Type.forSchema({
  type: 'record',
  name: 'Point',
  namespace: 'test.geo',
  doc: 'dropped from the canonical form',
  fields: [
    { name: 'x', type: 'int' },
    { name: 'label', type: 'string', default: 'none' },
  ],
});

test('header is C3 01 + little-endian fingerprint of the canonical form, then the Avro body', () => {
  const codec = createSingleObjectCodec(pointType);
  assert.equal(codec.canonical, '{"name":"test.geo.Point","type":"record","fields":[{"name":"x","type":"int"},{"name":"label","type":"string"}]}');
  assert.equal(codec.fingerprint, crc64Avro(Buffer.from(codec.canonical, 'utf8')));

  const msg = codec.encode({ x: -3, label: 'é' });
  assert.equal(msg[0], 0xc3);
  assert.equal(msg[1], 0x01);
  assert.equal(msg.readBigUInt64LE(2), codec.fingerprint);
  assert.equal(msg.subarray(2, 10).toString('hex'), codec.fingerprintHex);
  assert.deepEqual(msg.subarray(SINGLE_OBJECT_HEADER_BYTES), pointType.toBuffer({ x: -3, label: 'é' }));
  assert.deepEqual({ ...(pointType.fromBuffer(msg.subarray(SINGLE_OBJECT_HEADER_BYTES)) as object) }, { x: -3, label: 'é' });
});

test('each encode returns its own buffer (header not shared/mutated)', () => {
  const codec = createSingleObjectCodec(pointType);
  const a = codec.encode({ x: 1, label: 'a' });
  const b = codec.encode({ x: 2, label: 'bb' });
  assert.equal((pointType.fromBuffer(a.subarray(10)) as { x: number }).x, 1);
  assert.equal((pointType.fromBuffer(b.subarray(10)) as { x: number }).x, 2);
  // A consumer scribbling over one message must not corrupt the next one's header.
  a.fill(0);
  assert.equal(b[0], 0xc3);
  assert.equal(codec.encode({ x: 3, label: 'c' }).readBigUInt64LE(2), codec.fingerprint);
});

test('encoding a value that does not match the type throws', () => {
  const codec = createSingleObjectCodec(pointType);
  assert.throws(() => codec.encode({ x: 'one', label: 'a' }));
});

test('readFingerprint: reads the header, null without magic or when too short', () => {
  const codec = createSingleObjectCodec(pointType);
  const msg = codec.encode({ x: 7, label: 'z' });
  assert.equal(readFingerprint(msg), codec.fingerprint);
  assert.equal(readFingerprint(msg.subarray(0, 9)), null);
  const wrongMagic = Buffer.from(msg);
  wrongMagic[1] = 0x02;
  assert.equal(readFingerprint(wrongMagic), null);
  assert.equal(readFingerprint(Buffer.from('{"seq":1}')), null);
});

test('a record larger than the scratch buffer (64 KiB) encodes and decodes intact', () => {
  const create = createSingleObjectCodec;
  const H = SINGLE_OBJECT_HEADER_BYTES;
  const type = avro.Type.forSchema({ type: 'record', name: 'Big', fields: [{ name: 'b', type: 'bytes' }] });
  const codec = create(type);
  const big = Buffer.alloc(300 * 1024, 7);
  big[big.length - 1] = 9;
  const first = codec.encode({ b: big });
  const second = codec.encode({ b: Buffer.from('small') });
  assert.deepEqual((type.fromBuffer(first.subarray(H)) as { b: Buffer }).b, big);
  assert.equal((type.fromBuffer(second.subarray(H)) as { b: Buffer }).b.toString(), 'small');
  assert.deepEqual(first.subarray(0, H), second.subarray(0, H), 'header intact after the scratch buffer grew');
});
