/**
 * Topic routes: `prefix/{deviceId}/suffix`, the device id is exactly one non-empty level,
 * first matching route wins.
 */
import assert from 'node:assert/strict';
import { test } from 'node:test';
import { compileTopicRoute, TopicRouteTable } from '../../../gateway/src/lib/topic-route.js';

test('matches and extracts the device id', () => {
  const r = compileTopicRoute('devices/{deviceId}/telemetry', 3);
  assert.equal(r.index, 3);
  assert.equal(r.pattern, 'devices/{deviceId}/telemetry');
  assert.equal(r.match('devices/abc-1/telemetry'), 'abc-1');
  assert.equal(r.match('devices/x/telemetry'), 'x');
  assert.equal(r.match('devices/été/telemetry'), 'été');
});

test('rejects other topics, empty ids and ids spanning several levels', () => {
  const r = compileTopicRoute('devices/{deviceId}/telemetry', 0);
  for (const topic of [
    'devices//telemetry',
    'devices/a/b/telemetry',
    'devices/a/telemetry/',
    'devices/a/telemetryx',
    'device/a/telemetry',
    '/devices/a/telemetry',
    'devices/telemetry',
    'devices/a/status',
    '',
  ]) {
    assert.equal(r.match(topic), null, topic);
  }
});

test('placeholder at the start or end of the pattern', () => {
  const last = compileTopicRoute('site/{deviceId}', 0);
  assert.equal(last.match('site/d1'), 'd1');
  assert.equal(last.match('site/d1/more'), null);
  assert.equal(last.match('site/'), null);

  const first = compileTopicRoute('{deviceId}/up', 0);
  assert.equal(first.match('d9/up'), 'd9');
  assert.equal(first.match('a/d9/up'), null);
  assert.equal(first.match('/up'), null);

  const only = compileTopicRoute('{deviceId}', 0);
  assert.equal(only.match('solo'), 'solo');
  assert.equal(only.match('a/b'), null);
});

test('prefix and suffix may not overlap in a short topic', () => {
  const r = compileTopicRoute('a/{deviceId}/a', 0);
  assert.equal(r.match('a/a'), null);
  assert.equal(r.match('a//a'), null);
  assert.equal(r.match('a/x/a'), 'x');
});

test('a pattern without the placeholder throws', () => {
  assert.throws(() => compileTopicRoute('devices/+/telemetry', 0), /\{deviceId\}/);
});

test('route table: first match wins, null when nothing matches', () => {
  const table = new TopicRouteTable(['devices/{deviceId}/telemetry', 'devices/{deviceId}/{x}', 'fleet/{deviceId}/telemetry']);
  const a = table.resolve('devices/d1/telemetry');
  assert.equal(a?.route.index, 0);
  assert.equal(a?.deviceId, 'd1');
  const c = table.resolve('fleet/f7/telemetry');
  assert.equal(c?.route.index, 2);
  assert.equal(c?.deviceId, 'f7');
  assert.equal(table.resolve('other/d1/telemetry'), null);
  assert.equal(table.routes.length, 3);
});
