/**
 * Where the single executable writes its embedded SQLite addon, and how: one file per build
 * (named by content hash) in a private directory, reused only when its bytes match, replaced
 * atomically otherwise, other builds' files removed, a directory of another user refused.
 */
import assert from 'node:assert/strict';
import { chownSync, lstatSync, mkdirSync, readdirSync, readFileSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { test } from 'node:test';
import { addonDir, sqliteNativeBinding, writeAddon } from '../../../gateway/src/lib/native-sqlite.js';
import { isGatewayError } from '../../../gateway/src/errors.js';
import { tempDir } from '../../support/temp-dir.js';

test('directory: EDGE_GATEWAY_NATIVE_DIR, then $STATE_DIRECTORY/native, then a per-user tmp dir', () => {
  assert.equal(addonDir({ EDGE_GATEWAY_NATIVE_DIR: '/x/native', STATE_DIRECTORY: '/var/lib/eg' }), '/x/native');
  assert.equal(addonDir({ STATE_DIRECTORY: '/var/lib/eg:/var/lib/other' }), '/var/lib/eg/native');
  assert.equal(addonDir({}), join(tmpdir(), `edge-gateway-native-${process.getuid!()}`));
});

test('outside a single executable: undefined (node_modules build), or the explicit override', () => {
  assert.equal(sqliteNativeBinding({}), undefined);
  assert.equal(sqliteNativeBinding({ EDGE_GATEWAY_SQLITE_BINDING: '/opt/b.node' }), '/opt/b.node');
});

test('writes once per content, 0700 dir, reuses identical bytes, rewrites tampered ones, drops other builds', (t) => {
  const dir = join(tempDir(t), 'native');
  const v1 = Buffer.from('addon build 1');
  const first = writeAddon(v1, dir);
  assert.match(first, /better_sqlite3-[0-9a-f]{16}\.node$/);
  assert.deepEqual(readFileSync(first), v1);
  assert.equal(lstatSync(dir).mode & 0o777, 0o700);
  const ino = lstatSync(first).ino;

  assert.equal(writeAddon(v1, dir), first);
  assert.equal(lstatSync(first).ino, ino, 'identical file reused, not rewritten');

  writeFileSync(first, 'tampered');
  assert.equal(writeAddon(v1, dir), first);
  assert.deepEqual(readFileSync(first), v1, 'a file whose bytes differ is replaced');

  const second = writeAddon(Buffer.from('addon build 2'), dir);
  assert.notEqual(second, first);
  assert.deepEqual(readdirSync(dir), [second.slice(dir.length + 1)], "the other build's addon and no temp file remain");
});

test('a directory that belongs to another user is refused with GW_ERR_BUFFER_OPEN', (t) => {
  if (process.getuid!() !== 0) {
    t.skip('needs root to create a directory owned by someone else');
    return;
  }
  const dir = join(tempDir(t), 'foreign');
  mkdirSync(dir, { mode: 0o700 });
  chownSync(dir, 4242, 4242);
  assert.throws(() => writeAddon(Buffer.from('x'), dir), (err: unknown) => isGatewayError(err, 'GW_ERR_BUFFER_OPEN') && /belongs to uid 4242/.test(err.message));
});
