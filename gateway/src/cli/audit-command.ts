/**
 * `edge-gateway audit`: proves a deployment delivered what it acknowledged. Reads the topic back,
 * decodes Avro, checks key == deviceId, per-device seq contiguous and ordered, counts gaps and
 * duplicates; exits 1 on any gap, loss or reordering.
 */
import { readFileSync } from 'node:fs';
import { parseArgs } from 'node:util';
import { loadConfig } from '../config/load-config.js';
import { readTlsClientOptions } from '../config/tls-files.js';
import type avro from 'avsc';
import type { GatewayConfig } from '../config/schema.js';
import { createAvroEncoder } from '../encode/avro-encoder.js';
import { createRegistryClient } from '../encode/registry-client.js';
import { avroTypes } from '../encode/single-object.js';
import { gatewayError } from '../errors.js';
import type { AuditReport, DeviceExpectation } from '../audit/audit-report.js';
import { auditKafka } from '../audit/kafka-audit.js';
import { readDropLog } from '../audit/drop-log.js';

export async function runAuditCommand(argv: string[]): Promise<number> {
  let values;
  try {
    ({ values } = parseArgs({
      args: argv,
      options: {
        brokers: { type: 'string' },
        topic: { type: 'string' },
        'dlq-topic': { type: 'string' },
        config: { type: 'string', short: 'c' },
        expect: { type: 'string' },
        'drop-log': { type: 'string' },
        'timeout-ms': { type: 'string', default: '60000' },
        json: { type: 'boolean', default: false },
      },
      strict: true,
    }));
  } catch (err) {
    throw gatewayError('GW_ERR_CLI_USAGE', (err as Error).message);
  }
  const config = loadConfig({ path: values.config ?? process.env['GATEWAY_CONFIG'] });
  const brokers = values.brokers ? values.brokers.split(',').map((s) => s.trim()) : [...config.kafka.brokers];
  const topic = values.topic ?? config.kafka.topic;
  const encoder = createAvroEncoder({ gatewayId: config.gatewayId, defaultTopic: topic, routes: config.mqtt.routes });
  const expect = values.expect ? readExpectation(values.expect) : undefined;
  const report = await auditKafka({
    brokers,
    topic,
    dlqTopic: values['dlq-topic'] ?? config.kafka.dlqTopic,
    codecs: encoder.allCodecs(),
    schemaById: config.kafka.valueFormat === 'registry' ? registrySchemas(config) : undefined,
    expect,
    timeoutMs: Number(values['timeout-ms']),
    drops: values['drop-log'] ? readDropLog(values['drop-log']) : undefined,
    // The same kafka.tls and kafka.sasl as the gateway (from --config / GATEWAY_CONFIG and env).
    tls: config.kafka.tls.enabled ? readTlsClientOptions('kafka.tls', config.kafka.tls) : undefined,
    sasl: config.kafka.sasl,
  });
  process.stdout.write(values.json ? `${JSON.stringify(report, null, 2)}\n` : formatReport(report));
  return report.ok ? 0 : 1;
}

/** Reader types by schema id, from the gateway's registry (kafka.schemaRegistry, the same auth and TLS). */
function registrySchemas(config: GatewayConfig): (id: number) => Promise<avro.Type | null> {
  const reg = config.kafka.schemaRegistry!;
  const tls = reg.url.startsWith('https:') ? readTlsClientOptions('kafka.schemaRegistry.tls', { ...reg.tls }) : undefined;
  // An operator's tool, not the box's hot path: a patient timeout and a few attempts per id.
  const client = createRegistryClient({ url: reg.url, auth: reg.auth, tls, requestTimeoutMs: Math.max(reg.requestTimeoutMs, 10_000) });
  return async (id) => {
    let r = await client.schemaById(id);
    for (let attempt = 1; attempt < 3 && !r.ok && r.error.code === 'GW_ERR_REGISTRY_UNREACHABLE'; attempt++) {
      await new Promise((res) => setTimeout(res, 1000 * attempt));
      r = await client.schemaById(id);
    }
    if (!r.ok) {
      process.stderr.write(`schema id ${id}: ${r.error.message}\n`);
      return null;
    }
    try {
      // Longs exact (BigInt beyond 2^53), logical types kept: as the gateway wrote them.
      return avroTypes(JSON.parse(r.value) as avro.Schema).exactType;
    } catch (err) {
      process.stderr.write(`schema id ${id}: not a usable Avro schema: ${(err as Error).message}\n`);
      return null;
    }
  };
}

/** Accepts a firmware-sim summary (`perDevice`) or a plain { deviceId: expectation } map. */
function readExpectation(path: string): Record<string, DeviceExpectation> {
  const raw = JSON.parse(readFileSync(path, 'utf8')) as { perDevice?: Record<string, DeviceExpectation> } & Record<string, DeviceExpectation>;
  return raw.perDevice ?? raw;
}

export function formatReport(r: AuditReport): string {
  const rows: Array<[string, string | number]> = [
    ['topic', r.topic],
    ['verdict', r.ok ? 'OK' : 'FAILED'],
    ['records', r.records],
    ['devices', r.devices],
    ['gaps', r.gaps],
    ['missing acknowledged', r.missingAcked],
    ['duplicates', r.duplicates],
    ['out of order', r.outOfOrder],
    ['key != deviceId', r.keyMismatches],
    ['undecodable', r.undecodable],
    ['devices on >1 partition', r.devicesOnSeveralPartitions],
    ['dead letters', `${r.dlq.records} ${JSON.stringify(r.dlq.byCode)}`],
    ['deliberate drops', `${r.deliberateDrops.records} ${JSON.stringify(r.deliberateDrops.byReason)}`],
  ];
  const width = Math.max(...rows.map(([k]) => k.length));
  let out = rows.map(([k, v]) => `${k.padEnd(width)}  ${v}`).join('\n') + '\n';
  for (const p of r.problems) out += `  ${p.deviceId}: gaps=${p.gaps.join(',')} missingAcked=${p.missingAcked.join(',')} dups=${p.duplicates} ooo=${p.outOfOrder}\n`;
  return out;
}
