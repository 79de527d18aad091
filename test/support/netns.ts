/**
 * A throw-away Linux network namespace joined to the root namespace by a veth pair, so a test
 * can put one process (the gateway) on the far side of a link and cut that link silently:
 * iptables DROP inside the namespace, no RST, no ICMP, exactly like a dead NAT entry or a
 * cable pulled somewhere upstream. Needs root (ip netns, iptables). Names are unique per run;
 * close() (also run at process exit) deletes the namespace and with it the veth pair.
 */
import { execFile, execFileSync } from 'node:child_process';
import { randomBytes, randomInt } from 'node:crypto';
import { promisify } from 'node:util';

const execFileAsync = promisify(execFile);

export interface NetNamespace {
  readonly name: string;
  /** Root-side veth address (10.77.N.1): bind servers here to reach them from inside. */
  readonly hostAddress: string;
  /** Namespace-side veth address (10.77.N.2): reach servers inside the namespace here. */
  readonly innerAddress: string;
  /** Prefix argv that runs a command inside the namespace (exec()s it: same pid). */
  readonly wrap: readonly string[];
  /** Runs a command inside the namespace; resolves with stdout. */
  exec(argv: readonly string[]): Promise<string>;
  /**
   * Silently drops TCP between the namespace and `host:port` (OUTPUT to it and INPUT from it,
   * DROP, no RST). Resolves with a function that removes exactly these rules again.
   */
  blackhole(host: string, port: number): Promise<() => Promise<void>>;
  close(): Promise<void>;
}

const open = new Map<string, string>(); // namespace -> root-side veth, still to delete at exit
let exitHookInstalled = false;

async function run(argv: readonly string[]): Promise<string> {
  const [bin, ...args] = argv;
  try {
    const { stdout } = await execFileAsync(bin!, args);
    return stdout;
  } catch (err) {
    const e = err as { stderr?: string; message: string };
    throw new Error(`netns: \`${argv.join(' ')}\` failed: ${e.stderr?.trim() || e.message}`);
  }
}

/** A 10.77.N.0/24 not yet on any interface here. */
async function freeSubnet(): Promise<number> {
  const used = await run(['ip', '-4', '-o', 'addr', 'show']);
  for (let i = 0; i < 50; i++) {
    const n = randomInt(1, 255);
    if (!used.includes(` 10.77.${n}.`)) return n;
  }
  throw new Error('netns: no free 10.77.N.0/24 subnet');
}

function installExitHook(): void {
  if (exitHookInstalled) return;
  exitHookInstalled = true;
  process.on('exit', () => {
    for (const [name, outer] of open) {
      for (const args of [['netns', 'del', name], ['link', 'del', outer]]) {
        try {
          execFileSync('ip', args, { stdio: 'ignore' });
        } catch {
          // already gone
        }
      }
    }
  });
}

export async function createNetNamespace(): Promise<NetNamespace> {
  const id = randomBytes(3).toString('hex');
  const name = `egt-${id}`;
  const outer = `egv${id}a`; // interface names: at most 15 characters
  const inner = `egv${id}b`;
  const n = await freeSubnet();
  const hostAddress = `10.77.${n}.1`;
  const innerAddress = `10.77.${n}.2`;
  const wrap = ['ip', 'netns', 'exec', name] as const;
  const inNs = (argv: readonly string[]) => run([...wrap, ...argv]);

  installExitHook();
  await run(['ip', 'netns', 'add', name]);
  open.set(name, outer);
  let closed: Promise<void> | undefined;
  const close = (): Promise<void> =>
    (closed ??= (async () => {
      // Deleting the namespace destroys its end of the pair, which removes the root end too
      // (once the last process inside has exited).
      await run(['ip', 'netns', 'del', name]).catch(() => undefined);
      open.delete(name);
      await run(['ip', 'link', 'del', outer]).catch(() => undefined);
    })());
  try {
    await run(['ip', 'link', 'add', outer, 'type', 'veth', 'peer', 'name', inner]);
    await run(['ip', 'link', 'set', inner, 'netns', name]);
    await run(['ip', 'addr', 'add', `${hostAddress}/24`, 'dev', outer]);
    await run(['ip', 'link', 'set', outer, 'up']);
    await inNs(['ip', 'addr', 'add', `${innerAddress}/24`, 'dev', inner]);
    await inNs(['ip', 'link', 'set', inner, 'up']);
    await inNs(['ip', 'link', 'set', 'lo', 'up']);
  } catch (err) {
    await close();
    throw err;
  }

  return {
    name,
    hostAddress,
    innerAddress,
    wrap,
    exec: inNs,
    async blackhole(host, port) {
      const rules = [
        ['OUTPUT', '-p', 'tcp', '-d', host, '--dport', String(port), '-j', 'DROP'],
        ['INPUT', '-p', 'tcp', '-s', host, '--sport', String(port), '-j', 'DROP'],
      ];
      const added: string[][] = [];
      try {
        for (const r of rules) {
          await inNs(['iptables', '-w', '-A', ...r]);
          added.push(r);
        }
      } catch (err) {
        for (const r of added) await inNs(['iptables', '-w', '-D', ...r]).catch(() => undefined);
        throw err;
      }
      let healed: Promise<void> | undefined;
      return () =>
        (healed ??= (async () => {
          for (const r of added) await inNs(['iptables', '-w', '-D', ...r]);
        })());
    },
    close,
  };
}
