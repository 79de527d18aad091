/**
 * classifyKafkaError: the Kafka client's own error classes (as a failed send reports them: a
 * MultipleErrors/ResponseError tree with ProtocolError leaves, causes chained) map onto the
 * catalog; only record rejections are permanent.
 */
import assert from 'node:assert/strict';
import { test } from 'node:test';
import { AuthenticationError, MultipleErrors, NetworkError, ProtocolError, ResponseError, TimeoutError, UserError } from '@platformatic/kafka';
import { classifyKafkaError } from '../../../gateway/src/forward/kafka-errors.js';

/** A broker's produce answer with one failing partition, wrapped the way a send reports it. */
function failedSend(apiId: string, serverMessage: string | null = null): Error {
  const response = new ResponseError(0, 9, { '/topics/0/partitions/3': [apiId, serverMessage] } as never, {});
  return new MultipleErrors('Producing messages failed.', [response]);
}

test('record rejections are GW_ERR_FORWARD_REJECTED (permanent), found inside the error tree', () => {
  for (const apiId of ['MESSAGE_TOO_LARGE', 'RECORD_LIST_TOO_LARGE', 'INVALID_RECORD', 'CORRUPT_MESSAGE', 'INVALID_TIMESTAMP']) {
    const e = classifyKafkaError(failedSend(apiId), 'send');
    assert.equal(e.code, 'GW_ERR_FORWARD_REJECTED', apiId);
    assert.equal(e.canRetry, false);
    assert.match(e.message, new RegExp(apiId));
    assert.equal(e.details?.['kafkaType'], apiId);
  }
});

test('the broker\'s own error message is kept in the reason', () => {
  const e = classifyKafkaError(failedSend('INVALID_RECORD', 'record 7 has no key'), 'send');
  assert.match(e.message, /record 7 has no key/);
});

test('missing topic is GW_ERR_FORWARD_TOPIC_MISSING (retriable)', () => {
  const e = classifyKafkaError(failedSend('UNKNOWN_TOPIC_OR_PARTITION'), 'send');
  assert.equal(e.code, 'GW_ERR_FORWARD_TOPIC_MISSING');
  assert.equal(e.canRetry, true);
  assert.equal(classifyKafkaError(new ProtocolError('UNKNOWN_TOPIC_ID'), 'connect').code, 'GW_ERR_FORWARD_TOPIC_MISSING');
  // What a send to a missing topic really rejects with (metadata without the topic).
  const viaMetadata = classifyKafkaError(new UserError('Unknown topic telemetry.raw.'), 'send');
  assert.equal(viaMetadata.code, 'GW_ERR_FORWARD_TOPIC_MISSING');
  assert.match(viaMetadata.message, /telemetry\.raw/);
  assert.equal(classifyKafkaError(new UserError('Cannot specify producerId'), 'send').code, 'GW_ERR_FORWARD_SEND');
});

test('authentication and authorization failures are GW_ERR_FORWARD_AUTH (retriable)', () => {
  const sasl = new MultipleErrors('Cannot connect to any broker.', [new AuthenticationError('SASL authentication failed.', { cause: new ProtocolError('SASL_AUTHENTICATION_FAILED', 'Invalid credentials') })]);
  const e = classifyKafkaError(sasl, 'connect');
  assert.equal(e.code, 'GW_ERR_FORWARD_AUTH');
  assert.equal(e.canRetry, true);
  assert.equal(classifyKafkaError(failedSend('TOPIC_AUTHORIZATION_FAILED'), 'send').code, 'GW_ERR_FORWARD_AUTH');
  assert.equal(classifyKafkaError(new ProtocolError('CLUSTER_AUTHORIZATION_FAILED'), 'connect').code, 'GW_ERR_FORWARD_AUTH');
  assert.equal(classifyKafkaError(new ProtocolError('UNSUPPORTED_SASL_MECHANISM'), 'connect').code, 'GW_ERR_FORWARD_AUTH');
});

test('auth wins over a record rejection in the same tree (credentials are the operator\'s first fix)', () => {
  const both = new MultipleErrors('x', [failedSend('MESSAGE_TOO_LARGE'), new AuthenticationError('nope')]);
  assert.equal(classifyKafkaError(both, 'send').code, 'GW_ERR_FORWARD_AUTH');
});

test('anything else is CONNECT or SEND by phase, both retriable, with the innermost reason', () => {
  const refused = new MultipleErrors('Cannot connect to any broker.', [new NetworkError('Connection to 127.0.0.1:1 failed.', { cause: Object.assign(new Error('connect ECONNREFUSED 127.0.0.1:1'), { code: 'ECONNREFUSED' }) })]);
  const conn = classifyKafkaError(refused, 'connect');
  assert.equal(conn.code, 'GW_ERR_FORWARD_CONNECT');
  assert.equal(conn.canRetry, true);
  assert.match(conn.message, /ECONNREFUSED/);
  const timeout = classifyKafkaError(new MultipleErrors('Producing messages failed.', [new TimeoutError('Request timed out after 5000 milliseconds.')]), 'send');
  assert.equal(timeout.code, 'GW_ERR_FORWARD_SEND');
  assert.match(timeout.message, /timed out/);
  assert.equal(classifyKafkaError(failedSend('NOT_LEADER_OR_FOLLOWER'), 'send').code, 'GW_ERR_FORWARD_SEND');
  assert.equal(classifyKafkaError(new Error('boom'), 'send').code, 'GW_ERR_FORWARD_SEND');
  assert.equal(classifyKafkaError(null, 'connect').code, 'GW_ERR_FORWARD_CONNECT');
  assert.equal(classifyKafkaError('a string', 'send').code, 'GW_ERR_FORWARD_SEND');
});

test('the original (outer) error is kept as cause', () => {
  const err = failedSend('MESSAGE_TOO_LARGE');
  assert.equal(classifyKafkaError(err, 'send').cause, err);
});

test('a cyclic cause chain terminates', () => {
  const a = new Error('a') as Error & { cause?: unknown };
  const b = new Error('b', { cause: a });
  a.cause = b;
  assert.equal(classifyKafkaError(a, 'send').code, 'GW_ERR_FORWARD_SEND');
});
