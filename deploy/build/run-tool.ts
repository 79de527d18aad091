/** Runs a build tool synchronously; on failure throws with the command and the tail of its output. */
import { spawnSync } from 'node:child_process';
import { writeFileSync } from 'node:fs';

export interface RunOptions {
  cwd?: string;
  env?: NodeJS.ProcessEnv;
  /** Keep the full output here (long compiler logs); only the tail goes into the error. */
  logFile?: string;
}

export function runTool(cmd: string, args: readonly string[], opts: RunOptions = {}): string {
  const res = spawnSync(cmd, args, { cwd: opts.cwd, env: opts.env ?? process.env, encoding: 'utf8', maxBuffer: 256 * 1024 * 1024 });
  const output = `${res.stdout ?? ''}${res.stderr ?? ''}`;
  if (opts.logFile) writeFileSync(opts.logFile, output);
  if (res.error || res.status !== 0) {
    const why = res.error ? res.error.message : `exit ${res.status ?? res.signal}`;
    const tail = output.split('\n').slice(-40).join('\n');
    throw new Error(`${cmd} ${args.join(' ')}: ${why}${opts.logFile ? ` (log: ${opts.logFile})` : ''}\n${tail}`);
  }
  return res.stdout;
}
