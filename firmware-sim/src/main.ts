#!/usr/bin/env node
import { writeFile } from 'node:fs/promises';
import { parseCliArgs, USAGE, type CliConfig } from './cli-args.js';
import { runSimulation } from './load-generator.js';
import { formatProgressLine } from './progress-line.js';
import { allSentAcked } from './run-outcome.js';
import { formatSummaryTable } from './summary-table.js';

async function main(): Promise<number> {
  let cfg: CliConfig;
  try {
    cfg = parseCliArgs(process.argv.slice(2));
  } catch (err) {
    process.stderr.write(`firmware-sim: ${(err as Error).message}\n\n${USAGE}\n`);
    return 2;
  }
  if (cfg.help) {
    process.stdout.write(`${USAGE}\n`);
    return 0;
  }

  const tty = process.stderr.isTTY === true;
  const abort = new AbortController();
  let interrupts = 0;
  const onSigint = (): void => {
    interrupts++;
    if (interrupts === 1) {
      process.stderr.write(`${tty ? '\n' : ''}firmware-sim: interrupted, draining (Ctrl-C again to quit now)\n`);
      abort.abort();
    } else {
      process.stderr.write('firmware-sim: forced exit\n');
      process.exit(130);
    }
  };
  process.on('SIGINT', onSigint);
  process.on('SIGTERM', onSigint);

  const summary = await runSimulation(
    { ...cfg.sim, progressIntervalMs: cfg.sim.progressIntervalMs ?? (tty ? 1000 : 5000) },
    {
      signal: abort.signal,
      onProgress: (p) => {
        const line = formatProgressLine(p);
        process.stderr.write(tty ? `\r\x1b[2K${line}` : `${line}\n`);
      },
    },
  );
  if (tty) process.stderr.write('\n');
  process.off('SIGINT', onSigint);
  process.off('SIGTERM', onSigint);

  process.stdout.write(`${formatSummaryTable(summary)}\n`);
  if (cfg.summaryJson !== undefined) await writeFile(cfg.summaryJson, `${JSON.stringify(summary, null, 2)}\n`);
  return allSentAcked(summary) ? 0 : 1;
}

main().then(
  (code) => {
    process.exitCode = code;
  },
  (err: unknown) => {
    process.stderr.write(`firmware-sim: ${err instanceof Error ? (err.stack ?? err.message) : String(err)}\n`);
    process.exitCode = 1;
  },
);
