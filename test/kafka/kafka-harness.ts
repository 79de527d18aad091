// Real single-node Kafka (KRaft, broker+controller in one JVM) for tests.
// Jars come from test/kafka/pom.xml (see fetch-jars.ts); no Docker needed.
import { execFile, spawn, type ChildProcess } from 'node:child_process';
import { randomBytes } from 'node:crypto';
import { closeSync, openSync, writeSync } from 'node:fs';
import { mkdtemp, open, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { promisify } from 'node:util';
import { Kafka, logLevel } from 'kafkajs';
import { createTopicsOn } from './create-topics.js';
import { ensureKafkaJars } from './fetch-jars.js';
import { freePorts } from './free-port.js';
import { log4jConfigPath } from './kafka-paths.js';
import { registerForReaping, unregisterForReaping } from './process-reaper.js';

const execFileAsync = promisify(execFile);

const READY_TIMEOUT_MS = 60_000;
const STOP_GRACE_MS = 20_000;
const KILL_WAIT_MS = 10_000;
const POLL_MS = 150;
const NODE_ID = 1;

export interface KafkaBroker {
  readonly bootstrap: string; // "127.0.0.1:PORT"
  readonly brokers: string[]; // [bootstrap]
  readonly port: number;
  readonly dataDir: string;
  start(): Promise<void>; // (re)start on the SAME port and SAME data dir; resolves when ready
  stop(): Promise<void>; // graceful SIGTERM, wait for exit (SIGKILL after 20 s)
  kill(): Promise<void>; // SIGKILL, wait for exit
  isRunning(): boolean;
  createTopics(topics: string[], partitions?: number): Promise<void>; // default 3 partitions, RF 1; idempotent
  close(): Promise<void>; // stop + rm -rf temp dir; safe to call twice
}

export interface StartKafkaOptions {
  autoCreateTopics?: boolean;
}

/** Starts a fresh broker in a new temp dir; resolves once it serves metadata. */
export async function startKafka(opts: StartKafkaOptions = {}): Promise<KafkaBroker> {
  const libs = await ensureKafkaJars();
  const root = await mkdtemp(join(tmpdir(), 'eg-kafka-'));
  const [port, controllerPort] = await freePorts(2);
  if (port === undefined || controllerPort === undefined) throw new Error('kafka harness: no free ports');
  const broker = new JavaKafkaBroker(libs, root, port, controllerPort);
  try {
    await writeFile(broker.propertiesFile, serverProperties(broker, controllerPort, opts.autoCreateTopics ?? false));
    await formatStorage(libs, broker.propertiesFile);
    await broker.start();
  } catch (err) {
    await broker.close().catch(() => undefined);
    throw err;
  }
  return broker;
}

function serverProperties(b: JavaKafkaBroker, controllerPort: number, autoCreate: boolean): string {
  const props: Record<string, string | number | boolean> = {
    'process.roles': 'broker,controller',
    'node.id': NODE_ID,
    'controller.quorum.voters': `${NODE_ID}@127.0.0.1:${controllerPort}`,
    listeners: `PLAINTEXT://127.0.0.1:${b.port},CONTROLLER://127.0.0.1:${controllerPort}`,
    'advertised.listeners': `PLAINTEXT://127.0.0.1:${b.port}`,
    'controller.listener.names': 'CONTROLLER',
    'listener.security.protocol.map': 'PLAINTEXT:PLAINTEXT,CONTROLLER:PLAINTEXT',
    'inter.broker.listener.name': 'PLAINTEXT',
    'log.dirs': b.dataDir,
    'num.partitions': 3,
    'auto.create.topics.enable': autoCreate,
    'offsets.topic.replication.factor': 1,
    'transaction.state.log.replication.factor': 1,
    'transaction.state.log.min.isr': 1,
    'share.coordinator.state.topic.replication.factor': 1,
    'share.coordinator.state.topic.min.isr': 1,
    'group.initial.rebalance.delay.ms': 0,
    // After a SIGKILL the restarted broker's registration is refused
    // (DUPLICATE_BROKER_REGISTRATION) until the old session expires: 9 s by
    // default, retried every heartbeat interval. Shorter values make kill()+start() ~3 s faster.
    'broker.session.timeout.ms': 3000,
    'broker.heartbeat.interval.ms': 500,
  };
  return Object.entries(props)
    .map(([k, v]) => `${k}=${String(v)}`)
    .join('\n') + '\n';
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

async function formatStorage(libs: string, propertiesFile: string): Promise<void> {
  try {
    await execFileAsync('java', [
      ...fastJvmFlags(),
      `-Dlog4j2.configurationFile=${log4jConfigPath()}`,
      '-cp', `${libs}/*`,
      'kafka.tools.StorageTool', 'format', '-t', randomClusterId(), '-c', propertiesFile,
    ]);
  } catch (err) {
    const e = err as { stdout?: string; stderr?: string; message: string };
    throw new Error(`kafka harness: storage format failed: ${e.message}\n${e.stdout ?? ''}${e.stderr ?? ''}`);
  }
}

function fastJvmFlags(): string[] {
  // C1 only and the default CDS archive: quicker JVM start, plenty fast for tests.
  return ['-XX:TieredStopAtLevel=1', '-Xshare:auto', '-XX:-UsePerfData', '-Djava.awt.headless=true'];
}

interface ExitInfo {
  code: number | null;
  signal: NodeJS.Signals | null;
  error?: Error;
}

class JavaKafkaBroker implements KafkaBroker {
  readonly bootstrap: string;
  readonly brokers: string[];
  readonly dataDir: string;
  readonly propertiesFile: string;
  readonly logFile: string;
  private proc: ChildProcess | undefined;
  private exited: Promise<ExitInfo> | undefined;
  private starting: Promise<void> | undefined;
  private closing: Promise<void> | undefined;
  private removed = false;
  private starts = 0;
  private readonly reapable = { child: () => this.proc, tempDir: () => (this.removed ? undefined : this.root) };

  constructor(
    private readonly libs: string,
    private readonly root: string,
    readonly port: number,
    readonly controllerPort: number,
  ) {
    this.bootstrap = `127.0.0.1:${port}`;
    this.brokers = [this.bootstrap];
    this.dataDir = join(root, 'data');
    this.propertiesFile = join(root, 'server.properties');
    this.logFile = join(root, 'broker.log');
    registerForReaping(this.reapable);
  }

  isRunning(): boolean {
    const p = this.proc;
    return p !== undefined && p.exitCode === null && p.signalCode === null;
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
    this.exited = new Promise<ExitInfo>((resolve) => {
      child.once('exit', (code, signal) => resolve({ code, signal }));
      child.once('error', (error) => resolve({ code: null, signal: null, error }));
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

function sleep(ms: number): Promise<void> {
  return new Promise((resolve) => setTimeout(resolve, ms));
}

/** A ref'd timer: keeps the event loop alive while we wait on the unref'd child. */
function sleepRef(ms: number): { done: Promise<void>; cancel(): void } {
  let timer: NodeJS.Timeout | undefined;
  const done = new Promise<void>((resolve) => {
    timer = setTimeout(resolve, ms);
  });
  return { done, cancel: () => clearTimeout(timer) };
}
