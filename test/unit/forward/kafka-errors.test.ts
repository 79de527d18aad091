/**
 * classifyKafkaError: kafkajs-shaped errors (name/type/message/originalError/errors) map onto
 * the catalog; only record rejections are permanent.
 */
import assert from 'node:assert/strict';
import { test } from 'node:test';
import { classifyKafkaError } from '../../../gateway/src/forward/kafka-errors.js';

function protocolError(type: string, message = `${type} happened`): Error & { type: string } {
  const e = new Error(message) as Error & { type: string };
  e.name = 'KafkaJSProtocolError';
  e.type = type;
  return e;
}

test('record rejections are GW_ERR_FORWARD_REJECTED (permanent)', () => {
  for (const type of ['MESSAGE_TOO_LARGE', 'RECORD_LIST_TOO_LARGE', 'INVALID_RECORD', 'CORRUPT_MESSAGE', 'INVALID_TIMESTAMP']) {
    const e = classifyKafkaError(protocolError(type), 'send');
    assert.equal(e.code, 'GW_ERR_FORWARD_REJECTED', type);
    assert.equal(e.canRetry, false);
    assert.match(e.message, new RegExp(type));
  }
});

test('missing topic is GW_ERR_FORWARD_TOPIC_MISSING (retriable), by type or by message', () => {
  const byType = classifyKafkaError(protocolError('UNKNOWN_TOPIC_OR_PARTITION'), 'send');
  assert.equal(byType.code, 'GW_ERR_FORWARD_TOPIC_MISSING');
  assert.equal(byType.canRetry, true);
  assert.equal(classifyKafkaError(protocolError('UNKNOWN_TOPIC_ID'), 'connect').code, 'GW_ERR_FORWARD_TOPIC_MISSING');
  const byMessage = classifyKafkaError({ name: 'KafkaJSError', message: 'This server does not host this topic-partition' }, 'send');
  assert.equal(byMessage.code, 'GW_ERR_FORWARD_TOPIC_MISSING');
});

test('anything else is CONNECT or SEND depending on the phase, both retriable', () => {
  const conn = classifyKafkaError({ name: 'KafkaJSConnectionError', message: 'Connection error: connect ECONNREFUSED' }, 'connect');
  assert.equal(conn.code, 'GW_ERR_FORWARD_CONNECT');
  assert.equal(conn.canRetry, true);
  const send = classifyKafkaError(protocolError('NOT_LEADER_FOR_PARTITION'), 'send');
  assert.equal(send.code, 'GW_ERR_FORWARD_SEND');
  assert.equal(send.canRetry, true);
  assert.equal(classifyKafkaError(new Error('boom'), 'send').code, 'GW_ERR_FORWARD_SEND');
  assert.equal(classifyKafkaError(null, 'connect').code, 'GW_ERR_FORWARD_CONNECT');
  assert.equal(classifyKafkaError('a string', 'send').code, 'GW_ERR_FORWARD_SEND');
});

test('nested originalError is unwrapped (retrier -> protocol error)', () => {
  const wrapped = {
    name: 'KafkaJSNumberOfRetriesExceeded',
    message: 'retries exceeded',
    originalError: { name: 'KafkaJSNonRetriableError', message: 'wrapped', originalError: protocolError('MESSAGE_TOO_LARGE', 'The request included a message larger than the max message size') },
  };
  const e = classifyKafkaError(wrapped, 'send');
  assert.equal(e.code, 'GW_ERR_FORWARD_REJECTED');
  assert.match(e.message, /KafkaJSProtocolError MESSAGE_TOO_LARGE/);
  assert.equal(e.cause, wrapped, 'the original (outer) error is kept as cause');
  assert.deepEqual(e.details, { kafkaType: 'MESSAGE_TOO_LARGE', kafkaError: 'KafkaJSProtocolError' });

  const topic = classifyKafkaError({ name: 'KafkaJSNumberOfRetriesExceeded', originalError: protocolError('UNKNOWN_TOPIC_OR_PARTITION') }, 'send');
  assert.equal(topic.code, 'GW_ERR_FORWARD_TOPIC_MISSING');
});

test('aggregate errors are classified by their first inner error', () => {
  const agg = { name: 'KafkaJSAggregateError', message: 'several', errors: [protocolError('INVALID_RECORD'), protocolError('REQUEST_TIMED_OUT')] };
  assert.equal(classifyKafkaError(agg, 'send').code, 'GW_ERR_FORWARD_REJECTED');
  const viaOriginal = { name: 'X', originalError: { name: 'KafkaJSAggregateError', errors: [protocolError('REQUEST_TIMED_OUT')] } };
  assert.equal(classifyKafkaError(viaOriginal, 'send').code, 'GW_ERR_FORWARD_SEND');
});

test('a cyclic originalError chain terminates', () => {
  const a: { name: string; message: string; originalError?: unknown } = { name: 'A', message: 'a' };
  const b = { name: 'B', message: 'b', originalError: a };
  a.originalError = b;
  const e = classifyKafkaError(a, 'send');
  assert.equal(e.code, 'GW_ERR_FORWARD_SEND');
});

test('SASL authentication failures are GW_ERR_FORWARD_AUTH (retriable), by name, type or message', () => {
  const byName = classifyKafkaError({ name: 'KafkaJSSASLAuthenticationError', message: 'SASL PLAIN authentication failed: bad password' }, 'connect');
  assert.equal(byName.code, 'GW_ERR_FORWARD_AUTH');
  assert.equal(byName.canRetry, true);
  assert.equal(classifyKafkaError(protocolError('SASL_AUTHENTICATION_FAILED'), 'connect').code, 'GW_ERR_FORWARD_AUTH');
  assert.equal(classifyKafkaError(protocolError('UNSUPPORTED_SASL_MECHANISM'), 'connect').code, 'GW_ERR_FORWARD_AUTH');
  assert.equal(classifyKafkaError({ name: 'KafkaJSNumberOfRetriesExceeded', originalError: { name: 'KafkaJSError', message: 'SASL SCRAM SHA256 authentication failed' } }, 'send').code, 'GW_ERR_FORWARD_AUTH');
});

test(
  'ACL denials (kafkajs type TOPIC/CLUSTER_AUTHORIZATION_FAILED) are classified as GW_ERR_FORWARD_AUTH',
  () => {
    assert.equal(classifyKafkaError(protocolError('TOPIC_AUTHORIZATION_FAILED', 'Not authorized to access topics: [Topic authorization failed]'), 'send').code, 'GW_ERR_FORWARD_AUTH');
    assert.equal(classifyKafkaError(protocolError('CLUSTER_AUTHORIZATION_FAILED', 'Cluster authorization failed'), 'connect').code, 'GW_ERR_FORWARD_AUTH');
  },
);
