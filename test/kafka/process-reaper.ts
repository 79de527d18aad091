// Makes sure broker JVMs never outlive the node process: on 'exit' (and on
// SIGINT/SIGTERM/SIGHUP) every registered child is SIGKILLed and its temp dir removed.
import type { ChildProcess } from 'node:child_process';
import { rmSync } from 'node:fs';

export interface Reapable {
  child(): ChildProcess | undefined;
  /** Temp dir to delete on exit (undefined once already removed). */
  tempDir(): string | undefined;
}

const live = new Set<Reapable>();
let installed = false;

export function registerForReaping(item: Reapable): void {
  install();
  live.add(item);
}

export function unregisterForReaping(item: Reapable): void {
  live.delete(item);
}

function killAll(): void {
  for (const item of live) {
    const child = item.child();
    if (child?.pid !== undefined && child.exitCode === null && child.signalCode === null) {
      try {
        process.kill(child.pid, 'SIGKILL');
      } catch {
        // already gone
      }
    }
  }
}

function onExit(): void {
  killAll();
  for (const item of live) {
    const dir = item.tempDir();
    if (dir === undefined) continue;
    try {
      rmSync(dir, { recursive: true, force: true, maxRetries: 3, retryDelay: 50 });
    } catch {
      // best effort: the JVM may still be dying
    }
  }
  live.clear();
}

function install(): void {
  if (installed) return;
  installed = true;
  process.on('exit', onExit);
  for (const signal of ['SIGINT', 'SIGTERM', 'SIGHUP'] as const) {
    const handler = (): void => {
      killAll();
      // Alone on this signal: keep node's default behaviour (terminate) by re-raising.
      if (process.listenerCount(signal) === 1) {
        process.removeListener(signal, handler);
        onExit();
        process.kill(process.pid, signal);
      }
    };
    process.on(signal, handler);
  }
}
