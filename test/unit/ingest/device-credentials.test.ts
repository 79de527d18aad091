/**
 * DeviceCredentials on a real SQLite file (the buffer's database, migrated): add/rotate/remove/
 * list/import, verify answers, the concurrency bound, the success cache and the constant-time
 * comparisons. Small scrypt parameters keep it fast; the format carries them, so that is the
 * same code path as the defaults.
 */
import assert from 'node:assert/strict';
import crypto from 'node:crypto';
import { mkdtempSync, readFileSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { mock, test, type TestContext } from 'node:test';
import Database from 'better-sqlite3';
import { openBufferDatabase } from '../../../gateway/src/buffer/sqlite-buffer.js';
import { isGatewayError } from '../../../gateway/src/errors.js';
import { createDeviceCredentials, type DeviceCredentials, type DeviceCredentialsOptions } from '../../../gateway/src/ingest/device-credentials.js';
import { parseSecretHash } from '../../../gateway/src/ingest/secret-hash.js';

const FAST = { logN: 10, r: 8, p: 1 };

function dbFile(t: TestContext): string {
  const dir = mkdtempSync(join(tmpdir(), 'gw-creds-'));
  t.after(() => rmSync(dir, { recursive: true, force: true }));
  return join(dir, 'buffer.db');
}

function openDb(t: TestContext, path: string): Database.Database {
  const db = openBufferDatabase({ path, synchronous: 'FULL' });
  t.after(() => db.close());
  return db;
}

function store(t: TestContext, path: string, opts: DeviceCredentialsOptions = {}): DeviceCredentials {
  return createDeviceCredentials(openDb(t, path), { scrypt: FAST, ...opts });
}

async function rejectsWith(p: Promise<unknown> | (() => unknown), code: string): Promise<void> {
  let caught: unknown = null;
  try {
    await (typeof p === 'function' ? p() : p);
  } catch (err) {
    caught = err;
  }
  assert.ok(isGatewayError(caught), `expected ${code}, got ${String(caught)}`);
  assert.equal(caught.code, code);
}

const pw = (s: string) => Buffer.from(s);

test('add stores only a scrypt hash in the documented format; verify: ok, bad_secret, unknown', async (t) => {
  const path = dbFile(t);
  const s = store(t, path);
  const secret = await s.add('dev-1');
  assert.match(secret, /^[A-Za-z0-9_-]{32}$/, '24 random bytes, base64url');
  assert.notEqual(await s.add('dev-2'), secret);

  const row = openDb(t, path).prepare('SELECT * FROM device_credentials WHERE device_id = ?').get('dev-1') as { secret_hash: string; created_at: number; rotated_at: number | null };
  assert.match(row.secret_hash, /^scrypt\$10\$8\$1\$[A-Za-z0-9+/=]+\$[A-Za-z0-9+/=]+$/);
  const parsed = parseSecretHash(row.secret_hash);
  assert.ok(parsed);
  assert.equal(parsed.salt.length, 16);
  assert.equal(parsed.key.length, 32);
  assert.equal(row.rotated_at, null);
  assert.ok(row.created_at > 0);
  // The secret itself is nowhere in the database file or its WAL.
  const bytes = Buffer.concat([readFileSync(path), readFileSync(`${path}-wal`)]);
  assert.ok(bytes.includes(Buffer.from('dev-1')), 'the row is in the files being searched');
  assert.equal(bytes.includes(Buffer.from(secret)), false);

  assert.equal(await s.verify('dev-1', pw(secret)), 'ok');
  assert.equal(await s.verify('dev-1', pw(`${secret}x`)), 'bad_secret');
  assert.equal(await s.verify('dev-2', pw(secret)), 'bad_secret');
  assert.equal(await s.verify('dev-9', pw(secret)), 'unknown');
  assert.equal(await s.verify('a/b', pw(secret)), 'unknown', 'an invalid id cannot exist');
  assert.deepEqual(s.stats().verifiesTotal, { ok: 1, unknown: 2, bad_secret: 2, busy: 0 });
});

test('add: an existing or invalid id is refused; list never shows hashes', async (t) => {
  const s = store(t, dbFile(t));
  await s.add('dev-1');
  await rejectsWith(s.add('dev-1'), 'GW_ERR_AUTH_DEVICE_EXISTS');
  for (const bad of ['', 'a/b', 'a+b', 'a#', 'nul\0', '$SYS', 'x'.repeat(129), 'a b', 'a,b']) {
    await rejectsWith(s.add(bad), 'GW_ERR_AUTH_DEVICE_ID_INVALID');
  }
  await s.add('x'.repeat(128));
  const list = s.list();
  assert.deepEqual(
    list.map((d) => d.deviceId),
    ['dev-1', 'x'.repeat(128)],
  );
  for (const d of list) {
    assert.deepEqual(Object.keys(d).sort(), ['createdAt', 'deviceId', 'rotatedAt', 'scheme']);
    assert.equal(d.scheme, 'scrypt$10$8$1');
  }
});

test('rotate: the old secret stops working (even when cached), the new one works; unknown id refused', async (t) => {
  const path = dbFile(t);
  const gateway = store(t, path);
  const cli = store(t, path); // a second connection, as the CLI would be
  const old = await cli.add('dev-1');
  assert.equal(await gateway.verify('dev-1', pw(old)), 'ok');
  assert.equal(await gateway.verify('dev-1', pw(old)), 'ok');
  assert.equal(gateway.stats().cacheHitsTotal, 1, 'the second verify was a cache hit');

  const fresh = await cli.rotate('dev-1');
  assert.notEqual(fresh, old);
  assert.equal(await gateway.verify('dev-1', pw(old)), 'bad_secret', 'the cached success does not survive a rotation');
  assert.equal(await gateway.verify('dev-1', pw(fresh)), 'ok');
  assert.equal(gateway.stats().cacheHitsTotal, 1, 'neither answer after the rotation came from the cache');
  assert.ok(cli.list()[0]!.rotatedAt! >= cli.list()[0]!.createdAt);
  await rejectsWith(cli.rotate('dev-2'), 'GW_ERR_AUTH_DEVICE_UNKNOWN');
});

test('remove: a cached device becomes unknown at the next verify', async (t) => {
  const path = dbFile(t);
  const gateway = store(t, path);
  const cli = store(t, path);
  const secret = await cli.add('dev-1');
  assert.equal(await gateway.verify('dev-1', pw(secret)), 'ok');
  assert.equal(cli.remove('dev-1'), true);
  assert.equal(cli.remove('dev-1'), false);
  assert.equal(await gateway.verify('dev-1', pw(secret)), 'unknown');
  assert.deepEqual(cli.list(), []);
});

test('success cache: a hit runs no scrypt; a miss, an unknown id and a wrong secret each run one', async (t) => {
  const s = store(t, dbFile(t));
  const secret = await s.add('dev-1');
  const scrypt = mock.method(crypto, 'scrypt');
  t.after(() => scrypt.mock.restore());

  assert.equal(await s.verify('dev-1', pw(secret)), 'ok');
  assert.equal(scrypt.mock.callCount(), 1);
  assert.equal(await s.verify('dev-1', pw(secret)), 'ok');
  assert.equal(scrypt.mock.callCount(), 1, 'cache hit');
  assert.equal(await s.verify('dev-1', pw('wrong-secret-123')), 'bad_secret');
  assert.equal(scrypt.mock.callCount(), 2, 'a wrong secret for a cached device still costs scrypt (no fast "exists" answer)');
  assert.equal(await s.verify('nobody', pw(secret)), 'unknown');
  assert.equal(scrypt.mock.callCount(), 3, 'an unknown device costs a dummy scrypt');
  // The dummy has the configured cost, like a real row.
  const dummyOpts = scrypt.mock.calls[2]!.arguments[3] as { N: number; r: number; p: number };
  assert.deepEqual([dummyOpts.N, dummyOpts.r, dummyOpts.p], [2 ** FAST.logN, FAST.r, FAST.p]);
  assert.equal(await s.verify('dev-1', Buffer.alloc(1025, 1)), 'bad_secret');
  assert.equal(scrypt.mock.callCount(), 3, 'an over-long password is refused without scrypt');
  assert.deepEqual(s.stats().verifiesTotal, { ok: 2, unknown: 1, bad_secret: 2, busy: 0 });
});

test('success cache is bounded: the least recently verified device is forgotten first', async (t) => {
  const s = store(t, dbFile(t), { cacheMaxEntries: 2 });
  const secrets = new Map<string, string>();
  for (const id of ['a', 'b', 'c']) secrets.set(id, await s.add(id));
  for (const id of ['a', 'b', 'c']) assert.equal(await s.verify(id, pw(secrets.get(id)!)), 'ok');
  assert.equal(s.stats().cacheEntries, 2);
  const scrypt = mock.method(crypto, 'scrypt');
  t.after(() => scrypt.mock.restore());
  assert.equal(await s.verify('c', pw(secrets.get('c')!)), 'ok');
  assert.equal(await s.verify('b', pw(secrets.get('b')!)), 'ok');
  assert.equal(scrypt.mock.callCount(), 0, 'b and c are cached');
  assert.equal(await s.verify('a', pw(secrets.get('a')!)), 'ok');
  assert.equal(scrypt.mock.callCount(), 1, 'a was evicted');
});

test('at most K scrypt verifications in flight; the next answers busy at once, and the bound covers unknown ids', async (t) => {
  const s = store(t, dbFile(t), { maxConcurrentVerifies: 2 });
  const secret = await s.add('dev-1');
  const first = s.verify('dev-1', pw(secret));
  const second = s.verify('nobody', pw(secret)); // dummy scrypt: holds a slot too
  assert.equal(s.stats().verifiesInFlight, 2);
  assert.equal(await s.verify('dev-1', pw(secret)), 'busy');
  assert.equal(await s.verify('other', pw(secret)), 'busy');
  assert.deepEqual([await first, await second], ['ok', 'unknown']);
  assert.equal(s.stats().verifiesInFlight, 0);
  // Cached successes need no slot: a reconnect storm of known devices is not refused.
  const a = s.verify('nobody', pw(secret));
  const b = s.verify('nobody', pw(secret));
  assert.equal(await s.verify('dev-1', pw(secret)), 'ok');
  await Promise.all([a, b]);
  assert.deepEqual(s.stats().verifiesTotal, { ok: 2, unknown: 3, busy: 2, bad_secret: 0 });
});

test('keys and cached MACs are compared with crypto.timingSafeEqual', async (t) => {
  const s = store(t, dbFile(t));
  const secret = await s.add('dev-1');
  const tse = mock.method(crypto, 'timingSafeEqual');
  t.after(() => tse.mock.restore());
  assert.equal(await s.verify('dev-1', pw('not-the-secret-1')), 'bad_secret');
  assert.equal(tse.mock.callCount(), 1);
  assert.equal(tse.mock.calls[0]!.result, false);
  assert.equal(await s.verify('dev-1', pw(secret)), 'ok');
  assert.equal(tse.mock.callCount(), 2);
  assert.equal(await s.verify('dev-1', pw(secret)), 'ok'); // cache hit: MAC comparison
  assert.equal(tse.mock.callCount(), 3);
  assert.equal(tse.mock.calls[2]!.result, true);
  assert.equal(s.stats().cacheHitsTotal, 1);
});

test('a corrupt stored hash answers bad_secret (counted) and still costs a scrypt', async (t) => {
  const path = dbFile(t);
  const s = store(t, path);
  await s.add('dev-1');
  openDb(t, path).prepare("UPDATE device_credentials SET secret_hash = 'scrypt$99$8$1$AA$AA' WHERE device_id = 'dev-1'").run();
  const scrypt = mock.method(crypto, 'scrypt');
  t.after(() => scrypt.mock.restore());
  assert.equal(await s.verify('dev-1', pw('whatever-secret')), 'bad_secret');
  assert.equal(scrypt.mock.callCount(), 1);
  assert.equal(s.stats().corruptHashesTotal, 1);
});

test('import: given and generated secrets, all verify; generated ones returned in input order', async (t) => {
  const s = store(t, dbFile(t));
  const result = await s.import([{ deviceId: 'a' }, { deviceId: 'b', secret: 'b-secret-123456' }, { deviceId: 'c' }]);
  assert.equal(result.added, 3);
  assert.equal(result.replaced, 0);
  assert.deepEqual(
    result.generated.map((g) => g.deviceId),
    ['a', 'c'],
  );
  for (const g of result.generated) assert.equal(await s.verify(g.deviceId, pw(g.secret)), 'ok');
  assert.equal(await s.verify('b', pw('b-secret-123456')), 'ok');
  assert.equal(s.list().length, 3);
});

test('import: an existing id fails the whole import unless replace; replace rotates', async (t) => {
  const s = store(t, dbFile(t));
  const oldA = await s.add('a');
  await rejectsWith(s.import([{ deviceId: 'z' }, { deviceId: 'a' }]), 'GW_ERR_AUTH_DEVICE_EXISTS');
  assert.deepEqual(
    s.list().map((d) => d.deviceId),
    ['a'],
    'nothing imported',
  );
  const result = await s.import([{ deviceId: 'z' }, { deviceId: 'a', secret: 'new-a-secret-1' }], { replace: true });
  assert.deepEqual([result.added, result.replaced], [1, 1]);
  assert.equal(await s.verify('a', pw(oldA)), 'bad_secret');
  assert.equal(await s.verify('a', pw('new-a-secret-1')), 'ok');
  assert.notEqual(s.list().find((d) => d.deviceId === 'a')!.rotatedAt, null);
});

test('import is one transaction: an id added by someone else while it hashed fails it, and nothing of it is written', async (t) => {
  const path = dbFile(t);
  const s = store(t, path);
  const pending = s.import([{ deviceId: 'a' }, { deviceId: 'b' }, { deviceId: 'c' }]);
  // Its checks ran synchronously; it is now hashing. Another connection adds 'c' meanwhile.
  openDb(t, path).prepare("INSERT INTO device_credentials (device_id, secret_hash, created_at) VALUES ('c', 'scrypt$10$8$1$AA$AA', 1)").run();
  await rejectsWith(pending, 'GW_ERR_AUTH_DEVICE_EXISTS');
  assert.deepEqual(
    s.list().map((d) => d.deviceId),
    ['c'],
  );
});

test('import: invalid ids, short secrets and duplicates are refused before anything is written', async (t) => {
  const s = store(t, dbFile(t));
  await rejectsWith(s.import([{ deviceId: 'ok' }, { deviceId: 'a/b' }]), 'GW_ERR_AUTH_DEVICE_ID_INVALID');
  await rejectsWith(s.import([{ deviceId: 'ok', secret: 'short' }]), 'GW_ERR_AUTH_SECRET_INVALID');
  await rejectsWith(s.import([{ deviceId: 'ok' }, { deviceId: 'ok' }]), 'GW_ERR_AUTH_IMPORT_INVALID');
  assert.deepEqual(s.list(), []);
});

test('a database without the v2 migration is refused with GW_ERR_AUTH_STORE', async (t) => {
  const path = dbFile(t);
  const db = new Database(path);
  t.after(() => db.close());
  await rejectsWith(() => createDeviceCredentials(db), 'GW_ERR_AUTH_STORE');
});

test('a full verify at the default cost runs off the event loop: a timer turn passes while it hashes', async (t) => {
  const s = createDeviceCredentials(openDb(t, dbFile(t))); // defaults: logN 14, r 8, p 1
  const secret = await s.add('dev-1');
  let turned = false;
  const pending = s.verify('dev-1', pw(secret)).then((r) => ({ r, turnedFirst: turned }));
  setImmediate(() => (turned = true));
  const { r, turnedFirst } = await pending;
  assert.equal(r, 'ok');
  assert.equal(turnedFirst, true, 'the event loop ran while scrypt was in flight');
});
