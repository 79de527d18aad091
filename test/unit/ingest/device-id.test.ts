/** Device id rules and the secret/hash helpers: what is refused, and the stored hash format. */
import assert from 'node:assert/strict';
import { test } from 'node:test';
import { deviceIdProblem } from '../../../gateway/src/ingest/device-id.js';
import { generateSecret, hashSecret, parseSecretHash, secretMatches, secretProblem } from '../../../gateway/src/ingest/secret-hash.js';

test('device ids: 1..128 characters, no topic wildcards or separators, no NUL, no leading $', () => {
  for (const ok of ['d', 'dev-1', 'sensor_01.hall:3', 'x'.repeat(128), 'ü'.repeat(128), 'a$b']) assert.equal(deviceIdProblem(ok), null, ok);
  for (const bad of ['', 'x'.repeat(129), 'a/b', 'a+b', 'a#b', 'a\0b', '$SYS', '$x', 'a b', 'a\tb', 'a,b', 'a"b', 'a\u0085b']) {
    assert.equal(typeof deviceIdProblem(bad), 'string', JSON.stringify(bad));
  }
  assert.equal(typeof deviceIdProblem(42), 'string');
});

test('secrets: generated ones are 24 random bytes base64url; supplied ones need 12+ characters', () => {
  const a = generateSecret();
  assert.match(a, /^[A-Za-z0-9_-]{32}$/);
  assert.equal(Buffer.from(a, 'base64url').length, 24);
  assert.notEqual(generateSecret(), a);
  assert.equal(secretProblem(a), null);
  for (const bad of ['short', ' padded-secret-1', 'tab\there-secret', 'x'.repeat(1025)]) assert.equal(typeof secretProblem(bad), 'string', bad);
});

test('hash format scrypt$logN$r$p$salt$key round-trips and verifies; unparseable or hostile parameters are refused', async () => {
  const h = await hashSecret('correct-horse-1', { logN: 8, r: 8, p: 1 });
  assert.match(h, /^scrypt\$8\$8\$1\$/);
  const parsed = parseSecretHash(h);
  assert.ok(parsed);
  assert.equal(await secretMatches('correct-horse-1', parsed), true);
  assert.equal(await secretMatches('correct-horse-2', parsed), false);
  assert.notEqual(await hashSecret('correct-horse-1', { logN: 8, r: 8, p: 1 }), h, 'fresh salt each time');
  const [, , , , salt, key] = h.split('$');
  for (const bad of ['', 'bcrypt$8$8$1$a$b', `scrypt$8$8$1$${salt}`, `scrypt$30$8$1$${salt}$${key}`, `scrypt$8$0$1$${salt}$${key}`, `scrypt$x$8$1$${salt}$${key}`, `scrypt$8$8$1$AA$${key}`]) {
    assert.equal(parseSecretHash(bad), null, bad);
  }
});
