import assert from 'node:assert/strict';
import { test } from 'node:test';
import { effectiveFilter, filterCovers, isValidFilter, topicMatches } from '../../../gateway/src/lib/mqtt-topic.js';

test('topicMatches: exact, +, # (including the parent level), $ topics', () => {
  assert.ok(topicMatches('a/b', 'a/b'));
  assert.ok(!topicMatches('a/b', 'a/c'));
  assert.ok(topicMatches('a/+/c', 'a/x/c'));
  assert.ok(!topicMatches('a/+', 'a/x/c'));
  assert.ok(topicMatches('a/#', 'a'), '[MQTT-4.7.1-2] # matches the parent level');
  assert.ok(topicMatches('a/#', 'a/b/c'));
  assert.ok(topicMatches('#', 'anything/at/all'));
  assert.ok(!topicMatches('#', '$SYS/broker/x'), '[MQTT-4.7.2-1]');
  assert.ok(!topicMatches('+/broker', '$SYS/broker'));
  assert.ok(topicMatches('$SYS/#', '$SYS/broker/x'));
  assert.ok(!topicMatches('a/b/c', 'a/b'));
});

test('filterCovers: a subscription is granted only if the rule covers every topic it can match', () => {
  assert.ok(filterCovers('devices/dev-1/commands/#', 'devices/dev-1/commands/reboot'));
  assert.ok(filterCovers('devices/dev-1/commands/#', 'devices/dev-1/commands/#'));
  assert.ok(filterCovers('devices/dev-1/commands/#', 'devices/dev-1/commands/+'));
  assert.ok(filterCovers('devices/+/telemetry', 'devices/+/telemetry'));
  assert.ok(filterCovers('devices/+/telemetry', 'devices/d7/telemetry'));
  assert.ok(!filterCovers('devices/dev-1/config', '#'));
  assert.ok(!filterCovers('devices/dev-1/config', 'devices/+/config'));
  assert.ok(!filterCovers('devices/dev-1/commands/#', 'devices/#'));
  assert.ok(!filterCovers('devices/+/telemetry', 'devices/#'));
  assert.ok(!filterCovers('a/b', 'a/b/c'));
  assert.ok(!filterCovers('#', '$SYS/#'));
  assert.ok(filterCovers('#', 'x/#'));
});

test('isValidFilter and shared subscriptions', () => {
  assert.ok(isValidFilter('a/+/b/#'));
  assert.ok(!isValidFilter('a/#/b'));
  assert.ok(!isValidFilter('a/b#'));
  assert.ok(!isValidFilter('a+/b'));
  assert.ok(!isValidFilter(''));
  assert.equal(effectiveFilter('$share/g1/devices/+/telemetry'), 'devices/+/telemetry');
  assert.equal(effectiveFilter('$share/g1'), '');
  assert.equal(effectiveFilter('plain/topic'), 'plain/topic');
});
