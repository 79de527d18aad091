/**
 * The identity each connected client authenticated as, and its resolved ACL. Set once by the
 * authenticator at CONNECT; read by the publish gate, subscribe and forward checks. Everything
 * downstream uses this, never a string the client sends later.
 */
import type { ClientAclView } from './acl.js';

export type AuthMethod = 'password' | 'certificate' | 'anonymous';

export interface ClientIdentity {
  /** Equals the MQTT client id (enforced at CONNECT). */
  readonly id: string;
  readonly method: AuthMethod;
  readonly acl: ClientAclView;
  /** Peer address, for logs and per-source limits. */
  readonly source: string;
}

const identities = new WeakMap<object, ClientIdentity>();

export function setClientIdentity(client: object, identity: ClientIdentity): void {
  identities.set(client, identity);
}

export function clientIdentity(client: object): ClientIdentity | undefined {
  return identities.get(client);
}
