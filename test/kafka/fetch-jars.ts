// Fetches the Kafka broker jars (test/kafka/pom.xml) into test/kafka/.cache/libs
// with Maven, once per pom version. Also runnable: `node build/test/kafka/fetch-jars.js`.
import { execFile } from 'node:child_process';
import { createHash, randomBytes } from 'node:crypto';
import { existsSync, readdirSync, readFileSync } from 'node:fs';
import { mkdir, rename, rm, writeFile } from 'node:fs/promises';
import { join } from 'node:path';
import { pathToFileURL } from 'node:url';
import { promisify } from 'node:util';
import { cacheDir, pomPath } from './kafka-paths.js';

const execFileAsync = promisify(execFile);
const MARKER = '.pom-sha256';

function pomHash(): string {
  return createHash('sha256').update(readFileSync(pomPath())).digest('hex');
}

function isPopulated(dir: string, hash: string): boolean {
  try {
    if (readFileSync(join(dir, MARKER), 'utf8').trim() !== hash) return false;
    return readdirSync(dir).some((f) => f.startsWith('kafka_2.13-') && f.endsWith('.jar'));
  } catch {
    return false;
  }
}

let pending: Promise<string> | undefined;

/** Returns the absolute libs dir (test/kafka/.cache/libs), running Maven only when the pom changed. */
export function ensureKafkaJars(): Promise<string> {
  pending ??= fetchJars().catch((err: unknown) => {
    pending = undefined;
    throw err;
  });
  return pending;
}

async function fetchJars(): Promise<string> {
  const libs = join(cacheDir(), 'libs');
  const hash = pomHash();
  if (isPopulated(libs, hash)) return libs;

  // Fetch into a private dir and rename it into place, so concurrent test
  // processes never see a half-copied libs dir.
  await mkdir(cacheDir(), { recursive: true });
  const tmp = join(cacheDir(), `libs.tmp-${process.pid}-${randomBytes(4).toString('hex')}`);
  try {
    try {
      await execFileAsync(
        'mvn',
        [
          '-q', '-B', '-f', pomPath(),
          'org.apache.maven.plugins:maven-dependency-plugin:3.8.1:copy-dependencies',
          `-DoutputDirectory=${tmp}`,
        ],
        { maxBuffer: 16 * 1024 * 1024 },
      );
    } catch (err) {
      const e = err as { stdout?: string; stderr?: string; message: string };
      throw new Error(`kafka harness: mvn copy-dependencies failed: ${e.message}\n${e.stdout ?? ''}\n${e.stderr ?? ''}`);
    }
    await writeFile(join(tmp, MARKER), `${hash}\n`);
    if (isPopulated(libs, hash)) return libs; // another process won the race
    if (existsSync(libs)) {
      const stale = `${libs}.stale-${process.pid}-${randomBytes(4).toString('hex')}`;
      await rename(libs, stale).catch(() => undefined);
      await rm(stale, { recursive: true, force: true });
    }
    try {
      await rename(tmp, libs);
    } catch (err) {
      if (isPopulated(libs, hash)) return libs;
      throw err;
    }
    return libs;
  } finally {
    await rm(tmp, { recursive: true, force: true });
  }
}

if (process.argv[1] !== undefined && import.meta.url === pathToFileURL(process.argv[1]).href) {
  ensureKafkaJars().then(
    (dir) => console.log(dir),
    (err: unknown) => {
      console.error(err instanceof Error ? err.message : err);
      process.exitCode = 1;
    },
  );
}
