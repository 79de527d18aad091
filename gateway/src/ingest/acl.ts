/**
 * Authorization: who may publish to and subscribe to what. Rules follow mosquitto's acl_file
 * patterns: a topic filter with `%c` (client id) and `%u` (authenticated username) substituted
 * per client; `user` limits a rule to one authenticated identity, `anonymous: true` to clients
 * without credentials. A substitution that would inject a separator or a wildcard (an id
 * containing '/', '+' or '#') makes the rule not apply, so an id can never widen its own rules.
 * Route topics are not governed here: the publish gate lets a device write only its own routes.
 */
import { effectiveFilter, filterCovers, isValidFilter, topicMatches } from '../lib/mqtt-topic.js';

export interface AclRule {
  readonly user?: string | undefined;
  readonly anonymous?: boolean | undefined;
  readonly topic: string;
  readonly access: 'read' | 'write' | 'readwrite';
}

export interface Principal {
  readonly clientId: string;
  /** Authenticated identity (password or certificate); null for an anonymous client. */
  readonly username: string | null;
}

export interface AclOptions {
  rules: readonly AclRule[];
  /** `$SYS/...` may be subscribed to at all (then still only where a rule allows it). */
  sysTopics: boolean;
}

/** The rules resolved for one client at CONNECT: plain filters, checked per packet. */
export class ClientAcl {
  constructor(
    private readonly readFilters: readonly string[],
    private readonly writeFilters: readonly string[],
    private readonly sysTopics: boolean,
  ) {}

  /** May this client subscribe with `filter`? Granted only if a read rule covers all of it. */
  canSubscribe(filter: string): boolean {
    const f = effectiveFilter(filter);
    if (!isValidFilter(f)) return false;
    if (f.startsWith('$SYS') && !this.sysTopics) return false;
    for (const rule of this.readFilters) if (filterCovers(rule, f)) return true;
    return false;
  }

  /** May a message on `topic` be delivered to this client (checked again at forward time)? */
  canRead(topic: string): boolean {
    if (topic.startsWith('$SYS') && !this.sysTopics) return false;
    for (const rule of this.readFilters) if (topicMatches(rule, topic)) return true;
    return false;
  }

  /** May this client publish on `topic` (an unrouted, local topic)? */
  canWrite(topic: string): boolean {
    if (topic.charCodeAt(0) === 36 /* $ */) return false;
    for (const rule of this.writeFilters) if (topicMatches(rule, topic)) return true;
    return false;
  }
}

const UNSAFE_IN_LEVEL = /[/+#\u0000]/;

export class Acl {
  constructor(private readonly o: AclOptions) {}

  forPrincipal(p: Principal): ClientAcl {
    const read: string[] = [];
    const write: string[] = [];
    for (const rule of this.o.rules) {
      if (rule.user !== undefined && rule.user !== p.username) continue;
      if (rule.anonymous === true && p.username !== null) continue;
      const filter = substitute(rule.topic, p);
      if (filter === null || !isValidFilter(filter)) continue;
      if (rule.access !== 'write') read.push(filter);
      if (rule.access !== 'read') write.push(filter);
    }
    return new ClientAcl(read, write, this.o.sysTopics);
  }
}

function substitute(pattern: string, p: Principal): string | null {
  let ok = true;
  // One pass, so a value that itself contains "%u" or "%c" is never substituted again.
  const out = pattern.replace(/%[cu]/g, (m) => {
    const v = m === '%c' ? p.clientId : p.username;
    if (v === null || v.length === 0 || UNSAFE_IN_LEVEL.test(v)) {
      ok = false;
      return '';
    }
    return v;
  });
  return ok ? out : null;
}

export function createAcl(opts: AclOptions): Acl {
  return new Acl(opts);
}

/** What the rest of ingest asks of a client's ACL. */
export type ClientAclView = Pick<ClientAcl, 'canSubscribe' | 'canRead' | 'canWrite'>;

/**
 * The ACL in force, replaceable live (remote config, SIGHUP): each connected client holds a view
 * that resolves its rules again after a change, so new rules reach established connections at
 * their next subscribe, delivery or publish without a reconnect.
 */
export class ReloadableAcl {
  private gen = 0;
  constructor(private acl: Acl) {}

  replace(next: Acl): void {
    this.acl = next;
    this.gen++;
  }

  get current(): Acl {
    return this.acl;
  }

  /** Bumped by replace(); each client's view re-resolves its ClientAcl when it sees a new one. */
  get generation(): number {
    return this.gen;
  }

  forPrincipal(p: Principal): ClientAclView {
    return new ReloadableClientAcl(this, p);
  }
}

/**
 * One per connected client, so one object with prototype methods rather than a record of
 * closures (4 closures and a context each, ~0.3 KiB per device at 10,000 devices).
 */
class ReloadableClientAcl implements ClientAclView {
  private gen: number;
  private resolved: ClientAcl;

  constructor(
    private readonly owner: ReloadableAcl,
    private readonly principal: Principal,
  ) {
    this.gen = owner.generation;
    this.resolved = owner.current.forPrincipal(principal);
  }

  private now(): ClientAcl {
    if (this.gen !== this.owner.generation) {
      this.gen = this.owner.generation;
      this.resolved = this.owner.current.forPrincipal(this.principal);
    }
    return this.resolved;
  }

  canSubscribe(filter: string): boolean {
    return this.now().canSubscribe(filter);
  }

  canRead(topic: string): boolean {
    return this.now().canRead(topic);
  }

  canWrite(topic: string): boolean {
    return this.now().canWrite(topic);
  }
}
