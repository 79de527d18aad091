/**
 * Authentication at CONNECT (aedes `authenticate`), per listener, in this order:
 *  1. a device certificate verified by the listener's CA: identity = its CN or SAN;
 *  2. username + password: username = device id, checked against the scrypt hash in the database;
 *  3. neither: admitted only where the listener allows anonymous, and never under a provisioned
 *     device id (an anonymous local client cannot pose as a device).
 * The MQTT client id must equal the identity, so a session can only be taken over by the same
 * identity. Failures answer CONNACK 4 (bad credentials) or 5 (not authorized), are counted, logged
 * rate-limited per source, and later attempts from that source are delayed against guessing.
 */
import type { Socket } from 'node:net';
import type { TLSSocket } from 'node:tls';
import type { AuthenticateError, Client } from 'aedes';
import { allowsAnonymous, type ListenerConfig } from '../config/mqtt-listener-schema.js';
import type { Logger } from '../lib/logger.js';
import { truncateField } from '../lib/log-fields.js';
import type { RateLimitedLog } from '../lib/rate-limited-log.js';
import type { ClientAclView, Principal } from './acl.js';
import { setClientIdentity, type AuthMethod } from './client-identity.js';

export type VerifyResult = 'ok' | 'unknown' | 'bad_secret' | 'busy';

/** The credential store as the authenticator needs it. */
export interface CredentialVerifier {
  verify(deviceId: string, secret: Buffer): Promise<VerifyResult>;
  /** True if this id is provisioned (has credentials). */
  has(deviceId: string): boolean;
}

/** Per-source delay after failed logins. */
export interface LoginThrottle {
  delayMs(source: string): number;
  recordFailure(source: string): void;
  recordSuccess(source: string): void;
}

export interface AuthCounters {
  acceptedTotal: Record<AuthMethod, number>;
  /** By CONNACK reason: bad_credentials, not_authorized, identity_mismatch, busy, empty_id_persistent. */
  refusedTotal: Record<string, number>;
}

export interface AuthenticatorOptions {
  acl: { forPrincipal(p: Principal): ClientAclView };
  credentials: CredentialVerifier;
  throttle: LoginThrottle;
  /** Which listener accepted this socket. */
  listenerOf(conn: unknown): ListenerConfig | undefined;
  /** Whether the client sent an empty client id (set by preConnect). */
  sentEmptyClientId(client: Client): boolean;
  /** How the client currently connected under this id authenticated, if any. */
  connectedMethod(clientId: string): AuthMethod | undefined;
  /** At most this many logins waiting (throttle delay or hash check); beyond: CONNACK 3. */
  maxPendingLogins: number;
  logger: Logger;
  /** Rate-limited warnings (one per key per interval). */
  warnLog: RateLimitedLog;
  /** Client-supplied strings are truncated to this in logs. */
  logFieldMaxChars: number;
}

type AuthCallback = (err: AuthenticateError | null, success: boolean | null) => void;

const RC_UNAVAILABLE = 3;
const RC_BAD_CREDENTIALS = 4;
const RC_NOT_AUTHORIZED = 5;
const RC_IDENTIFIER_REJECTED = 2;

export function createAuthenticator(o: AuthenticatorOptions): {
  authenticate: (client: Client, username: string | undefined, password: Buffer | undefined, cb: AuthCallback) => void;
  counters: AuthCounters;
} {
  const counters: AuthCounters = { acceptedTotal: { password: 0, certificate: 0, anonymous: 0 }, refusedTotal: {} };
  let pending = 0;

  function refuse(client: Client, source: string, rc: number, reason: string, detail: string, cb: AuthCallback): void {
    counters.refusedTotal[reason] = (counters.refusedTotal[reason] ?? 0) + 1;
    o.warnLog.warn(`auth:${reason}:${source}`, { event: 'auth_refused', reason, returnCode: rc, clientId: truncateField(client.id, o.logFieldMaxChars), source, detail }, 'MQTT login refused');
    const err = new Error(`login refused: ${reason}`) as AuthenticateError;
    (err as { returnCode: number }).returnCode = rc;
    cb(err, false);
  }

  function admit(client: Client, source: string, id: string, username: string | null, method: AuthMethod, cb: AuthCallback): void {
    counters.acceptedTotal[method]++;
    setClientIdentity(client, { id, method, source, acl: o.acl.forPrincipal({ clientId: client.id, username }) });
    cb(null, true);
  }

  function authenticate(client: Client, username: string | undefined, password: Buffer | undefined, cb: AuthCallback): void {
    const conn = client.conn as Socket;
    const source = conn.remoteAddress ?? 'unknown';
    const listener = o.listenerOf(conn);
    if (listener === undefined) return refuse(client, source, RC_UNAVAILABLE, 'no_listener', 'socket from an unknown listener', cb);
    // [MQTT-3.1.3-8]: a zero-length client id with CleanSession=0 gets CONNACK 2.
    if (o.sentEmptyClientId(client) && !client.clean) {
      return refuse(client, source, RC_IDENTIFIER_REJECTED, 'empty_id_persistent', 'zero-length client id requires CleanSession=1', cb);
    }

    // 1. Device certificate.
    const tls = listener.tls;
    if (tls !== undefined && tls.clientCert !== 'none' && (conn as TLSSocket).authorized === true) {
      const id = certificateIdentity(conn as TLSSocket, tls.identityFrom);
      if (id === null) return refuse(client, source, RC_NOT_AUTHORIZED, 'not_authorized', `certificate has no ${tls.identityFrom} identity`, cb);
      if (client.id !== id || (username !== undefined && username !== id)) {
        return refuse(client, source, RC_NOT_AUTHORIZED, 'identity_mismatch', `certificate names "${truncateField(id, o.logFieldMaxChars)}"`, cb);
      }
      return admit(client, source, id, id, 'certificate', cb);
    }

    // 2. Username + password.
    if (username !== undefined || password !== undefined) {
      if (!username || !password || password.length === 0) return refuse(client, source, RC_BAD_CREDENTIALS, 'bad_credentials', 'username and password are both required', cb);
      if (username !== client.id) return refuse(client, source, RC_NOT_AUTHORIZED, 'identity_mismatch', 'client id must equal the username', cb);
      if (pending >= o.maxPendingLogins) return refuse(client, source, RC_UNAVAILABLE, 'busy', `${pending} logins pending`, cb);
      pending++;
      const delay = o.throttle.delayMs(source);
      const check = (): void => {
        o.credentials.verify(username, password).then(
          (result) => {
            pending--;
            if (client.closed) return refuse(client, source, RC_UNAVAILABLE, 'closed', 'client closed during login', cb);
            if (result === 'ok') {
              o.throttle.recordSuccess(source);
              return admit(client, source, username, username, 'password', cb);
            }
            if (result === 'busy') return refuse(client, source, RC_UNAVAILABLE, 'busy', 'credential checks saturated', cb);
            o.throttle.recordFailure(source);
            refuse(client, source, RC_BAD_CREDENTIALS, 'bad_credentials', result, cb);
          },
          (err: unknown) => {
            pending--;
            o.logger.error({ event: 'auth_error', err }, 'credential check failed');
            refuse(client, source, RC_UNAVAILABLE, 'busy', 'credential store error', cb);
          },
        );
      };
      if (delay > 0) setTimeout(check, delay).unref();
      else check();
      return;
    }

    // 3. Anonymous.
    if (!allowsAnonymous(listener)) return refuse(client, source, RC_NOT_AUTHORIZED, 'not_authorized', 'this listener requires credentials or a certificate', cb);
    if (o.credentials.has(client.id)) return refuse(client, source, RC_NOT_AUTHORIZED, 'identity_mismatch', 'a provisioned device id needs its credentials', cb);
    // An anonymous client never takes over a session that an authenticated device holds.
    const holder = o.connectedMethod(client.id);
    if (holder !== undefined && holder !== 'anonymous') return refuse(client, source, RC_NOT_AUTHORIZED, 'identity_mismatch', `session held by a ${holder}-authenticated client`, cb);
    admit(client, source, client.id, null, 'anonymous', cb);
  }

  return { authenticate, counters };
}

/** CN or first DNS/URI subjectAltName of the verified peer certificate. */
export function certificateIdentity(conn: TLSSocket, from: 'cn' | 'san'): string | null {
  const cert = conn.getPeerCertificate();
  if (!cert || Object.keys(cert).length === 0) return null;
  if (from === 'cn') {
    const cn = cert.subject?.CN as string | string[] | undefined;
    const v = Array.isArray(cn) ? cn[0] : cn;
    return v && v.length > 0 ? v : null;
  }
  const san = cert.subjectaltname ?? '';
  for (const part of san.split(', ')) {
    const m = /^(DNS|URI):(.+)$/.exec(part);
    if (m) return m[2]!;
  }
  return null;
}
