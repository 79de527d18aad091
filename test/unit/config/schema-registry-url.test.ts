/** kafka.schemaRegistry.url must not carry credentials: they would be ignored (requests go without them) and logged/shown as plain config. */
import assert from 'node:assert/strict';
import { test } from 'node:test';
import { schemaRegistrySchema } from '../../../gateway/src/config/schema-registry-schema.js';

test('a registry url with user:password@ is refused with a pointer to auth; a plain one is accepted', () => {
  const bad = schemaRegistrySchema.safeParse({ url: 'https://svc:s3cret@registry.example:8081' });
  assert.equal(bad.success, false);
  const msg = bad.success ? '' : bad.error.issues.map((i) => i.message).join('; ');
  assert.match(msg, /kafka\.schemaRegistry\.auth/);
  assert.doesNotMatch(msg, /s3cret/, 'the error does not echo the secret');
  assert.equal(schemaRegistrySchema.safeParse({ url: 'http://registry:8081/apis/ccompat/v7' }).success, true);
});
