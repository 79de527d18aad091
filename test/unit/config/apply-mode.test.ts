/** Live vs rebuild comes from the schema's live() marks; diffConfig classifies each change. */
import assert from 'node:assert/strict';
import { test } from 'node:test';
import { diffConfig, livePaths } from '../../../gateway/src/config/apply-mode.js';
import { validateConfig } from '../../../gateway/src/config/load-config.js';

const base = { gatewayId: 'g1' };

test('the fields the issue names as live are marked live; listeners and the buffer path are not', () => {
  const live = livePaths();
  for (const p of ['log.level', 'mqtt.routes', 'mqtt.acl', 'buffer.maxSizeBytes', 'buffer.highWatermark', 'buffer.overflowPolicy', 'kafka.batchMaxRecords', 'kafka.lingerMs', 'control']) {
    assert.ok(live.includes(p), `${p} live (have: ${live.join(', ')})`);
  }
  for (const p of ['mqtt.listeners', 'mqtt.port', 'buffer.path', 'kafka.brokers', 'gatewayId']) assert.equal(live.includes(p), false, `${p} is a rebuild field`);
});

test('diffConfig: no change, live changes, rebuild changes, both', () => {
  const a = validateConfig(base);
  assert.deepEqual(diffConfig(a, validateConfig(base)), { live: [], rebuild: [] });
  const liveOnly = validateConfig({ ...base, log: { level: 'debug' }, kafka: { lingerMs: 50 }, mqtt: { acl: [{ topic: 'x/#', access: 'read' }] } });
  assert.deepEqual(diffConfig(a, liveOnly), { live: ['log.level', 'mqtt.acl', 'kafka.lingerMs'], rebuild: [] });
  const rebuild = validateConfig({ ...base, mqtt: { port: 1999 }, buffer: { path: '/tmp/x.db', maxSizeBytes: 2 * 1024 * 1024 } });
  assert.deepEqual(diffConfig(a, rebuild), { live: ['buffer.maxSizeBytes'], rebuild: ['mqtt.port', 'buffer.path'] });
  const tls = validateConfig({ ...base, kafka: { tls: { enabled: true } } });
  assert.deepEqual(diffConfig(a, tls).rebuild, ['kafka.tls.enabled']);
});
