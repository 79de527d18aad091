// Where the Schema Registry harness keeps things: the Apicurio Registry distribution and the
// Python venv of the independent decoder live in test/registry/.cache (gitignored, like
// test/kafka/.cache), found from build/ or from the sources alike.
import { dirname, join } from 'node:path';
import { harnessSourceDir } from '../kafka/kafka-paths.js';

/** Apicurio Registry 2.x: the last line with an in-memory (H2) storage in one runnable jar. */
export const APICURIO_VERSION = '2.6.13.Final';
export const APICURIO_ARTIFACT = `io.apicurio:apicurio-registry-app:${APICURIO_VERSION}:tar.gz:all`;

function testDir(): string {
  return dirname(harnessSourceDir()); // test/kafka -> test
}

export function registrySourceDir(): string {
  return join(testDir(), 'registry');
}

export function registryCacheDir(): string {
  return join(registrySourceDir(), '.cache');
}

/** The untarred distribution: the runner jar next to its lib/. */
export function apicurioHome(): string {
  return join(registryCacheDir(), `apicurio-registry-app-${APICURIO_VERSION}`);
}

export function apicurioRunnerJar(): string {
  return join(apicurioHome(), `apicurio-registry-app-${APICURIO_VERSION}-runner.jar`);
}

/** The venv made by .ci/run (python3 -m venv + pip install confluent-kafka[avro,schemaregistry]). */
export function registryVenvPython(): string {
  return join(registryCacheDir(), 'venv', 'bin', 'python');
}

export function registryConsumeScript(): string {
  return join(testDir(), 'tools', 'registry_consume.py');
}
