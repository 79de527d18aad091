/**
 * Reads the PEM files a TLS section names, once at start, and proves they make a usable TLS
 * context before anything connects: a missing file, a key that does not match its certificate
 * or a wrong passphrase stops the start with the field named, instead of surfacing later as a
 * retried "Kafka is unreachable".
 */
import { readFileSync } from 'node:fs';
import { createSecureContext, type ConnectionOptions, type SecureContextOptions } from 'node:tls';
import { gatewayError, type ErrorCode } from '../errors.js';

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

export interface TlsServerFilesConfig {
  certFile: string;
  keyFile: string;
  caFile?: string | undefined;
  minVersion: 'TLSv1.2' | 'TLSv1.3';
}

/**
 * Node TLS server options from a listener's TLS section (MQTT listeners, the admin listener);
 * `field` is its config path, e.g. "admin.tls". Proves the files make a context (a key that does
 * not match its certificate fails here, at start or reload, not at the first handshake).
 */
export function readTlsServerOptions(field: string, tls: TlsServerFilesConfig, code: ErrorCode = 'GW_ERR_CONFIG_TLS_INVALID'): SecureContextOptions {
  const read = (name: 'certFile' | 'keyFile' | 'caFile', path: string): Buffer => {
    try {
      return readFileSync(path);
    } catch (cause) {
      throw gatewayError(code, `${field}.${name}: ${(cause as Error).message}`, { cause });
    }
  };
  const opts: SecureContextOptions = { cert: read('certFile', tls.certFile), key: read('keyFile', tls.keyFile), minVersion: tls.minVersion };
  if (tls.caFile !== undefined) opts.ca = read('caFile', tls.caFile);
  try {
    createSecureContext(opts);
  } catch (cause) {
    throw gatewayError(code, `${field}: ${(cause as Error).message}`, { cause });
  }
  return opts;
}
