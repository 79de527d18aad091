/**
 * The error catalog stays complete (in the style of fastify's test/internals/errors.test.js):
 * every GW_ERR_* code used anywhere in gateway/src is a catalog key, every catalog key is used
 * somewhere in gateway/src outside the catalog (an unused code is dead), and every entry is usable.
 */
import assert from 'node:assert/strict';
import { existsSync, readFileSync } from 'node:fs';
import { join } from 'node:path';
import { test } from 'node:test';
import { fileURLToPath } from 'node:url';
import { describeError, ErrorCatalog, GatewayError, gatewayError, isGatewayError } from '../../gateway/src/errors.js';
import { tsFiles } from '../support/ts-files.js';

/** Codes deliberately outside the catalog: main.ts labels non-gateway errors with it. */
const NOT_IN_CATALOG = new Set(['GW_ERR_UNEXPECTED']);

// build/test/unit/errors.test.js -> repository root -> gateway/src (the TypeScript sources).
const SRC = fileURLToPath(new URL('../../../gateway/src/', import.meta.url));

/** Every GW_ERR_* string literal in gateway/src outside errors.ts, with a file that uses it. */
function codesUsed(): Map<string, string> {
  assert.ok(existsSync(join(SRC, 'errors.ts')), `sources found at ${SRC}`);
  const files = tsFiles(SRC).filter((f) => f !== join(SRC, 'errors.ts'));
  assert.ok(files.length > 10, 'scanned the whole source tree');
  const used = new Map<string, string>();
  for (const file of files) {
    const text = readFileSync(file, 'utf8');
    for (const m of text.matchAll(/(['"`])(GW_ERR_[A-Z0-9_]+)\1/g)) used.set(m[2]!, file);
  }
  assert.ok(used.size >= 10, `found ${used.size} codes`);
  return used;
}

test('every GW_ERR_* string literal in gateway/src is a catalog key', () => {
  const missing = [...codesUsed()].filter(([code]) => !(code in ErrorCatalog) && !NOT_IN_CATALOG.has(code)).map(([code, file]) => `${code} (${file})`);
  assert.deepEqual(missing, []);
  for (const code of NOT_IN_CATALOG) assert.ok(!(code in ErrorCatalog), `${code} is not expected in the catalog`);
});

test('every catalog key is used in gateway/src outside the catalog (no dead codes)', () => {
  const used = codesUsed();
  assert.deepEqual(Object.keys(ErrorCatalog).filter((code) => !used.has(code)), []);
});

test('every catalog entry is named GW_ERR_<STAGE>_<CONDITION> and has a boolean canRetry and a message', () => {
  const codes = Object.keys(ErrorCatalog);
  assert.ok(codes.length > 0);
  for (const [code, entry] of Object.entries(ErrorCatalog)) {
    assert.match(code, /^GW_ERR_[A-Z]+_[A-Z0-9_]+$/, code);
    assert.equal(typeof entry.canRetry, 'boolean', code);
    assert.equal(typeof entry.message, 'string', code);
    assert.ok(entry.message.trim().length > 0, code);
  }
});

test('GatewayError: code, canRetry from the catalog, message with reason, cause and details kept', () => {
  const cause = new Error('SQLITE_FULL: database or disk is full');
  const e = new GatewayError('GW_ERR_BUFFER_DISK_FULL', 'while appending 12 records', { cause, details: { records: 12 } });
  assert.ok(e instanceof Error);
  assert.equal(e.name, 'GatewayError');
  assert.equal(e.code, 'GW_ERR_BUFFER_DISK_FULL');
  assert.equal(e.canRetry, true);
  assert.equal(e.message, 'buffer disk is full: while appending 12 records');
  assert.equal(e.cause, cause);
  assert.deepEqual(e.details, { records: 12 });

  const json = e.toJSON();
  assert.equal(json['code'], 'GW_ERR_BUFFER_DISK_FULL');
  assert.equal(json['canRetry'], true);
  assert.equal(json['message'], e.message);
  assert.deepEqual(json['details'], { records: 12 });
  assert.equal(JSON.parse(JSON.stringify(e)).code, 'GW_ERR_BUFFER_DISK_FULL');
});

test('without reason/cause/details: catalog message only, no cause, no details in JSON', () => {
  const e = gatewayError('GW_ERR_CONFIG_INVALID');
  assert.equal(e.message, 'configuration is invalid');
  assert.equal(e.canRetry, false);
  assert.equal('cause' in e, false);
  assert.deepEqual(e.toJSON(), { code: 'GW_ERR_CONFIG_INVALID', message: 'configuration is invalid', canRetry: false });
});

test('isGatewayError and describeError', () => {
  const e = gatewayError('GW_ERR_FORWARD_SEND', 'x');
  assert.equal(isGatewayError(e), true);
  assert.equal(isGatewayError(e, 'GW_ERR_FORWARD_SEND'), true);
  assert.equal(isGatewayError(e, 'GW_ERR_FORWARD_CONNECT'), false);
  assert.equal(isGatewayError(new Error('x')), false);
  assert.equal(isGatewayError({ code: 'GW_ERR_FORWARD_SEND' }), false);
  assert.equal(describeError(new Error('boom')), 'boom');
  assert.equal(describeError('plain'), 'plain');
  assert.equal(describeError(42), '42');
});
