// SCRAM-SHA-256 users for the harness's SASL_PLAINTEXT listener. KRaft keeps SCRAM credentials
// in the metadata log: users given to startKafka() are written at format time
// (StorageTool --add-scram), later ones through the Admin API (ConfigCommand over PLAINTEXT).
import { Kafka, logLevel } from 'kafkajs';
import { runKafkaTool } from './kafka-tool.js';

export const SCRAM_MECHANISM = 'SCRAM-SHA-256';
const ITERATIONS = 4096;
const LOGIN_WAIT_MS = 30_000;

// The tools parse "[name=..,password=..]" by splitting on ',' and '=': keep to safe characters.
const SAFE = /^[A-Za-z0-9._~@-]+$/;

function checkCredential(name: string, password: string): void {
  if (!SAFE.test(name)) throw new Error(`kafka harness: SCRAM user name ${JSON.stringify(name)} must match ${SAFE}`);
  if (!SAFE.test(password)) throw new Error(`kafka harness: SCRAM password of ${name} must match ${SAFE}`);
}

/** `kafka.tools.StorageTool format` arguments that create these users with the cluster. */
export function scramFormatArgs(users: Readonly<Record<string, string>>): string[] {
  return Object.entries(users).flatMap(([name, password]) => {
    checkCredential(name, password);
    return ['--add-scram', `${SCRAM_MECHANISM}=[name=${name},password=${password}]`];
  });
}

/**
 * Creates (or changes the password of) a SCRAM user on a running broker, then waits until the
 * credentials authenticate on the SASL listener: the metadata change is applied asynchronously.
 */
export async function addScramUser(libs: string, plaintextBootstrap: string, saslBrokers: string[], name: string, password: string): Promise<void> {
  checkCredential(name, password);
  await runKafkaTool(
    libs,
    'kafka.admin.ConfigCommand',
    [
      '--bootstrap-server', plaintextBootstrap,
      '--alter', '--entity-type', 'users', '--entity-name', name,
      '--add-config', `${SCRAM_MECHANISM}=[iterations=${ITERATIONS},password=${password}]`,
    ],
    `adding SCRAM user ${name}`,
  );
  await waitForScramLogin(saslBrokers, name, password, LOGIN_WAIT_MS);
}

/** Polls a SASL/SCRAM login (connect + metadata) until it succeeds or `timeoutMs` passes. */
export async function waitForScramLogin(brokers: string[], name: string, password: string, timeoutMs: number): Promise<void> {
  const deadline = Date.now() + timeoutMs;
  let last = 'not tried yet';
  for (;;) {
    const admin = new Kafka({
      clientId: 'eg-kafka-harness-scram-probe',
      brokers,
      logLevel: logLevel.NOTHING,
      connectionTimeout: 1000,
      requestTimeout: 5000,
      retry: { retries: 0 },
      sasl: { mechanism: 'scram-sha-256', username: name, password },
    }).admin();
    try {
      await admin.connect();
      await admin.describeCluster();
      return;
    } catch (err) {
      last = err instanceof Error ? err.message : String(err);
    } finally {
      await admin.disconnect().catch(() => undefined);
    }
    if (Date.now() >= deadline) throw new Error(`kafka harness: SCRAM user ${name} cannot log in after ${timeoutMs} ms (last: ${last})`);
    await new Promise((r) => setTimeout(r, 200));
  }
}
