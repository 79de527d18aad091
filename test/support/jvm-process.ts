/**
 * One JVM service for the test harnesses (the Kafka broker, the Schema Registry): spawn with its
 * output in a log file, wait until a probe says it is ready (or it exits, or a deadline passes),
 * stop (SIGTERM, then SIGKILL), kill, and close (stop + remove its temp dir). The child is unref'd
 * and registered with the process reaper, so a test that dies never leaves a JVM behind.
 */
import { spawn, type ChildProcess } from 'node:child_process';
import { closeSync, openSync, writeSync } from 'node:fs';
import { open, rm } from 'node:fs/promises';
import { registerForReaping, unregisterForReaping } from '../kafka/process-reaper.js';
import { sleep } from './wait.js';

export interface JvmProcessOptions {
  /** For messages: "kafka harness: broker on 127.0.0.1:9092". */
  name: string;
  /** The service's temp dir: its cwd, removed by close(). */
  root: string;
  /** JVM stdout + stderr (appended across restarts). */
  logFile: string;
  /** `java` arguments. */
  args: readonly string[];
  env?: NodeJS.ProcessEnv;
  readyTimeoutMs: number;
  pollMs: number;
  /** SIGTERM grace before SIGKILL in stop(). */
  stopGraceMs: number;
  killWaitMs: number;
}

interface ExitInfo {
  code: number | null;
  signal: NodeJS.Signals | null;
  error?: Error;
}

/** A harness extends it with its probe (and its own API). */
export abstract class JvmProcess {
  private proc: ChildProcess | undefined;
  private exited: Promise<ExitInfo> | undefined;
  private starting: Promise<void> | undefined;
  private closing: Promise<void> | undefined;
  private removed = false;
  private alive = false; // spawned and no 'exit'/'error' seen yet
  private starts = 0;
  private readonly reapable = { child: () => this.proc, tempDir: () => (this.removed ? undefined : this.o.root) };

  constructor(private readonly o: JvmProcessOptions) {
    registerForReaping(this.reapable);
  }

  /** Resolves when the service is ready; throws (its message is the last state) while it is not. */
  protected abstract probe(): Promise<void>;

  isRunning(): boolean {
    return this.alive;
  }

  /** (Re)starts; resolves once the probe passes. Concurrent calls share one start. */
  start(): Promise<void> {
    if (this.closing !== undefined) return Promise.reject(new Error(`${this.o.name}: closed`));
    if (this.starting !== undefined) return this.starting;
    if (this.isRunning()) return Promise.resolve();
    this.starting = this.doStart().finally(() => {
      this.starting = undefined;
    });
    return this.starting;
  }

  private async doStart(): Promise<void> {
    this.starts += 1;
    const fd = openSync(this.o.logFile, 'a');
    let child: ChildProcess;
    try {
      writeSync(fd, `\n===== harness: start #${this.starts} at ${new Date().toISOString()} =====\n`);
      child = spawn('java', [...this.o.args], { cwd: this.o.root, stdio: ['ignore', fd, fd], env: this.o.env ?? process.env });
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
    const deadline = Date.now() + this.o.readyTimeoutMs;
    let exit: ExitInfo | undefined;
    void exited.then((e) => (exit = e));
    let last = 'not probed yet';
    for (;;) {
      if (exit !== undefined) {
        const how = exit.error?.message ?? (exit.signal !== null ? `signal ${exit.signal}` : `code ${exit.code}`);
        throw new Error(`${this.o.name}: the JVM exited during startup (${how})\n${await this.logTail()}`);
      }
      try {
        await this.probe();
        return;
      } catch (err) {
        last = err instanceof Error ? err.message : String(err);
      }
      if (Date.now() > deadline) {
        await this.kill().catch(() => undefined);
        throw new Error(`${this.o.name}: not ready after ${this.o.readyTimeoutMs} ms (last: ${last})\n${await this.logTail()}`);
      }
      await Promise.race([sleep(this.o.pollMs), exited]);
    }
  }

  /** SIGTERM, wait for the exit; SIGKILL after the grace. */
  async stop(): Promise<void> {
    if (this.starting !== undefined) await this.starting.catch(() => undefined);
    if (!(await this.signalAndWait('SIGTERM', this.o.stopGraceMs))) await this.kill();
  }

  async kill(): Promise<void> {
    const child = this.proc;
    if (!(await this.signalAndWait('SIGKILL', this.o.killWaitMs))) throw new Error(`${this.o.name}: pid ${child?.pid} survived SIGKILL`);
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

  /** stop (kill if that fails), remove the temp dir; safe to call twice. */
  close(): Promise<void> {
    this.closing ??= (async () => {
      try {
        await this.stop();
      } catch {
        await this.kill().catch(() => undefined);
      }
      await rm(this.o.root, { recursive: true, force: true, maxRetries: 3 });
      this.removed = true;
      unregisterForReaping(this.reapable);
    })();
    return this.closing;
  }

  /** Last lines of the log (JVM stdout + stderr), for error messages. */
  async logTail(maxBytes = 8192, maxLines = 60): Promise<string> {
    try {
      const fh = await open(this.o.logFile, 'r');
      try {
        const { size } = await fh.stat();
        const length = Math.min(size, maxBytes);
        const buf = Buffer.alloc(length);
        await fh.read(buf, 0, length, size - length);
        return `--- tail of ${this.o.logFile} ---\n${buf.toString('utf8').split('\n').slice(-maxLines).join('\n')}`;
      } finally {
        await fh.close();
      }
    } catch (err) {
      return `(no log: ${err instanceof Error ? err.message : String(err)})`;
    }
  }
}
