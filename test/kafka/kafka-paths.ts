// Locates the harness's source folder (test/kafka/) whether this module runs
// from build/test/kafka/ (compiled) or from test/kafka/ (ts loaders).
import { existsSync } from 'node:fs';
import { dirname, join } from 'node:path';
import { fileURLToPath } from 'node:url';

let cached: string | undefined;

/** Absolute path of the repo's test/kafka/ folder (the one holding pom.xml). */
export function harnessSourceDir(): string {
  if (cached !== undefined) return cached;
  let dir = dirname(fileURLToPath(import.meta.url));
  for (;;) {
    const candidate = join(dir, 'test', 'kafka');
    if (existsSync(join(candidate, 'pom.xml'))) return (cached = candidate);
    const parent = dirname(dir);
    if (parent === dir) break;
    dir = parent;
  }
  throw new Error(`kafka harness: cannot find test/kafka/pom.xml above ${fileURLToPath(import.meta.url)}`);
}

export function pomPath(): string {
  return join(harnessSourceDir(), 'pom.xml');
}

export function log4jConfigPath(): string {
  return join(harnessSourceDir(), 'log4j2.properties');
}

export function cacheDir(): string {
  return join(harnessSourceDir(), '.cache');
}
