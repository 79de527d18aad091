/**
 * One error catalog for the whole gateway. Codes are stable (operators grep logs and metrics
 * for them); `canRetry` says whether the operation may succeed later without a change.
 * Third-party errors are wrapped at the stage boundary and kept as `cause`.
 */
export const ErrorCatalog = {
  GW_ERR_CONFIG_INVALID: { canRetry: false, message: 'configuration is invalid' },
  GW_ERR_CONFIG_READ: { canRetry: false, message: 'configuration file cannot be read' },
  GW_ERR_CONFIG_PARSE: { canRetry: false, message: 'configuration file is not valid YAML/JSON' },
  GW_ERR_CONFIG_FILE_READ: { canRetry: false, message: 'a file named in the configuration cannot be read' },
  GW_ERR_CONFIG_TLS_INVALID: { canRetry: false, message: 'TLS certificate, key or CA file is not usable' },
  GW_ERR_INGEST_LISTEN: { canRetry: false, message: 'MQTT listener cannot bind' },
  GW_ERR_INGEST_TLS: { canRetry: false, message: 'TLS certificate files cannot be loaded' },
  GW_ERR_INGEST_NOT_AUTHORIZED: { canRetry: false, message: 'publish denied by the ACL' },
  GW_ERR_INGEST_TOPIC_UNROUTED: { canRetry: false, message: 'publish topic matches no route' },
  GW_ERR_INGEST_IDENTITY: { canRetry: false, message: 'device published under another identity' },
  GW_ERR_INGEST_PAYLOAD_TOO_LARGE: { canRetry: false, message: 'payload exceeds the route limit' },
  GW_ERR_INGEST_SHUTTING_DOWN: { canRetry: true, message: 'gateway is shutting down' },
  GW_ERR_AUTH_DEVICE_ID_INVALID: { canRetry: false, message: 'device id is not valid' },
  GW_ERR_AUTH_SECRET_INVALID: { canRetry: false, message: 'device secret is not valid' },
  GW_ERR_AUTH_DEVICE_EXISTS: { canRetry: false, message: 'device already has credentials' },
  GW_ERR_AUTH_DEVICE_UNKNOWN: { canRetry: false, message: 'device has no credentials' },
  GW_ERR_AUTH_IMPORT_INVALID: { canRetry: false, message: 'device import file is not valid' },
  GW_ERR_AUTH_STORE: { canRetry: true, message: 'device credential store failed' },
  GW_ERR_BUFFER_OPEN: { canRetry: false, message: 'buffer database cannot be opened' },
  GW_ERR_BUFFER_MIGRATE: { canRetry: false, message: 'buffer database schema cannot be migrated' },
  GW_ERR_BUFFER_WRITE: { canRetry: true, message: 'buffer commit failed' },
  GW_ERR_BUFFER_DISK_FULL: { canRetry: true, message: 'buffer disk is full' },
  GW_ERR_BUFFER_CLOSED: { canRetry: false, message: 'buffer is closed' },
  GW_ERR_ENCODE_PAYLOAD_NOT_JSON: { canRetry: false, message: 'payload is not valid JSON' },
  GW_ERR_ENCODE_SCHEMA_MISMATCH: { canRetry: false, message: 'payload does not match the route schema' },
  GW_ERR_ENCODE_SCHEMA_INVALID: { canRetry: false, message: 'configured Avro schema is invalid' },
  GW_ERR_ENCODE_PAYLOAD_TOO_DEEP: { canRetry: false, message: 'payload JSON nests deeper than the encoder accepts' },
  GW_ERR_ENCODE_UNKNOWN_FIELD: { canRetry: false, message: 'payload has fields the route schema does not declare (unknownFields: reject)' },
  GW_ERR_ENCODE_FAILED: { canRetry: false, message: 'record could not be encoded' },
  GW_ERR_ENCODE_UNROUTED: { canRetry: false, message: 'buffered record topic matches no route of the running configuration' },
  GW_ERR_REGISTRY_UNREACHABLE: { canRetry: true, message: 'schema registry is unreachable' },
  GW_ERR_REGISTRY_AUTH: { canRetry: true, message: 'schema registry refused the credentials' },
  GW_ERR_REGISTRY_INCOMPATIBLE: { canRetry: false, message: 'schema registry refuses the schema under its compatibility rule' },
  GW_ERR_REGISTRY_NOT_REGISTERED: { canRetry: true, message: 'schema is not registered in the schema registry (autoRegister: false)' },
  GW_ERR_REGISTRY_REFUSED: { canRetry: false, message: 'schema registry refused the request' },
  GW_ERR_FORWARD_CONNECT: { canRetry: true, message: 'Kafka is unreachable' },
  GW_ERR_FORWARD_SEND: { canRetry: true, message: 'Kafka send failed' },
  GW_ERR_FORWARD_REJECTED: { canRetry: false, message: 'Kafka permanently rejected a record' },
  GW_ERR_FORWARD_AUTH: { canRetry: true, message: 'Kafka refused the credentials' },
  GW_ERR_FORWARD_TLS: { canRetry: true, message: 'TLS to Kafka failed' },
  GW_ERR_FORWARD_TOPIC_MISSING: { canRetry: true, message: 'Kafka topic does not exist' },
  GW_ERR_FORWARD_POISON_ROW: { canRetry: false, message: 'row was in flight during repeated crashes' },
  GW_ERR_CONTROL_MALFORMED: { canRetry: false, message: 'pushed document is not a signed configuration document' },
  GW_ERR_CONTROL_SIGNATURE: { canRetry: false, message: 'pushed document signature does not verify' },
  GW_ERR_CONTROL_UNKNOWN_KEY: { canRetry: false, message: 'pushed document is signed by a key that is not trusted' },
  GW_ERR_CONTROL_WRONG_GATEWAY: { canRetry: false, message: 'pushed document targets another gateway' },
  GW_ERR_CONTROL_REPLAY: { canRetry: false, message: 'pushed document version is not above the last one seen' },
  GW_ERR_CONTROL_EXPIRED: { canRetry: false, message: 'pushed document has expired' },
  GW_ERR_CONTROL_SCHEMA: { canRetry: false, message: 'pushed configuration is not valid' },
  GW_ERR_CONTROL_NOT_APPLIABLE: { canRetry: false, message: 'pushed configuration cannot be built' },
  GW_ERR_CONTROL_FILE_SHADOWED: { canRetry: false, message: 'local config file not applied' },
  GW_ERR_CONTROL_UNHEALTHY: { canRetry: false, message: 'applied configuration failed its health window; rolled back' },
  GW_ERR_CONTROL_KAFKA: { canRetry: true, message: 'control topic cannot be read or written' },
  GW_ERR_CONTROL_STORE: { canRetry: true, message: 'configuration store failed' },
  GW_ERR_CONTROL_SIGN: { canRetry: false, message: 'configuration document cannot be signed' },
  GW_ERR_CONTROL_KEY_FILE: { canRetry: false, message: 'key file cannot be read or written' },
  GW_ERR_DEVICE_CONFIG_INVALID: { canRetry: false, message: 'device configuration record is not valid' },
  GW_ERR_DEVICE_CONFIG_ACK_INVALID: { canRetry: false, message: 'device configuration acknowledgement is not valid' },
  GW_ERR_CLI_USAGE: { canRetry: false, message: 'invalid command line' },
} as const;

export type ErrorCode = keyof typeof ErrorCatalog;

export class GatewayError extends Error {
  readonly code: ErrorCode;
  readonly canRetry: boolean;
  /** Extra structured context for logs (field names, device ids, counts). */
  readonly details: Record<string, unknown> | undefined;

  constructor(code: ErrorCode, reason?: string, opts?: { cause?: unknown; details?: Record<string, unknown> }) {
    const base = ErrorCatalog[code];
    super(reason ? `${base.message}: ${reason}` : base.message, opts?.cause === undefined ? undefined : { cause: opts.cause });
    this.name = 'GatewayError';
    this.code = code;
    this.canRetry = base.canRetry;
    this.details = opts?.details;
  }

  toJSON(): Record<string, unknown> {
    return { code: this.code, message: this.message, canRetry: this.canRetry, ...(this.details ? { details: this.details } : {}) };
  }
}

export function gatewayError(code: ErrorCode, reason?: string, opts?: { cause?: unknown; details?: Record<string, unknown> }): GatewayError {
  return new GatewayError(code, reason, opts);
}

export function isGatewayError(err: unknown, code?: ErrorCode): err is GatewayError {
  return err instanceof GatewayError && (code === undefined || err.code === code);
}

/** Best-effort message of an unknown thrown value, for logs. */
export function describeError(err: unknown): string {
  if (err instanceof Error) return err.message;
  return String(err);
}
