/**
 * Maps kafkajs errors onto the gateway catalog. Only a rejection of the records themselves is
 * permanent (the pump then isolates and dead-letters the offending record); everything else
 * (connection loss, timeouts, leader changes, missing topic, auth) is retried without loss.
 */
import { gatewayError, type GatewayError } from '../errors.js';

const RECORD_REJECTIONS = new Set(['MESSAGE_TOO_LARGE', 'RECORD_LIST_TOO_LARGE', 'INVALID_RECORD', 'CORRUPT_MESSAGE', 'INVALID_TIMESTAMP']);
const TOPIC_MISSING = new Set(['UNKNOWN_TOPIC_OR_PARTITION', 'UNKNOWN_TOPIC_ID']);

interface KafkaJsLikeError {
  name?: string;
  type?: string;
  message?: string;
  originalError?: KafkaJsLikeError;
  errors?: KafkaJsLikeError[];
}

/** The innermost kafkajs error (retriers wrap the real cause). */
function rootOf(err: KafkaJsLikeError): KafkaJsLikeError {
  let e = err;
  for (let i = 0; i < 8 && e.originalError; i++) e = e.originalError;
  if (e.errors && e.errors.length > 0) return rootOf(e.errors[0]!);
  return e;
}

export function classifyKafkaError(err: unknown, during: 'connect' | 'send'): GatewayError {
  const root = rootOf((err ?? {}) as KafkaJsLikeError);
  const type = root.type ?? '';
  const reason = `${root.name ?? 'Error'}${type ? ` ${type}` : ''}: ${root.message ?? String(err)}`;
  const details = { kafkaType: type || undefined, kafkaError: root.name };
  if (root.name === 'KafkaJSSASLAuthenticationError' || /SASL|AUTHENTICATION_FAILED|AUTHORIZATION_FAILED/.test(type) || /SASL .*authentication failed/i.test(root.message ?? '')) {
    return gatewayError('GW_ERR_FORWARD_AUTH', reason, { cause: err, details });
  }
  if (RECORD_REJECTIONS.has(type)) return gatewayError('GW_ERR_FORWARD_REJECTED', reason, { cause: err, details });
  if (TOPIC_MISSING.has(type) || /does not host this topic-partition|unknown topic/i.test(root.message ?? '')) {
    return gatewayError('GW_ERR_FORWARD_TOPIC_MISSING', reason, { cause: err, details });
  }
  return gatewayError(during === 'connect' ? 'GW_ERR_FORWARD_CONNECT' : 'GW_ERR_FORWARD_SEND', reason, { cause: err, details });
}
