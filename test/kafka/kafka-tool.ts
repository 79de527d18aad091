// Runs one of Kafka's command-line tools (StorageTool, ConfigCommand, ...) from the fetched
// jars in a short-lived JVM. Shared by the harness (format) and scram.ts (user credentials).
import { execFile } from 'node:child_process';
import { promisify } from 'node:util';
import { log4jConfigPath } from './kafka-paths.js';

const execFileAsync = promisify(execFile);

export function fastJvmFlags(): string[] {
  // C1 only and the default CDS archive: quicker JVM start, plenty fast for tests.
  return ['-XX:TieredStopAtLevel=1', '-Xshare:auto', '-XX:-UsePerfData', '-Djava.awt.headless=true'];
}

/** Runs `java -cp libs/* mainClass args...`; resolves with stdout, rejects with stdout+stderr in the message. */
export async function runKafkaTool(libs: string, mainClass: string, args: string[], what: string): Promise<string> {
  try {
    const { stdout } = await execFileAsync('java', [
      ...fastJvmFlags(),
      `-Dlog4j2.configurationFile=${log4jConfigPath()}`,
      '-cp', `${libs}/*`,
      mainClass, ...args,
    ]);
    return stdout;
  } catch (err) {
    const e = err as { stdout?: string; stderr?: string; message: string };
    throw new Error(`kafka harness: ${what} failed: ${e.message}\n${e.stdout ?? ''}${e.stderr ?? ''}`);
  }
}
