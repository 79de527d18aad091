// Real single-node Kafka (KRaft, broker+controller in one JVM) for tests.
// Jars come from test/kafka/pom.xml (see fetch-jars.ts); no Docker needed.
import { spawn, type ChildProcess } from 'node:child_process';
import { randomBytes } from 'node:crypto';
import { closeSync, openSync, writeSync } from 'node:fs';
import { mkdtemp, open, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { Kafka, logLevel } from 'kafkajs';
import { createTopicsOn } from './create-topics.js';
import { ensureKafkaJars } from './fetch-jars.js';
import { freePorts } from './free-port.js';
import { log4jConfigPath } from './kafka-paths.js';
import { fastJvmFlags, runKafkaTool } from './kafka-tool.js';
import { registerForReaping, unregisterForReaping } from './process-reaper.js';
import { addScramUser, scramFormatArgs, SCRAM_MECHANISM } from './scram.js';
import { NODE_ID, serverProperties, type BrokerLayout } from './server-properties.js';
import { sleep } from '../support/wait.js';

const READY_TIMEOUT_MS = 60_000;
const STOP_GRACE_MS = 20_000;
const KILL_WAIT_MS = 10_000;
const POLL_MS = 150;

export interface KafkaBroker {
  /** Host of the PLAINTEXT (and SASL) listener, also the advertised one; default 127.0.0.1. */
  readonly host: string;
  readonly bootstrap: string; // "HOST:PORT" (PLAINTEXT)
  readonly brokers: string[]; // [bootstrap]
  readonly port: number;
  /** "HOST:SASL_PORT" of the SASL_PLAINTEXT (SCRAM-SHA-256) listener; undefined without `sasl`. */
  readonly saslBootstrap: string | undefined;
  readonly saslPort: number | undefined;
  /** "HOST:PORT" of the SSL listener (broker certificate only); undefined without `tls`. */
  readonly sslBootstrap: string | undefined;
  /** "HOST:PORT" of the SSL listener that requires a client certificate (ssl.client.auth=required). */
  readonly mtlsBootstrap: string | undefined;
  readonly dataDir: string;
  start(): Promise<void>; // (re)start on the SAME port and SAME data dir; resolves when ready
  stop(): Promise<void>; // graceful SIGTERM, wait for exit (SIGKILL after 20 s)
  kill(): Promise<void>; // SIGKILL, wait for exit
  isRunning(): boolean;
  createTopics(topics: string[], partitions?: number): Promise<void>; // default 3 partitions, RF 1; idempotent
  /**
   * Creates a SCRAM-SHA-256 user (or sets its password) on the running broker; resolves once
   * that user can log in on the SASL listener. Rejects on a broker started without `sasl`.
   */
  addScramUser(name: string, password: string): Promise<void>;
  close(): Promise<void>; // stop + rm -rf temp dir; safe to call twice
}

export interface StartKafkaOptions {
  autoCreateTopics?: boolean;
  /**
   * Address the PLAINTEXT (and SASL) listener binds and advertises, e.g. a veth address so a
   * client in another network namespace crosses a link the test can cut. Default 127.0.0.1.
   * The CONTROLLER listener always stays on 127.0.0.1.
   */
  host?: string;
  /**
   * Adds a SASL_PLAINTEXT listener (SCRAM-SHA-256) on its own port; inter-broker traffic stays
   * PLAINTEXT. `users` (name -> password) exist from the start; add more with addScramUser().
   */
  sasl?: { mechanism: typeof SCRAM_MECHANISM; users?: Record<string, string> };
  /**
   * Adds two SSL listeners on their own ports: SSL (clients verify the broker) and MTLS (the
   * broker also requires a client certificate signed by a CA in `truststoreFile`). PEM files,
   * e.g. from createTestPki(): `keystoreFile` is the broker key followed by its chain.
   * Inter-broker traffic and the harness's own probes stay PLAINTEXT.
   */
  tls?: { keystoreFile: string; truststoreFile: string };
}

/** Starts a fresh broker in a new temp dir; resolves once it serves metadata. */
export async function startKafka(opts: StartKafkaOptions = {}): Promise<KafkaBroker> {
  if (opts.sasl !== undefined && opts.sasl.mechanism !== SCRAM_MECHANISM) {
    throw new Error(`kafka harness: only ${SCRAM_MECHANISM} is supported, got ${String(opts.sasl.mechanism)}`);
  }
  const scramArgs = scramFormatArgs(opts.sasl?.users ?? {}); // validates before any JVM starts
  const libs = await ensureKafkaJars();
  const root = await mkdtemp(join(tmpdir(), 'eg-kafka-'));
  const [port, controllerPort, saslPort, sslPort, mtlsPort] = await freePorts(5);
  if (port === undefined || controllerPort === undefined || saslPort === undefined || sslPort === undefined || mtlsPort === undefined) {
    throw new Error('kafka harness: no free ports');
  }
  const layout: BrokerLayout = {
    host: opts.host ?? '127.0.0.1',
    port,
    controllerPort,
    saslPort: opts.sasl ? saslPort : undefined,
    tls: opts.tls ? { sslPort, mtlsPort, ...opts.tls } : undefined,
    dataDir: join(root, 'data'),
    autoCreateTopics: opts.autoCreateTopics ?? false,
  };
  const broker = new JavaKafkaBroker(libs, root, layout);
  try {
    await writeFile(broker.propertiesFile, serverProperties(layout));
    await formatStorage(libs, broker.propertiesFile, scramArgs);
    await broker.start();
  } catch (err) {
    await broker.close().catch(() => undefined);
    throw err;
  }
  return broker;
}

/**
 * Same format as `kafka.tools.StorageTool random-uuid` (Kafka's Uuid.randomUuid():
 * 16 random bytes, base64url without padding, never starting with '-'); made here
 * to save one JVM start. `format` validates it.
 */
function randomClusterId(): string {
  for (;;) {
    const id = randomBytes(16).toString('base64url');
    if (!id.startsWith('-') && !/^A{21}[AQ]$/.test(id)) return id;
  }
}

async function formatStorage(libs: string, propertiesFile: string, extraArgs: string[]): Promise<void> {
  await runKafkaTool(libs, 'kafka.tools.StorageTool', ['format', '-t', randomClusterId(), '-c', propertiesFile, ...extraArgs], 'storage format');
}

interface ExitInfo {
  code: number | null;
  signal: NodeJS.Signals | null;
  error?: Error;
}

class JavaKafkaBroker implements KafkaBroker {
  readonly host: string;
  readonly bootstrap: string;
  readonly brokers: string[];
  readonly port: number;
  readonly controllerPort: number;
  readonly saslPort: number | undefined;
  readonly saslBootstrap: string | undefined;
  readonly sslBootstrap: string | undefined;
  readonly mtlsBootstrap: string | undefined;
  readonly dataDir: string;
  readonly propertiesFile: string;
  readonly logFile: string;
  private proc: ChildProcess | undefined;
  private exited: Promise<ExitInfo> | undefined;
  private starting: Promise<void> | undefined;
  private closing: Promise<void> | undefined;
  private removed = false;
  private alive = false; // spawned and no 'exit'/'error' seen yet
  private starts = 0;
  private readonly reapable = { child: () => this.proc, tempDir: () => (this.removed ? undefined : this.root) };

  constructor(
    private readonly libs: string,
    private readonly root: string,
    layout: BrokerLayout,
  ) {
    this.host = layout.host;
    this.port = layout.port;
    this.controllerPort = layout.controllerPort;
    this.saslPort = layout.saslPort;
    this.bootstrap = `${layout.host}:${layout.port}`;
    this.brokers = [this.bootstrap];
    this.saslBootstrap = layout.saslPort === undefined ? undefined : `${layout.host}:${layout.saslPort}`;
    this.sslBootstrap = layout.tls === undefined ? undefined : `${layout.host}:${layout.tls.sslPort}`;
    this.mtlsBootstrap = layout.tls === undefined ? undefined : `${layout.host}:${layout.tls.mtlsPort}`;
    this.dataDir = layout.dataDir;
    this.propertiesFile = join(root, 'server.properties');
    this.logFile = join(root, 'broker.log');
    registerForReaping(this.reapable);
  }

  isRunning(): boolean {
    return this.alive;
  }

  start(): Promise<void> {
    if (this.closing !== undefined) return Promise.reject(new Error('kafka harness: broker is closed'));
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
      writeSync(fd, `\n===== harness: start #${this.starts} at ${new Date().toISOString()} =====\n`);
      child = spawn(
        'java',
        [
          '-Xms256m', '-Xmx512m', '-XX:+UseG1GC',
          ...fastJvmFlags(),
          `-Dlog4j2.configurationFile=${log4jConfigPath()}`,
          '-cp', `${this.libs}/*`,
          'kafka.Kafka', this.propertiesFile,
        ],
        { cwd: this.root, stdio: ['ignore', fd, fd], detached: false },
      );
    } finally {
      closeSync(fd); // the child holds its own copy
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
    const startedAt = Date.now();
    let exit: ExitInfo | undefined;
    void exited.then((e) => (exit = e));
    let last = 'not probed yet';
    for (;;) {
      if (exit !== undefined) {
        const how = exit.error?.message ?? (exit.signal !== null ? `signal ${exit.signal}` : `code ${exit.code}`);
        throw new Error(`kafka harness: broker JVM exited during startup (${how})\n${await this.logTail()}`);
      }
      try {
        await this.probe();
        return;
      } catch (err) {
        last = err instanceof Error ? err.message : String(err);
      }
      if (Date.now() - startedAt > READY_TIMEOUT_MS) {
        await this.kill().catch(() => undefined);
        throw new Error(
          `kafka harness: broker on ${this.bootstrap} not ready after ${READY_TIMEOUT_MS} ms (last: ${last})\n${await this.logTail()}`,
        );
      }
      await Promise.race([sleep(POLL_MS), exited]);
    }
  }

  /** Ready = metadata lists this (unfenced) broker and every existing partition has a leader. */
  private async probe(): Promise<void> {
    const admin = new Kafka({
      clientId: 'eg-kafka-harness-probe',
      brokers: this.brokers,
      logLevel: logLevel.NOTHING,
      connectionTimeout: 1000,
      requestTimeout: 5000,
      retry: { retries: 0 },
    }).admin();
    try {
      await admin.connect();
      const cluster = await admin.describeCluster();
      if (!cluster.brokers.some((b) => b.nodeId === NODE_ID)) throw new Error('broker not yet in metadata (fenced)');
      const { topics } = await admin.fetchTopicMetadata();
      const leaderless = topics.filter((t) => t.partitions.some((p) => p.leader < 0)).map((t) => t.name);
      if (leaderless.length > 0) throw new Error(`partitions without leader: ${leaderless.join(', ')}`);
    } finally {
      await admin.disconnect().catch(() => undefined);
    }
  }

  async stop(): Promise<void> {
    if (this.starting !== undefined) await this.starting.catch(() => undefined);
    const child = this.proc;
    const exited = this.exited;
    if (child === undefined || exited === undefined || !this.isRunning()) return;
    child.kill('SIGTERM');
    const timer = sleepRef(STOP_GRACE_MS);
    try {
      const outcome = await Promise.race([exited, timer.done.then(() => 'timeout' as const)]);
      if (outcome === 'timeout') await this.kill();
    } finally {
      timer.cancel();
    }
  }

  async kill(): Promise<void> {
    const child = this.proc;
    const exited = this.exited;
    if (child === undefined || exited === undefined || !this.isRunning()) return;
    child.kill('SIGKILL');
    const timer = sleepRef(KILL_WAIT_MS);
    try {
      const outcome = await Promise.race([exited, timer.done.then(() => 'timeout' as const)]);
      if (outcome === 'timeout') throw new Error(`kafka harness: broker pid ${child.pid} survived SIGKILL`);
    } finally {
      timer.cancel();
    }
  }

  createTopics(topics: string[], partitions = 3): Promise<void> {
    return createTopicsOn(this.brokers, topics, partitions);
  }

  async addScramUser(name: string, password: string): Promise<void> {
    if (this.saslBootstrap === undefined) throw new Error('kafka harness: addScramUser needs a broker started with `sasl`');
    if (!this.isRunning()) throw new Error('kafka harness: addScramUser needs a running broker');
    await addScramUser(this.libs, this.bootstrap, [this.saslBootstrap], name, password);
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

  /** Last lines of broker.log (JVM stdout+stderr), for error messages. */
  async logTail(maxBytes = 8192, maxLines = 60): Promise<string> {
    try {
      const fh = await open(this.logFile, 'r');
      try {
        const { size } = await fh.stat();
        const length = Math.min(size, maxBytes);
        const buf = Buffer.alloc(length);
        await fh.read(buf, 0, length, size - length);
        const lines = buf.toString('utf8').split('\n');
        return `--- tail of ${this.logFile} ---\n${lines.slice(-maxLines).join('\n')}`;
      } finally {
        await fh.close();
      }
    } catch (err) {
      return `(no broker log: ${err instanceof Error ? err.message : String(err)})`;
    }
  }
}

/** A ref'd timer: keeps the event loop alive while we wait on the unref'd child. */
function sleepRef(ms: number): { done: Promise<void>; cancel(): void } {
  let timer: NodeJS.Timeout | undefined;
  const done = new Promise<void>((resolve) => {
    timer = setTimeout(resolve, ms);
  });
  return { done, cancel: () => clearTimeout(timer) };
}
