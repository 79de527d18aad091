// Real Apicurio Registry (Confluent-compatible API at /apis/ccompat/v7) for tests: one JVM,
// in-memory H2 storage, bound to 127.0.0.1. Comes from Maven Central (fetch-registry.ts); no Docker.
// Storage lives in the JVM's memory: stop() or kill() loses every schema, id and config, and a
// start() after them serves an EMPTY registry on the same port (ids start again at 1).
import { spawn, type ChildProcess } from 'node:child_process';
import { closeSync, openSync, writeSync } from 'node:fs';
import { mkdtemp, open, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { freePorts } from '../kafka/free-port.js';
import { registerForReaping, unregisterForReaping } from '../kafka/process-reaper.js';
import { CCOMPAT_PATH, ccompatRequest, setCompatibility, type CompatibilityLevel, type RegistryEndpoint } from './ccompat-client.js';
import { ensureApicurio } from './fetch-registry.js';
import { sleep } from '../support/wait.js';

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

interface ExitInfo {
  code: number | null;
  signal: NodeJS.Signals | null;
  error?: Error;
}

class ApicurioRegistry implements SchemaRegistry {
  readonly host = '127.0.0.1';
  readonly url: string;
  readonly endpoint: RegistryEndpoint;
  private readonly logFile: string;
  private proc: ChildProcess | undefined;
  private exited: Promise<ExitInfo> | undefined;
  private starting: Promise<void> | undefined;
  private closing: Promise<void> | undefined;
  private removed = false;
  private alive = false;
  private starts = 0;
  private readonly reapable = { child: () => this.proc, tempDir: () => (this.removed ? undefined : this.root) };

  constructor(
    private readonly jar: string,
    private readonly root: string,
    readonly port: number,
  ) {
    this.url = `http://${this.host}:${port}${CCOMPAT_PATH}`;
    this.endpoint = { url: this.url, timeoutMs: 2_000 };
    this.logFile = join(root, 'registry.log');
    registerForReaping(this.reapable);
  }

  isRunning(): boolean {
    return this.alive;
  }

  start(): Promise<void> {
    if (this.closing !== undefined) return Promise.reject(new Error('registry harness: registry is closed'));
    if (this.starting !== undefined) return this.starting;
    if (this.isRunning()) return Promise.resolve();
    this.starting = this.doStart().finally(() => {
      this.starting = undefined;
    });
    return this.starting;
  }

  private async doStart(): Promise<void> {
    this.starts += 1;
    const fd = openSync(this.logFile, 'a');
    let child: ChildProcess;
    try {
      writeSync(fd, `\n===== harness: start #${this.starts} on port ${this.port} at ${new Date().toISOString()} =====\n`);
      child = spawn(
        'java',
        ['-Xms64m', '-Xmx512m', '-XX:+UseSerialGC', '-XX:TieredStopAtLevel=1', '-XX:-UsePerfData', '-jar', this.jar],
        // cwd: the temp dir, so anything Quarkus or Narayana writes lands there and is deleted.
        { cwd: this.root, stdio: ['ignore', fd, fd], env: { ...process.env, HTTP_PORT: String(this.port), QUARKUS_HTTP_HOST: this.host } },
      );
    } finally {
      closeSync(fd);
    }
    this.proc = child;
    this.alive = true;
    this.exited = new Promise<ExitInfo>((resolve) => {
      child.once('exit', (code, signal) => {
        this.alive = false;
        resolve({ code, signal });
      });
      child.once('error', (error) => {
        this.alive = false;
        resolve({ code: null, signal: null, error });
      });
    });
    child.unref(); // never keeps the test process alive; process-reaper kills it on exit
    await this.waitUntilReady(this.exited);
  }

  private async waitUntilReady(exited: Promise<ExitInfo>): Promise<void> {
    const deadline = Date.now() + READY_TIMEOUT_MS;
    let exit: ExitInfo | undefined;
    void exited.then((e) => (exit = e));
    let last = 'not probed yet';
    for (;;) {
      if (exit !== undefined) {
        const how = exit.error?.message ?? (exit.signal !== null ? `signal ${exit.signal}` : `code ${exit.code}`);
        throw new Error(`registry harness: Apicurio exited during startup (${how})\n${await this.logTail()}`);
      }
      try {
        const res = await ccompatRequest(this.endpoint, 'GET', '/subjects');
        if (res.status === 200) return;
        last = `GET /subjects -> ${res.status}`;
      } catch (err) {
        last = err instanceof Error ? err.message : String(err);
      }
      if (Date.now() > deadline) {
        await this.kill().catch(() => undefined);
        throw new Error(`registry harness: ${this.url} not ready after ${READY_TIMEOUT_MS} ms (last: ${last})\n${await this.logTail()}`);
      }
      await Promise.race([sleep(POLL_MS), exited]);
    }
  }

  async stop(): Promise<void> {
    if (this.starting !== undefined) await this.starting.catch(() => undefined);
    await this.signalAndWait('SIGTERM', STOP_GRACE_MS).then((gone) => (gone ? undefined : this.kill()));
  }

  async kill(): Promise<void> {
    const child = this.proc;
    if (!(await this.signalAndWait('SIGKILL', KILL_WAIT_MS))) throw new Error(`registry harness: pid ${child?.pid} survived SIGKILL`);
  }

  /** Sends `signal`; true once the JVM has exited (or was not running), false after `waitMs`. */
  private async signalAndWait(signal: NodeJS.Signals, waitMs: number): Promise<boolean> {
    const child = this.proc;
    const exited = this.exited;
    if (child === undefined || exited === undefined || !this.isRunning()) return true;
    child.kill(signal);
    let timer: NodeJS.Timeout | undefined; // ref'd: keeps the loop alive while we wait on the unref'd child
    const timeout = new Promise<'timeout'>((resolve) => (timer = setTimeout(() => resolve('timeout'), waitMs)));
    try {
      return (await Promise.race([exited, timeout])) !== 'timeout';
    } finally {
      clearTimeout(timer);
    }
  }

  setCompatibility(level: CompatibilityLevel, subject?: string): Promise<void> {
    return setCompatibility(this.endpoint, level, subject);
  }

  close(): Promise<void> {
    this.closing ??= (async () => {
      try {
        await this.stop();
      } catch {
        await this.kill().catch(() => undefined);
      }
      await rm(this.root, { recursive: true, force: true, maxRetries: 3 });
      this.removed = true;
      unregisterForReaping(this.reapable);
    })();
    return this.closing;
  }

  async logTail(maxBytes = 8192, maxLines = 60): Promise<string> {
    try {
      const fh = await open(this.logFile, 'r');
      try {
        const { size } = await fh.stat();
        const length = Math.min(size, maxBytes);
        const buf = Buffer.alloc(length);
        await fh.read(buf, 0, length, size - length);
        return `--- tail of ${this.logFile} ---\n${buf.toString('utf8').split('\n').slice(-maxLines).join('\n')}`;
      } finally {
        await fh.close();
      }
    } catch (err) {
      return `(no registry log: ${err instanceof Error ? err.message : String(err)})`;
    }
  }
}

