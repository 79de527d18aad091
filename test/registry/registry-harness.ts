// Real Apicurio Registry (Confluent-compatible API at /apis/ccompat/v7) for tests: one JVM,
// in-memory H2 storage, bound to 127.0.0.1. Comes from Maven Central (fetch-registry.ts); no Docker.
// Storage lives in the JVM's memory: stop() or kill() loses every schema, id and config, and a
// start() after them serves an EMPTY registry on the same port (ids start again at 1).
import { mkdtemp } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { freePorts } from '../kafka/free-port.js';
import { CCOMPAT_PATH, ccompatRequest, setCompatibility, type CompatibilityLevel, type RegistryEndpoint } from './ccompat-client.js';
import { ensureApicurio } from './fetch-registry.js';
import { JvmProcess } from '../support/jvm-process.js';

const READY_TIMEOUT_MS = 60_000;
const STOP_GRACE_MS = 15_000;
const KILL_WAIT_MS = 10_000;
const POLL_MS = 100;

export interface SchemaRegistry {
  readonly host: string; // 127.0.0.1
  readonly port: number;
  /** What Confluent clients call the registry URL: `http://127.0.0.1:PORT/apis/ccompat/v7`. */
  readonly url: string;
  /** `{ url }`, for the helpers of ccompat-client.ts. */
  readonly endpoint: RegistryEndpoint;
  /** (Re)starts on the SAME port with EMPTY storage; resolves once GET /subjects answers 200. */
  start(): Promise<void>;
  stop(): Promise<void>; // SIGTERM, wait for exit (SIGKILL after 15 s); the data is gone
  kill(): Promise<void>; // SIGKILL, wait for exit
  isRunning(): boolean;
  /** PUT /config (global) or /config/{subject}. Apicurio's default is NONE. */
  setCompatibility(level: CompatibilityLevel, subject?: string): Promise<void>;
  /** Last lines of the JVM's stdout+stderr, for error messages. */
  logTail(): Promise<string>;
  close(): Promise<void>; // stop + rm -rf the temp dir; safe to call twice
}

export interface StartRegistryOptions {
  /** Default: a free port. */
  port?: number;
}

/** Starts Apicurio on 127.0.0.1; resolves once it serves the ccompat API. */
export async function startRegistry(opts: StartRegistryOptions = {}): Promise<SchemaRegistry> {
  const jar = await ensureApicurio();
  const port = opts.port ?? (await freePorts(1))[0];
  if (port === undefined) throw new Error('registry harness: no free port');
  const root = await mkdtemp(join(tmpdir(), 'eg-registry-'));
  const registry = new ApicurioRegistry(jar, root, port);
  try {
    await registry.start();
  } catch (err) {
    await registry.close().catch(() => undefined);
    throw err;
  }
  return registry;
}

class ApicurioRegistry extends JvmProcess implements SchemaRegistry {
  readonly host = '127.0.0.1';
  readonly url: string;
  readonly endpoint: RegistryEndpoint;

  constructor(jar: string, root: string, readonly port: number) {
    super({
      name: `registry harness: Apicurio on 127.0.0.1:${port}`,
      root,
      logFile: join(root, 'registry.log'),
      // cwd is the temp dir, so anything Quarkus or Narayana writes lands there and is deleted.
      args: ['-Xms64m', '-Xmx512m', '-XX:+UseSerialGC', '-XX:TieredStopAtLevel=1', '-XX:-UsePerfData', '-jar', jar],
      env: { ...process.env, HTTP_PORT: String(port), QUARKUS_HTTP_HOST: '127.0.0.1' },
      readyTimeoutMs: READY_TIMEOUT_MS,
      pollMs: POLL_MS,
      stopGraceMs: STOP_GRACE_MS,
      killWaitMs: KILL_WAIT_MS,
    });
    this.url = `http://${this.host}:${port}${CCOMPAT_PATH}`;
    this.endpoint = { url: this.url, timeoutMs: 2_000 };
  }

  protected async probe(): Promise<void> {
    const res = await ccompatRequest(this.endpoint, 'GET', '/subjects');
    if (res.status !== 200) throw new Error(`GET /subjects -> ${res.status}`);
  }

  setCompatibility(level: CompatibilityLevel, subject?: string): Promise<void> {
    return setCompatibility(this.endpoint, level, subject);
  }
}
