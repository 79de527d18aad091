/**
 * `edge-gateway config sign|push|status`: the operator's side of remote configuration. Flags
 * follow Kafka's own tools (--bootstrap-server, --command-config). Results go to stdout, notes
 * and warnings to stderr.
 */
import { readFileSync } from 'node:fs';
import { parseArgs, type ParseArgsConfig } from 'node:util';
import { snapshotCompactedTopic } from '../control/compacted-topic-snapshot.js';
import { pushConfigDocument } from '../control/config-push.js';
import type { GatewayStatusRecord } from '../control/status-record.js';
import { gatewayError } from '../errors.js';
import { kafkaClientOptions } from './command-config.js';
import { runConfigSign } from './config-sign.js';
import { formatStatusTable, parseStatusRecord } from './config-status-view.js';

const VERBS = ['sign', 'push', 'status'] as const;
type Verb = (typeof VERBS)[number];

export async function runConfigCommand(argv: string[]): Promise<number> {
  const [verb, ...rest] = argv;
  if (!VERBS.includes(verb as Verb)) throw gatewayError('GW_ERR_CLI_USAGE', `config: expected one of ${VERBS.join('|')}, got ${verb ?? 'nothing'}`);
  switch (verb as Verb) {
    case 'sign':
      return sign(rest);
    case 'push':
      return push(rest);
    case 'status':
      return status(rest);
  }
}

function parse(argv: string[], options: NonNullable<ParseArgsConfig['options']>, what: string) {
  try {
    return parseArgs({ args: argv, options, allowPositionals: true, strict: true });
  } catch (err) {
    throw gatewayError('GW_ERR_CLI_USAGE', `config ${what}: ${(err as Error).message}`);
  }
}

function onePositional(positionals: string[], what: string, name: string): string {
  if (positionals.length !== 1) throw gatewayError('GW_ERR_CLI_USAGE', `config ${what}: expected one ${name}, got ${positionals.length}`);
  return positionals[0]!;
}

function required(value: string | undefined, flag: string, what: string): string {
  if (value === undefined || value === '') throw gatewayError('GW_ERR_CLI_USAGE', `config ${what}: ${flag} is required`);
  return value;
}

/** A positive whole number (digits only: "1e3", "0x10" and "2.0" are refused). */
function positiveInt(value: string, flag: string): number {
  const n = Number(value);
  if (!/^[1-9][0-9]*$/.test(value) || !Number.isSafeInteger(n)) throw gatewayError('GW_ERR_CLI_USAGE', `${flag} must be a positive whole number, got "${value}"`);
  return n;
}

function sign(argv: string[]): Promise<number> {
  const { values, positionals } = parse(
    argv,
    {
      key: { type: 'string' },
      kid: { type: 'string' },
      'gateway-id': { type: 'string' },
      version: { type: 'string' },
      'expires-in': { type: 'string' },
      out: { type: 'string', short: 'o' },
    },
    'sign',
  );
  const v = values as Record<string, string | undefined>;
  return runConfigSign({
    keyFile: required(v['key'], '--key', 'sign'),
    kid: required(v['kid'], '--kid', 'sign'),
    gatewayId: required(v['gateway-id'], '--gateway-id', 'sign'),
    version: positiveInt(required(v['version'], '--version', 'sign'), '--version'),
    expiresInSecs: v['expires-in'] === undefined ? undefined : positiveInt(v['expires-in'], '--expires-in'),
    out: v['out'],
    configFile: onePositional(positionals, 'sign', 'CONFIG file'),
  });
}

async function push(argv: string[]): Promise<number> {
  const { values, positionals } = parse(
    argv,
    { 'bootstrap-server': { type: 'string' }, topic: { type: 'string', default: 'edge.gateway.config' }, 'command-config': { type: 'string' } },
    'push',
  );
  const v = values as Record<string, string | undefined>;
  const file = onePositional(positionals, 'push', 'document file (or -)');
  const client = kafkaClientOptions(v['bootstrap-server'], v['command-config']);
  let jws: string;
  try {
    jws = readFileSync(file === '-' ? 0 : file, 'utf8').trim();
  } catch (cause) {
    throw gatewayError('GW_ERR_CLI_USAGE', `config push: ${file}: ${(cause as Error).message}`, { cause });
  }
  const r = await pushConfigDocument({ client, topic: v['topic']!, jws });
  process.stdout.write(`${r.topic}\t${r.partition}\t${r.offset}\n`);
  process.stderr.write(`pushed version ${r.version} for gateway ${r.gatewayId}: topic ${r.topic} partition ${r.partition} offset ${r.offset}\n`);
  return 0;
}

async function status(argv: string[]): Promise<number> {
  const { values, positionals } = parse(
    argv,
    {
      'bootstrap-server': { type: 'string' },
      topic: { type: 'string', default: 'edge.gateway.status' },
      'gateway-id': { type: 'string' },
      json: { type: 'boolean', default: false },
      'command-config': { type: 'string' },
      'timeout-ms': { type: 'string', default: '30000' },
    },
    'status',
  );
  if (positionals.length > 0) throw gatewayError('GW_ERR_CLI_USAGE', `config status: unexpected argument ${positionals[0]}`);
  const v = values as Record<string, string | boolean | undefined>;
  const client = kafkaClientOptions(v['bootstrap-server'] as string | undefined, v['command-config'] as string | undefined);
  const topic = v['topic'] as string;
  const snapshot = await snapshotCompactedTopic({ client, topic, timeoutMs: positiveInt(v['timeout-ms'] as string, '--timeout-ms') });

  const records: GatewayStatusRecord[] = [];
  const skipped: string[] = [];
  for (const [key, rec] of snapshot.latest) {
    const parsed = parseStatusRecord(key, rec.value);
    if (parsed.ok) records.push(parsed.record);
    else skipped.push(`${JSON.stringify(key)} (partition ${rec.partition} offset ${rec.offset}): ${parsed.reason}`);
  }
  records.sort((a, b) => (a.gatewayId < b.gatewayId ? -1 : a.gatewayId > b.gatewayId ? 1 : 0));
  const skippedTotal = skipped.length + snapshot.keyless;
  process.stderr.write(
    `${topic}: ${snapshot.records} records read, ${records.length} gateways, ${skippedTotal} skipped` +
      `${snapshot.keyless > 0 ? ` (${snapshot.keyless} without a key)` : ''}\n${skipped.map((s) => `  skipped ${s}\n`).join('')}`,
  );

  const one = v['gateway-id'] as string | undefined;
  if (one !== undefined) {
    const record = records.find((r) => r.gatewayId === one);
    if (!record) {
      process.stderr.write(`no status record for gateway ${one} in ${topic}\n`);
      return 1;
    }
    process.stdout.write(`${JSON.stringify(record, null, 2)}\n`);
    return 0;
  }
  process.stdout.write(v['json'] ? `${JSON.stringify(records, null, 2)}\n` : formatStatusTable(records, Date.now()));
  return 0;
}
