/**
 * Runs the gateway as a real child process (the way users run it) for system tests: writes a
 * config file, waits for the `mqtt_listening` log event, and can SIGTERM, SIGKILL and restart it
 * on the same files. EG_TEST_GATEWAY_CMD (e.g. a single-executable binary) replaces
 * `node build/gateway/src/main.js` so the same tests verify the shipped binary. `wrap` runs that
 * command under a prefix, e.g. `ip netns exec NS` to put the gateway in a network namespace.
 */
import { spawn, type ChildProcess } from 'node:child_process';
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join, resolve } from 'node:path';
import { fileURLToPath } from 'node:url';

const repoRoot = resolve(fileURLToPath(new URL('../../../', import.meta.url)));

export interface GatewayProcessOptions {
  /** Config object written to config.json (buffer.path defaults to <dir>/buffer.db). */
  config: Record<string, unknown>;
  /** Reuse this directory (restart on the same SQLite file). */
  dir?: string;
  env?: Record<string, string>;
  /**
   * Prefix argv for the gateway command, e.g. ['ip', 'netns', 'exec', 'egt-1234']. The prefix
   * must exec() the command (ip netns exec, nsenter, env do) so that signals and `pid` reach
   * the gateway itself.
   */
  wrap?: readonly string[];
}

export interface LogLine {
  level: number;
  event?: string;
  msg?: string;
  [k: string]: unknown;
}

export class GatewayProcess {
  readonly dir: string;
  readonly configPath: string;
  readonly logs: LogLine[] = [];
  port = 0;
  private child: ChildProcess | null = null;
  private exited: Promise<number | null> | null = null;
  private ownsDir: boolean;

  constructor(private readonly opts: GatewayProcessOptions) {
    this.ownsDir = !opts.dir;
    this.dir = opts.dir ?? mkdtempSync(join(tmpdir(), 'eg-gw-'));
    this.configPath = join(this.dir, 'config.json');
    const config = structuredClone(opts.config) as { buffer?: Record<string, unknown>; mqtt?: Record<string, unknown>; admin?: Record<string, unknown> };
    config.buffer = { path: join(this.dir, 'buffer.db'), ...(config.buffer ?? {}) };
    // Loopback on a free port unless the test configures its own listeners.
    config.mqtt = config.mqtt?.['listeners'] ? config.mqtt : { host: '127.0.0.1', port: 0, ...(config.mqtt ?? {}) };
    // Admin HTTP on a free port (tests run gateways side by side); `adminPort` finds it.
    config.admin = { port: 0, ...(config.admin ?? {}) };
    writeFileSync(this.configPath, JSON.stringify(config, null, 2));
  }

  /** Ports of every listener, in config order (one `mqtt_listening` line each). */
  get ports(): number[] {
    return this.logs.filter((l) => l.event === 'mqtt_listening').map((l) => l['port'] as number);
  }

  /** Port of the admin HTTP listener (its `admin_listening` line), or 0 before it listens. */
  get adminPort(): number {
    return (this.logs.filter((l) => l.event === 'admin_listening').at(-1)?.['port'] as number | undefined) ?? 0;
  }

  get url(): string {
    return `mqtt://127.0.0.1:${this.port}`;
  }

  /** True while the child process has not exited. */
  get running(): boolean {
    return this.child !== null && this.child.exitCode === null && this.child.signalCode === null;
  }

  /** OS pid of the running gateway (with `wrap`: of the prefix, which exec()s the gateway). */
  get pid(): number | undefined {
    return this.child?.pid;
  }

  get dbPath(): string {
    return join(this.dir, 'buffer.db');
  }

  /** Starts the process; resolves with the MQTT port once it listens. */
  async start(): Promise<number> {
    if (this.child) throw new Error('gateway already running');
    const cmd = process.env['EG_TEST_GATEWAY_CMD'];
    const command = cmd ? cmd.split(' ') : [process.execPath, join(repoRoot, 'build/gateway/src/main.js')];
    const [bin, ...args] = [...(this.opts.wrap ?? []), ...command];
    const child = spawn(bin!, [...args, 'run', '--config', this.configPath], {
      cwd: this.dir,
      env: { ...process.env, GATEWAY_LOG_LEVEL: 'info', ...this.opts.env },
      stdio: ['ignore', 'pipe', 'pipe'],
    });
    this.child = child;
    this.exited = new Promise((res) => child.once('exit', (code) => res(code)));
    let stderr = '';
    child.stderr!.on('data', (d: Buffer) => (stderr += d.toString()));
    let pending = '';
    return new Promise<number>((resolveStart, rejectStart) => {
      const timer = setTimeout(() => rejectStart(new Error(`gateway did not start in 20 s\n${stderr}`)), 20_000);
      child.stdout!.on('data', (d: Buffer) => {
        pending += d.toString();
        let nl: number;
        while ((nl = pending.indexOf('\n')) >= 0) {
          const line = pending.slice(0, nl);
          pending = pending.slice(nl + 1);
          let parsed: LogLine;
          try {
            parsed = JSON.parse(line) as LogLine;
          } catch {
            continue;
          }
          this.logs.push(parsed);
          if (parsed.event === 'mqtt_listening') {
            clearTimeout(timer);
            this.port = parsed['port'] as number;
            resolveStart(this.port);
          }
        }
      });
      child.once('exit', (code) => {
        clearTimeout(timer);
        rejectStart(new Error(`gateway exited with ${code} before listening\n${stderr}`));
      });
    });
  }

  /** Waits for a log event (optionally matching a predicate) seen since start. */
  async waitForEvent(event: string, timeoutMs = 30_000, pred: (l: LogLine) => boolean = () => true): Promise<LogLine> {
    const deadline = Date.now() + timeoutMs;
    for (;;) {
      const hit = this.logs.find((l) => l.event === event && pred(l));
      if (hit) return hit;
      if (Date.now() > deadline) throw new Error(`no "${event}" log event within ${timeoutMs} ms`);
      await new Promise((r) => setTimeout(r, 50));
    }
  }

  /** Graceful stop (SIGTERM); resolves with the exit code. */
  async stop(): Promise<number | null> {
    return this.signal('SIGTERM');
  }

  /** SIGKILL: no shutdown code runs (power-cut of the process). */
  async kill(): Promise<number | null> {
    return this.signal('SIGKILL');
  }

  private async signal(sig: NodeJS.Signals): Promise<number | null> {
    const child = this.child;
    if (!child) return null;
    child.kill(sig);
    const code = await this.exited;
    this.child = null;
    return code;
  }

  async close(): Promise<void> {
    if (this.child) await this.kill();
    if (this.ownsDir) rmSync(this.dir, { recursive: true, force: true });
  }
}
