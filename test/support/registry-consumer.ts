/**
 * Reads a topic back through an independent Confluent consumer (test/tools/registry_consume.py:
 * confluent-kafka's Consumer + SchemaRegistryClient + AvroDeserializer, in the venv .ci/run makes
 * at test/registry/.cache/venv) and returns the decoded records. The script's JSON mapping is in
 * its docstring: bytes as base64, timestamps as epoch millis, longs exact (BigInt here beyond 2^53).
 */
import { spawn } from 'node:child_process';
import { existsSync } from 'node:fs';
import { isInteger, isSafeNumber, parse as parseLossless } from 'lossless-json';
import type { RegistryEndpoint } from '../registry/ccompat-client.js';
import { registryConsumeScript, registryVenvPython } from '../registry/registry-paths.js';

export interface RegistryRecord {
  partition: number;
  offset: number;
  key: string | null;
  /** The id in the record's 5-byte header; null for a null value. */
  schemaId: number | null;
  /** Decoded value; integers beyond 2^53 are BigInt, every other number a number. */
  value: unknown;
}

export interface RegistryConsumeOptions {
  brokers: readonly string[];
  topic: string;
  /** The registry URL (ccompat base) with optional Basic/Bearer auth and PEM files for TLS/mTLS. */
  registry: RegistryEndpoint;
  /** Wait for at least this many records, then read every partition to its end. */
  count: number;
  timeoutMs?: number; // default 30 s
  /** Extra librdkafka consumer properties (SASL, TLS to Kafka, ...). */
  kafkaConfig?: Record<string, string>;
}

/** The script failed: 2 = a record could not be decoded, 3 = too few records in time. */
export class RegistryConsumeError extends Error {
  constructor(
    readonly exitCode: number | null,
    readonly stderr: string,
    /** Records printed before the failure. */
    readonly records: RegistryRecord[],
  ) {
    super(`registry_consume.py exited ${exitCode} after ${records.length} record(s): ${stderr.trim()}`);
    this.name = 'RegistryConsumeError';
  }
}

export const VENV_HINT = "python3 -m venv test/registry/.cache/venv && test/registry/.cache/venv/bin/pip install 'confluent-kafka[avro,schemaregistry]==2.16.2' (as .ci/run does)";

export async function registryConsume(opts: RegistryConsumeOptions): Promise<RegistryRecord[]> {
  const python = registryVenvPython();
  if (!existsSync(python)) throw new Error(`registry consumer: no ${python}; create it with: ${VENV_HINT}`);
  const timeoutMs = opts.timeoutMs ?? 30_000;
  const args = [registryConsumeScript(), '--bootstrap', opts.brokers.join(','), '--topic', opts.topic, '--registry-url', opts.registry.url, '--count', String(opts.count), '--timeout-s', String(timeoutMs / 1000)];
  const r = opts.registry;
  if (r.basicAuth !== undefined) args.push('--basic-auth', `${r.basicAuth.username}:${r.basicAuth.password}`);
  if (r.bearerToken !== undefined) args.push('--bearer', r.bearerToken);
  if (r.caFile !== undefined) args.push('--ca', r.caFile);
  if (r.certFile !== undefined) args.push('--cert', r.certFile);
  if (r.keyFile !== undefined) args.push('--key', r.keyFile);
  for (const [k, v] of Object.entries(opts.kafkaConfig ?? {})) args.push('--kafka', `${k}=${v}`);

  const child = spawn(python, args, { stdio: ['ignore', 'pipe', 'pipe'] });
  let stdout = '';
  let stderr = '';
  child.stdout.setEncoding('utf8').on('data', (d: string) => (stdout += d));
  child.stderr.setEncoding('utf8').on('data', (d: string) => (stderr += d));
  // The script stops itself at its timeout; this guard covers a hung interpreter (startup, TLS).
  const guard = setTimeout(() => child.kill('SIGKILL'), timeoutMs + 30_000);
  const code = await new Promise<number | null>((resolve) => {
    child.once('error', (err) => {
      stderr += `\nspawn ${python}: ${err.message}`;
      resolve(null);
    });
    child.once('close', (c) => resolve(c));
  }).finally(() => clearTimeout(guard));
  const records = stdout
    .split('\n')
    .filter((l) => l.length > 0)
    .map((l) => parseExact(l) as RegistryRecord);
  if (code !== 0) throw new RegistryConsumeError(code, stderr, records);
  return records;
}

/** JSON.parse, except that integers beyond 2^53 become BigInt instead of a rounded double. */
function parseExact(text: string): unknown {
  return parseLossless(text, null, (n) => (isInteger(n) && !isSafeNumber(n) ? BigInt(n) : Number(n)));
}
