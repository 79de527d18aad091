/**
 * Client errors of the control link become GW_ERR_CONTROL_KAFKA with the telling part in the
 * reason: a broker's error name, a missing topic, or the innermost transport error.
 */
import assert from 'node:assert/strict';
import { test } from 'node:test';
import { MultipleErrors, NetworkError, ResponseError, UserError } from '@platformatic/kafka';
import { controlKafkaError, isTopicMissing, kafkaErrorNames } from '../../../gateway/src/control/kafka-link-errors.js';
import { gatewayError, isGatewayError } from '../../../gateway/src/errors.js';

test('a broker error name in a ResponseError wins and is kept in details', () => {
  const err = new ResponseError(1, 17, { '/responses/0/partitions/0': [6, null] }, {});
  const e = controlKafkaError('fetch cfg', err);
  assert.ok(isGatewayError(e, 'GW_ERR_CONTROL_KAFKA'));
  assert.match(e.message, /^control topic cannot be read or written: fetch cfg: NOT_LEADER_OR_FOLLOWER: /);
  assert.equal(e.details?.['kafkaError'], 'NOT_LEADER_OR_FOLLOWER');
  assert.equal(e.cause, err);
  assert.deepEqual(kafkaErrorNames(err), new Set(['NOT_LEADER_OR_FOLLOWER']));
});

test('a missing topic, as the client reports it from metadata, says so', () => {
  const err = new MultipleErrors('metadata failed 1 times.', [new UserError('Unknown topic edge.gateway.config.')]);
  assert.equal(isTopicMissing(err), true);
  assert.equal(controlKafkaError('read edge.gateway.config', err).message, 'control topic cannot be read or written: read edge.gateway.config: topic does not exist');
  assert.equal(isTopicMissing(new ResponseError(3, 12, { '/topics/0': [3, null] }, {})), true, 'UNKNOWN_TOPIC_OR_PARTITION');
});

test('a transport failure: the innermost error (ECONNREFUSED) names it', () => {
  const refused = Object.assign(new Error('connect ECONNREFUSED 127.0.0.1:1'), { code: 'ECONNREFUSED' });
  const err = new MultipleErrors('Producing messages failed.', [new NetworkError('Connection error', { cause: refused })]);
  assert.match(controlKafkaError('send to status', err).message, /send to status: ECONNREFUSED: connect ECONNREFUSED 127\.0\.0\.1:1$/);
});

test('a GatewayError passes through unchanged; a non-error value is described', () => {
  const g = gatewayError('GW_ERR_CONTROL_KAFKA', 'queue full');
  assert.equal(controlKafkaError('send', g), g);
  assert.match(controlKafkaError('send', 'boom').message, /send: /);
});
