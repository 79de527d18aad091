/**
 * Reads the PEM files a TLS section names, once at start, and proves they make a usable TLS
 * context before anything connects: a missing file, a key that does not match its certificate
 * or a wrong passphrase stops the start with the field named, instead of surfacing later as a
 * retried "Kafka is unreachable".
 */
import { readFileSync } from 'node:fs';
import { createSecureContext, type ConnectionOptions } from 'node:tls';
import { gatewayError } from '../errors.js';

export interface TlsFilesConfig {
  caFile?: string | undefined;
  certFile?: string | undefined;
  keyFile?: string | undefined;
  keyPassphrase?: string | undefined;
  serverName?: string | undefined;
  rejectUnauthorized: boolean;
}

/** Node TLS client options from a TLS section; `field` is its config path, e.g. "kafka.tls". */
export function readTlsClientOptions(field: string, cfg: TlsFilesConfig): ConnectionOptions {
  const opts: ConnectionOptions = { rejectUnauthorized: cfg.rejectUnauthorized };
  if (cfg.caFile !== undefined) opts.ca = readPem(`${field}.caFile`, cfg.caFile);
  if (cfg.certFile !== undefined) opts.cert = readPem(`${field}.certFile`, cfg.certFile);
  if (cfg.keyFile !== undefined) opts.key = readPem(`${field}.keyFile`, cfg.keyFile);
  if (cfg.keyPassphrase !== undefined) opts.passphrase = cfg.keyPassphrase;
  // Node sends SNI and checks the certificate against `servername` when set, else the host.
  if (cfg.serverName !== undefined) opts.servername = cfg.serverName;
  try {
    createSecureContext(opts);
  } catch (cause) {
    // OpenSSL's reason ("bad decrypt", "key values mismatch", "no certificates") never holds the passphrase.
    throw gatewayError('GW_ERR_CONFIG_TLS_INVALID', `${field}: ${(cause as Error).message}`, { cause, details: { field } });
  }
  return opts;
}

function readPem(field: string, path: string): Buffer {
  let bytes: Buffer;
  try {
    bytes = readFileSync(path);
  } catch (cause) {
    throw gatewayError('GW_ERR_CONFIG_FILE_READ', `${field}: ${path}: ${(cause as Error).message}`, { cause, details: { field, path } });
  }
  if (!bytes.includes('-----BEGIN ')) {
    throw gatewayError('GW_ERR_CONFIG_TLS_INVALID', `${field}: ${path} holds no PEM block`, { details: { field, path } });
  }
  return bytes;
}
