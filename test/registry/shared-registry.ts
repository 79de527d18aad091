// "Some Schema Registry" for tests that neither stop it nor change its global config. When a
// runner started one for the whole suite it exports EG_TEST_REGISTRY_URL (the ccompat URL,
// `http://HOST:PORT/apis/ccompat/v7`); otherwise this process starts a private Apicurio, which
// the process reaper SIGKILLs when the process exits. Tests sharing it use unique subjects
// and set compatibility per subject. Tests that stop/start the registry use startRegistry().
import { setCompatibility, type CompatibilityLevel, type RegistryEndpoint } from './ccompat-client.js';
import { startRegistry } from './registry-harness.js';

export const SHARED_REGISTRY_ENV = 'EG_TEST_REGISTRY_URL';

export interface SharedRegistry {
  /** The ccompat URL, what Confluent clients call the registry URL. */
  url: string;
  endpoint: RegistryEndpoint;
  /** Per subject only: the global level is shared by every test of the process. */
  setCompatibility(level: CompatibilityLevel, subject: string): Promise<void>;
}

let shared: Promise<SharedRegistry> | undefined;

/** Same instance for every caller in this process. */
export function sharedRegistry(): Promise<SharedRegistry> {
  shared ??= openShared().catch((err: unknown) => {
    shared = undefined;
    throw err;
  });
  return shared;
}

async function openShared(): Promise<SharedRegistry> {
  const fromEnv = (process.env[SHARED_REGISTRY_ENV] ?? '').trim();
  const url = fromEnv.length > 0 ? fromEnv : (await startRegistry()).url;
  const endpoint: RegistryEndpoint = { url };
  return { url, endpoint, setCompatibility: (level, subject) => setCompatibility(endpoint, level, subject) };
}
