// Fetches Apicurio Registry (the `-all` tar.gz of apicurio-registry-app) from Maven Central with
// Maven and untars it into test/registry/.cache, once per version. No Docker needed.
// Also runnable: `node build/test/registry/fetch-registry.js` (.ci/run does, after the Kafka jars).
import { execFile } from 'node:child_process';
import { randomBytes } from 'node:crypto';
import { existsSync, readFileSync } from 'node:fs';
import { mkdir, readdir, rename, rm, writeFile } from 'node:fs/promises';
import { join } from 'node:path';
import { pathToFileURL } from 'node:url';
import { promisify } from 'node:util';
import { APICURIO_ARTIFACT, APICURIO_VERSION, apicurioHome, apicurioRunnerJar, registryCacheDir } from './registry-paths.js';

const execFileAsync = promisify(execFile);
const MARKER = '.complete';

function isPopulated(): boolean {
  try {
    return readFileSync(join(apicurioHome(), MARKER), 'utf8').trim() === APICURIO_VERSION && existsSync(apicurioRunnerJar());
  } catch {
    return false;
  }
}

let pending: Promise<string> | undefined;

/** Returns the runner jar's path, running Maven and tar only when this version is not untarred yet. */
export function ensureApicurio(): Promise<string> {
  pending ??= fetchApicurio().catch((err: unknown) => {
    pending = undefined;
    throw err;
  });
  return pending;
}

async function run(cmd: string, args: string[], what: string): Promise<void> {
  try {
    await execFileAsync(cmd, args, { maxBuffer: 16 * 1024 * 1024 });
  } catch (err) {
    const e = err as { stdout?: string; stderr?: string; message: string };
    throw new Error(`registry harness: ${what} failed: ${e.message}\n${e.stdout ?? ''}\n${e.stderr ?? ''}`);
  }
}

async function fetchApicurio(): Promise<string> {
  if (isPopulated()) return apicurioRunnerJar();
  // Download and untar into a private dir, then rename into place: concurrent test processes
  // never see a half-untarred distribution.
  await mkdir(registryCacheDir(), { recursive: true });
  const tmp = join(registryCacheDir(), `apicurio.tmp-${process.pid}-${randomBytes(4).toString('hex')}`);
  try {
    const download = join(tmp, 'download');
    const dist = join(tmp, 'dist');
    await mkdir(dist, { recursive: true });
    await run('mvn', ['-q', '-B', 'org.apache.maven.plugins:maven-dependency-plugin:3.8.1:copy', `-Dartifact=${APICURIO_ARTIFACT}`, `-DoutputDirectory=${download}`], 'mvn dependency:copy');
    const [tarball] = (await readdir(download)).filter((f) => f.endsWith('.tar.gz'));
    if (tarball === undefined) throw new Error(`registry harness: mvn copied no tar.gz of ${APICURIO_ARTIFACT} into ${download}`);
    await run('tar', ['-xzf', join(download, tarball), '-C', dist], 'tar');
    await writeFile(join(dist, MARKER), `${APICURIO_VERSION}\n`);
    if (isPopulated()) return apicurioRunnerJar(); // another process won the race
    await rm(apicurioHome(), { recursive: true, force: true });
    try {
      await rename(dist, apicurioHome());
    } catch (err) {
      if (isPopulated()) return apicurioRunnerJar();
      throw err;
    }
    if (!isPopulated()) throw new Error(`registry harness: ${apicurioRunnerJar()} missing after untar`);
    return apicurioRunnerJar();
  } finally {
    await rm(tmp, { recursive: true, force: true });
  }
}

if (process.argv[1] !== undefined && import.meta.url === pathToFileURL(process.argv[1]).href) {
  ensureApicurio().then(
    (jar) => console.log(jar),
    (err: unknown) => {
      console.error(err instanceof Error ? err.message : err);
      process.exitCode = 1;
    },
  );
}
