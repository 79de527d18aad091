/**
 * Errors of the control room's Kafka link, wrapped as GW_ERR_CONTROL_KAFKA with the most telling
 * part of the client's error in the reason. @platformatic/kafka reports a failure as a tree
 * (MultipleErrors / ResponseError hold `errors`, any error may hold a `cause`; a broker's answer
 * is a ProtocolError whose `apiId` is Kafka's error name); the tree is flattened and a Kafka
 * error name wins over a transport error, which wins over the wrapper's message.
 */
import { gatewayError, isGatewayError, type GatewayError } from '../errors.js';
import { flattenClientError, type ClientErrorLike } from '../lib/kafka-error-tree.js';


/** Kafka error names (ProtocolError apiId) anywhere in the error tree. */
export function kafkaErrorNames(err: unknown): Set<string> {
  return new Set(flattenClientError(err).flatMap((e) => (e.apiId === undefined ? [] : [e.apiId])));
}

/** The client's metadata answer for a missing topic is a UserError "Unknown topic <name>." without a code. */
export function isTopicMissing(err: unknown): boolean {
  return flattenClientError(err).some((e) => e.apiId === 'UNKNOWN_TOPIC_OR_PARTITION' || e.apiId === 'UNKNOWN_TOPIC_ID' || /^Unknown topic /.test(e.message ?? ''));
}

function describe(e: ClientErrorLike): string {
  const kind = e.apiId ?? e.code ?? e.name ?? 'Error';
  const server = e.serverErrorMessage ? ` (${e.serverErrorMessage})` : '';
  return `${kind}: ${e.message ?? ''}${server}`;
}

/**
 * GW_ERR_CONTROL_KAFKA for a failed `what` (e.g. "fetch t.config"). An error that already is a
 * GatewayError is returned as it is.
 */
export function controlKafkaError(what: string, err: unknown): GatewayError {
  if (isGatewayError(err)) return err;
  const all = flattenClientError(err);
  if (isTopicMissing(err)) {
    return gatewayError('GW_ERR_CONTROL_KAFKA', `${what}: topic does not exist`, { cause: err, details: { kafkaError: 'UNKNOWN_TOPIC_OR_PARTITION' } });
  }
  // A broker's named error first; else the innermost error (ECONNREFUSED, a timeout) says most.
  const leaf = all.find((e) => e.apiId !== undefined) ?? all.at(-1);
  const reason = leaf ? describe(leaf) : String(err);
  return gatewayError('GW_ERR_CONTROL_KAFKA', `${what}: ${reason}`, { cause: err, details: { kafkaError: leaf?.apiId ?? leaf?.code ?? leaf?.name } });
}
