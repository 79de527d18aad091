/**
 * Secrets are found from the schema's `secret()` marks, and both outputs that could show them
 * hide them: the redacted config (--print-config) and the pino logger built with the derived
 * redact paths (a real logger writing to a real file).
 */
import assert from 'node:assert/strict';
import { closeSync, mkdtempSync, openSync, readFileSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { test } from 'node:test';
import { z } from 'zod';
import { validateConfig } from '../../../gateway/src/config/load-config.js';
import { secret } from '../../../gateway/src/config/schema-helpers.js';
import { logRedactPaths, REDACTED, redactConfig, secretPaths } from '../../../gateway/src/config/secrets.js';
import { createLogger } from '../../../gateway/src/lib/logger.js';

const PASSWORD = 'sasl-pw-3b9e';
const PASSPHRASE = 'key-pass-77c1';

test('the schema marks the SASL password and the TLS key passphrase as secret', () => {
  const paths = secretPaths().map((p) => p.join('.'));
  assert.ok(paths.includes('kafka.sasl.password'), paths.join(', '));
  assert.ok(paths.includes('kafka.tls.keyPassphrase'), paths.join(', '));
  assert.equal(paths.includes('kafka.sasl.username'), false, 'only marked values');
});

test('secretPaths follows optional, defaulted, nested and array schemas', () => {
  const schema = z.strictObject({
    a: z.strictObject({ token: secret(z.string()).optional().describe('t') }).prefault({}),
    list: z.array(z.strictObject({ name: z.string(), pass: secret(z.string()) })).default([]),
    plain: z.string().default('x'),
  });
  assert.deepEqual(secretPaths(schema).map((p) => p.join('.')).sort(), ['a.token', 'list.*.pass']);
  const redacted = redactConfig({ a: { token: 'T' }, list: [{ name: 'n1', pass: 'P1' }, { name: 'n2', pass: 'P2' }], plain: 'x' }, secretPaths(schema));
  assert.deepEqual(redacted, { a: { token: REDACTED }, list: [{ name: 'n1', pass: REDACTED }, { name: 'n2', pass: REDACTED }], plain: 'x' });
});

test('redactConfig hides set secrets, keeps everything else, and leaves the frozen config untouched', () => {
  const config = validateConfig({
    kafka: { sasl: { mechanism: 'plain', username: 'gw', password: PASSWORD }, tls: { enabled: true, keyFile: '/k.pem', certFile: '/c.pem', keyPassphrase: PASSPHRASE } },
  });
  const out = redactConfig(config);
  assert.equal(out.kafka.sasl?.password, REDACTED);
  assert.equal(out.kafka.tls.keyPassphrase, REDACTED);
  assert.equal(out.kafka.sasl?.username, 'gw');
  assert.equal(out.kafka.tls.keyFile, '/k.pem');
  assert.equal(config.kafka.sasl?.password, PASSWORD, 'the running config keeps the real value');
  const text = JSON.stringify(out);
  assert.equal(text.includes(PASSWORD) || text.includes(PASSPHRASE), false);
  assert.equal(redactConfig(validateConfig({})).kafka.sasl, undefined, 'an unset secret stays unset (not "[redacted]")');
});

test('the logger redacts secrets logged as the config, as a section, or nested in an error', (t) => {
  const dir = mkdtempSync(join(tmpdir(), 'gw-redact-'));
  t.after(() => rmSync(dir, { recursive: true, force: true }));
  const file = join(dir, 'log.ndjson');
  const fd = openSync(file, 'w');
  t.after(() => closeSync(fd));
  const log = createLogger('trace', { destinationFd: fd, redact: logRedactPaths(), sync: true });
  const config = validateConfig({ kafka: { sasl: { mechanism: 'plain', username: 'gw', password: PASSWORD }, tls: { enabled: true, keyFile: '/k', certFile: '/c', keyPassphrase: PASSPHRASE } } });
  log.info({ config }, 'whole config');
  log.info({ sasl: config.kafka.sasl }, 'one section');
  log.info({ kafka: config.kafka }, 'kafka section');
  log.debug({ err: { options: { sasl: { password: PASSWORD }, tls: { passphrase: PASSPHRASE, keyPassphrase: PASSPHRASE } } } }, 'nested');
  log.info({ password: PASSWORD }, 'top level');
  const text = readFileSync(file, 'utf8');
  const lines = text.trim().split('\n');
  assert.equal(lines.length, 5, 'every line was written');
  assert.ok(text.includes('"username":"gw"'), 'non-secret fields are still logged');
  assert.ok(text.includes(REDACTED));
  assert.equal(text.includes(PASSWORD), false, text);
  assert.equal(text.includes(PASSPHRASE), false, text);
});
