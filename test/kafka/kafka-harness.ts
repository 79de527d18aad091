// Real single-node Kafka (KRaft, broker+controller in one JVM) for tests.
// Jars come from test/kafka/pom.xml (see fetch-jars.ts); no Docker needed.
import { randomBytes } from 'node:crypto';
import { mkdtemp, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { Kafka, logLevel } from 'kafkajs';
import { createTopicsOn } from './create-topics.js';
import { ensureKafkaJars } from './fetch-jars.js';
import { freePorts } from './free-port.js';
import { log4jConfigPath } from './kafka-paths.js';
import { fastJvmFlags, runKafkaTool } from './kafka-tool.js';
import { addScramUser, scramFormatArgs, SCRAM_MECHANISM } from './scram.js';
import { NODE_ID, serverProperties, type BrokerLayout } from './server-properties.js';
import { JvmProcess } from '../support/jvm-process.js';

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

class JavaKafkaBroker extends JvmProcess implements KafkaBroker {
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

  constructor(
    private readonly libs: string,
    root: string,
    layout: BrokerLayout,
  ) {
    const bootstrap = `${layout.host}:${layout.port}`;
    const propertiesFile = join(root, 'server.properties');
    super({
      name: `kafka harness: broker on ${bootstrap}`,
      root,
      logFile: join(root, 'broker.log'),
      args: ['-Xms256m', '-Xmx512m', '-XX:+UseG1GC', ...fastJvmFlags(), `-Dlog4j2.configurationFile=${log4jConfigPath()}`, '-cp', `${libs}/*`, 'kafka.Kafka', propertiesFile],
      readyTimeoutMs: READY_TIMEOUT_MS,
      pollMs: POLL_MS,
      stopGraceMs: STOP_GRACE_MS,
      killWaitMs: KILL_WAIT_MS,
    });
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
  }

  /** Ready = metadata lists this (unfenced) broker and every existing partition has a leader. */
  protected async probe(): Promise<void> {
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

  createTopics(topics: string[], partitions = 3): Promise<void> {
    return createTopicsOn(this.brokers, topics, partitions);
  }

  async addScramUser(name: string, password: string): Promise<void> {
    if (this.saslBootstrap === undefined) throw new Error('kafka harness: addScramUser needs a broker started with `sasl`');
    if (!this.isRunning()) throw new Error('kafka harness: addScramUser needs a running broker');
    await addScramUser(this.libs, this.bootstrap, [this.saslBootstrap], name, password);
  }
}
