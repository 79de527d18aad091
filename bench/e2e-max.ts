/**
 * Bench: end to end at full speed. A real Kafka (test harness), the gateway as its own process,
 * firmware-sim as its own process (N devices, QoS1, as fast as their in-flight windows allow),
 * then the auditor. Prints a markdown table; never pass/fail on time.
 *   node build/bench/e2e-max.js [--devices 100] [--duration 20s] [--payload-bytes 200]
 */
import { spawn } from 'node:child_process';
import { mkdtempSync, readFileSync } from 'node:fs';
import { tmpdir, cpus } from 'node:os';
import { join } from 'node:path';
import { parseArgs } from 'node:util';
import { fileURLToPath } from 'node:url';
import { startKafka } from '../test/kafka/kafka-harness.js';
import { GatewayProcess } from '../test/support/gateway-process.js';
import { auditTopic } from '../test/support/audit.js';
import type { SimSummary } from '../firmware-sim/src/load-generator.js';

const root = fileURLToPath(new URL('../../', import.meta.url));

async function main(): Promise<void> {
  const { values } = parseArgs({ options: { devices: { type: 'string', default: '100' }, duration: { type: 'string', default: '20s' }, 'payload-bytes': { type: 'string', default: '200' }, window: { type: 'string', default: '64' } } });
  const kafka = await startKafka();
  const topic = 'bench.telemetry';
  await kafka.createTopics([topic, 'bench.dlq'], 6);
  const gw = new GatewayProcess({ config: { log: { level: 'warn' }, kafka: { brokers: kafka.brokers, topic, dlqTopic: 'bench.dlq' } }, env: { GATEWAY_LOG_LEVEL: 'info' } });
  try {
    await gw.start();
    const summaryPath = join(mkdtempSync(join(tmpdir(), 'eg-bench-')), 'sim.json');
    await new Promise<void>((resolve, reject) => {
      const child = spawn(process.execPath, [join(root, 'build/firmware-sim/src/main.js'), '--devices', values.devices!, '--rate', '0', '--qos', '1', '--duration', values.duration!, '--payload-bytes', values['payload-bytes']!, '--window', values.window!, '--url', gw.url, '--summary-json', summaryPath], { stdio: ['ignore', 'inherit', 'inherit'] });
      child.on('exit', (code) => (code === 0 || code === 1 ? resolve() : reject(new Error(`sim exited ${code}`))));
    });
    const sim = JSON.parse(readFileSync(summaryPath, 'utf8')) as SimSummary;
    const t0 = Date.now();
    const report = await auditTopic({ brokers: kafka.brokers, topic, dlqTopic: 'bench.dlq', sim, timeoutMs: 120_000 });
    const rows: Array<[string, string]> = [
      ['machine', `${cpus().length} x ${cpus()[0]?.model ?? '?'}, node ${process.version}`],
      ['devices', values.devices!],
      ['payload bytes', values['payload-bytes']!],
      ['acked msgs', String(sim.acked)],
      ['ingest msgs/s (PUBACKed)', sim.msgsPerSec.toFixed(0)],
      ['publish->PUBACK p50 ms', sim.latencyMs.p50.toFixed(2)],
      ['publish->PUBACK p99 ms', sim.latencyMs.p99.toFixed(2)],
      ['audit: records / gaps / dups / ooo', `${report.records} / ${report.gaps} / ${report.duplicates} / ${report.outOfOrder}`],
      ['audit read time ms', String(Date.now() - t0)],
    ];
    process.stdout.write(`| metric | value |\n| --- | --- |\n${rows.map(([k, v]) => `| ${k} | ${v} |`).join('\n')}\n`);
  } finally {
    await gw.close();
    await kafka.close();
  }
}

main().catch((err) => {
  console.error(err);
  process.exit(1);
});
