/**
 * Maps Kafka client errors (@platformatic/kafka) onto the gateway catalog. Only a rejection of the
 * records themselves is permanent (the pump then isolates and dead-letters the offending record);
 * everything else (connection loss, timeouts, leader changes, missing topic, auth) is retried
 * without loss.
 *
 * The client reports a failed send as a tree: MultipleErrors/ResponseError hold `errors`, any
 * error may hold a `cause`, and a broker's per-partition answer is a ProtocolError whose `apiId`
 * is Kafka's error name (MESSAGE_TOO_LARGE, UNKNOWN_TOPIC_OR_PARTITION, ...). The tree is
 * flattened and the most telling leaf decides.
 */
import { gatewayError, type GatewayError } from '../errors.js';
import { flattenClientError, type ClientErrorLike } from '../lib/kafka-error-tree.js';

const AUTH = new Set(['SASL_AUTHENTICATION_FAILED', 'UNSUPPORTED_SASL_MECHANISM', 'ILLEGAL_SASL_STATE', 'TOPIC_AUTHORIZATION_FAILED', 'CLUSTER_AUTHORIZATION_FAILED', 'TRANSACTIONAL_ID_AUTHORIZATION_FAILED']);
const RECORD_REJECTIONS = new Set(['MESSAGE_TOO_LARGE', 'RECORD_LIST_TOO_LARGE', 'INVALID_RECORD', 'CORRUPT_MESSAGE', 'INVALID_TIMESTAMP']);
const TOPIC_MISSING = new Set(['UNKNOWN_TOPIC_OR_PARTITION', 'UNKNOWN_TOPIC_ID']);
/** OpenSSL's certificate verification results as Node reports them (err.code). */
const CERT_VERIFY = new Set([
  'UNABLE_TO_VERIFY_LEAF_SIGNATURE', 'UNABLE_TO_GET_ISSUER_CERT', 'UNABLE_TO_GET_ISSUER_CERT_LOCALLY', 'SELF_SIGNED_CERT_IN_CHAIN',
  'DEPTH_ZERO_SELF_SIGNED_CERT', 'CERT_HAS_EXPIRED', 'CERT_NOT_YET_VALID', 'CERT_SIGNATURE_FAILURE', 'CERT_REVOKED', 'CERT_UNTRUSTED',
  'CERT_REJECTED', 'INVALID_CA', 'HOSTNAME_MISMATCH', 'ERR_TLS_CERT_ALTNAME_INVALID',
]);
/** A failed handshake or a TLS alert (e.g. the broker demanding a client certificate). */
const isTlsError = (e: ClientErrorLike): boolean =>
  e.code !== undefined && (CERT_VERIFY.has(e.code) || e.code.startsWith('ERR_SSL_') || e.code.startsWith('ERR_TLS_'));


function describe(e: ClientErrorLike | undefined, fallback: unknown): string {
  if (!e) return String(fallback);
  const kind = e.apiId ?? e.code ?? e.name ?? 'Error';
  const server = e.serverErrorMessage ? ` (${e.serverErrorMessage})` : '';
  return `${kind}: ${e.message ?? String(fallback)}${server}`;
}

export function classifyKafkaError(err: unknown, during: 'connect' | 'send'): GatewayError {
  const all = flattenClientError(err);
  const pick = (test: (e: ClientErrorLike) => boolean): ClientErrorLike | undefined => all.find(test);
  const make = (code: Parameters<typeof gatewayError>[0], leaf: ClientErrorLike | undefined): GatewayError =>
    gatewayError(code, describe(leaf, err), { cause: err, details: { kafkaType: leaf?.apiId, kafkaError: leaf?.code ?? leaf?.name } });

  const auth = pick((e) => e.code === 'PLT_KFK_AUTHENTICATION' || (e.apiId !== undefined && AUTH.has(e.apiId)));
  if (auth) return make('GW_ERR_FORWARD_AUTH', auth);
  const tls = pick(isTlsError) ?? pick((e) => e.code === 'PLT_KFK_USER' && /TLS handshake failed/.test(e.message ?? ''));
  if (tls) return make('GW_ERR_FORWARD_TLS', tls);
  const rejected = pick((e) => e.apiId !== undefined && RECORD_REJECTIONS.has(e.apiId));
  if (rejected) return make('GW_ERR_FORWARD_REJECTED', rejected);
  // A metadata answer without the topic comes back as UserError "Unknown topic <name>." (no code).
  const missing = pick((e) => (e.apiId !== undefined && TOPIC_MISSING.has(e.apiId)) || (e.code === 'PLT_KFK_USER' && /^Unknown topic /.test(e.message ?? '')));
  if (missing) return make('GW_ERR_FORWARD_TOPIC_MISSING', missing);
  // The innermost error says most (a timeout or ECONNREFUSED under "Producing messages failed").
  return make(during === 'connect' ? 'GW_ERR_FORWARD_CONNECT' : 'GW_ERR_FORWARD_SEND', all.at(-1));
}
