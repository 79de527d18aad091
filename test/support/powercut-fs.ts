/**
 * A file system with a power switch, for power-cut tests (needs root and /dev/fuse, as on CI):
 * test/powercut-fs (Go, FUSE) mounted on a temp dir. Everything written there lives in a working
 * copy until it is fsynced into the durable directory; `cut()` throws the working copy away (the
 * daemon exits without flushing, the mount is detached) and `mount()` brings the power back: a
 * new working copy made of exactly what was durable. See test/powercut-fs/README.md for the model.
 */
import { execFileSync, spawn, spawnSync, type ChildProcess } from 'node:child_process';
import { mkdirSync, mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join, resolve } from 'node:path';
import { fileURLToPath } from 'node:url';
import { registerForReaping, unregisterForReaping } from '../kafka/process-reaper.js';

const repoRoot = resolve(fileURLToPath(new URL('../../../', import.meta.url)));
const sourceDir = join(repoRoot, 'test/powercut-fs');
const binary = join(repoRoot, 'build/powercut-fs');

/** What the daemon reports at a cut: what was lost, and the syncs it served during this mount. */
export interface CutReport {
  /** Files with pages written and not synced, and those pages' bytes (4 KiB granular). */
  lostFiles: number;
  lostBytes: number;
  fsyncs: number;
  fdatasyncs: number;
  dirsyncs: number;
  bytesSynced: number;
  fullCopies: number;
}

export interface PowercutFs {
  /** The mount point: put the files under test here. */
  readonly dir: string;
  /** Where synced data lands (read it only while unmounted). */
  readonly durableDir: string;
  /** Power on: mount over what is durable. */
  mount(): Promise<void>;
  /** Power off: everything not synced is gone; the mount point is empty until mount(). */
  cut(): Promise<CutReport>;
  /** Cut if mounted, then delete everything. Safe twice. */
  close(): Promise<void>;
}

let built = false;
/** Mount points in use: detached at exit if a test dies before its close(). */
const mounted = new Set<string>();
process.on('exit', () => {
  for (const dir of mounted) spawnSync('umount', ['-l', dir]);
});

/** `go build` of test/powercut-fs into build/ (cached by Go; .ci/run does it once up front). */
export function buildPowercutFs(): string {
  if (!built) {
    execFileSync('go', ['build', '-buildvcs=false', '-o', binary, '.'], { cwd: sourceDir, stdio: ['ignore', 'ignore', 'inherit'] });
    built = true;
  }
  return binary;
}

export async function createPowercutFs(): Promise<PowercutFs> {
  const bin = buildPowercutFs();
  const base = mkdtempSync(join(tmpdir(), 'eg-powercut-'));
  const dir = join(base, 'mnt');
  const durableDir = join(base, 'durable');
  const workDir = join(base, 'work');
  mkdirSync(dir);
  mkdirSync(durableDir);
  let daemon: Daemon | null = null;
  let closed = false;

  const fs: PowercutFs = {
    dir,
    durableDir,
    async mount() {
      if (daemon) throw new Error('powercut-fs already mounted');
      mounted.add(dir);
      daemon = await startDaemon(bin, ['-durable', durableDir, '-work', workDir, '-mount', dir]);
    },
    async cut() {
      const d = daemon;
      if (!d) throw new Error('powercut-fs not mounted');
      daemon = null;
      try {
        return await d.cut();
      } finally {
        // The daemon is gone: detach the dead mount (lazily: a dying process may still hold it).
        execFileSync('umount', ['-l', dir]);
        mounted.delete(dir);
      }
    },
    async close() {
      if (closed) return;
      closed = true;
      if (daemon) await fs.cut();
      rmSync(base, { recursive: true, force: true });
    },
  };
  await fs.mount();
  return fs;
}

interface Daemon {
  cut(): Promise<CutReport>;
}

function startDaemon(bin: string, args: string[]): Promise<Daemon> {
  const child: ChildProcess = spawn(bin, args, { stdio: ['ignore', 'pipe', 'pipe'] });
  // Never outlive the test process (a dead daemon leaves a dead mount, not a hung one).
  const reapable = { child: () => child, tempDir: () => undefined };
  registerForReaping(reapable);
  const lines: Array<Record<string, unknown>> = [];
  let waiting: (() => void) | null = null;
  let stderr = '';
  let pending = '';
  child.stderr!.on('data', (d: Buffer) => (stderr += d.toString()));
  child.stdout!.on('data', (d: Buffer) => {
    pending += d.toString();
    let nl: number;
    while ((nl = pending.indexOf('\n')) >= 0) {
      lines.push(JSON.parse(pending.slice(0, nl)) as Record<string, unknown>);
      pending = pending.slice(nl + 1);
      waiting?.();
    }
  });
  const exited = new Promise<void>((res) =>
    child.once('exit', () => {
      unregisterForReaping(reapable);
      res();
    }),
  );
  const waitFor = (event: string, timeoutMs: number): Promise<Record<string, unknown>> =>
    new Promise((res, rej) => {
      const timer = setTimeout(() => rej(new Error(`powercut-fs: no "${event}" within ${timeoutMs} ms\n${stderr}`)), timeoutMs);
      const check = (): void => {
        const hit = lines.find((l) => l['event'] === event);
        if (hit) {
          clearTimeout(timer);
          waiting = null;
          res(hit);
        }
      };
      waiting = check;
      check();
      void exited.then(() => {
        check();
        clearTimeout(timer);
        rej(new Error(`powercut-fs exited (${child.exitCode}) without "${event}"\n${stderr}`));
      });
    });
  return waitFor('mounted', 15_000).then(() => ({
    async cut() {
      child.kill('SIGUSR1');
      const report = await waitFor('cut', 15_000);
      await exited;
      return report as unknown as CutReport;
    },
  }));
}
