/**
 * Desired-config records: the 64 KiB bound holds for what the device receives (the retained
 * payload, re-serialised from the parsed JSON), not only for the bytes read from Kafka.
 */
import assert from 'node:assert/strict';
import { test } from 'node:test';
import { DESIRED_MAX_BYTES, parseDesiredConfig, retainedPayload } from '../../../gateway/src/control/device-config-record.js';

test('a record that grows past the bound when re-serialised (1e9 -> 1000000000) is refused', () => {
  const n = Math.floor((DESIRED_MAX_BYTES - 64) / 4);
  const value = Buffer.from(`{"version":1,"config":{"a":[${Array.from({ length: n }, () => '1e9').join(',')}]}}`);
  assert.ok(value.length <= DESIRED_MAX_BYTES, 'the record itself is within the bound');
  assert.throws(() => parseDesiredConfig(value), (err: Error & { code?: string }) => err.code === 'GW_ERR_DEVICE_CONFIG_INVALID' && /bytes/.test(err.message));
});

test('a record within the bound gives a retained payload within the bound', () => {
  const value = Buffer.from(JSON.stringify({ version: 3, config: { publishIntervalMs: 100, fields: { fw: 'x'.repeat(DESIRED_MAX_BYTES - 200) } } }));
  const d = parseDesiredConfig(value);
  assert.ok(retainedPayload(d.version, d.configJson).length <= DESIRED_MAX_BYTES);
});
