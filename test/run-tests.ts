/**
 * `npm test`: runs every *.test.js under build/test with node:test, one file at a time (2-core
 * CI box; system tests measure real throughput). One real Kafka broker is started for the whole
 * suite and shared through EG_TEST_KAFKA_BROKERS; tests that stop/start Kafka start their own.
 *   node build/test/run-tests.js [unit|deploy|integration|system|kafka|binary ...] [--only substring]
 * `deploy` checks deploy/ (install script, unit, example config, Dockerfile); `binary` runs the
 * single executables in dist/ (skipped when not built; EG_TEST_REQUIRE_BINARIES=1 makes that fail).
 */
import { existsSync, readdirSync, statSync } from 'node:fs';
import { join, relative } from 'node:path';
import { spawn } from 'node:child_process';
import { fileURLToPath } from 'node:url';
import { startKafka, type KafkaBroker } from './kafka/kafka-harness.js';

const here = fileURLToPath(new URL('.', import.meta.url));
const buildRoot = fileURLToPath(new URL('../', import.meta.url));
const sourceRoot = fileURLToPath(new URL('../../', import.meta.url));

function findTests(dir: string): string[] {
  const out: string[] = [];
  for (const name of readdirSync(dir)) {
    const p = join(dir, name);
    if (statSync(p).isDirectory()) out.push(...findTests(p));
    // Only tests whose TypeScript source still exists: a stale build/ must not run deleted tests.
    else if (name.endsWith('.test.js') && existsSync(join(sourceRoot, relative(buildRoot, p)).replace(/\.js$/, '.ts'))) out.push(p);
  }
  return out.sort();
}

async function main(): Promise<number> {
  const args = process.argv.slice(2);
  const onlyIdx = args.indexOf('--only');
  const only = onlyIdx >= 0 ? args[onlyIdx + 1] : undefined;
  const suites = args.filter((a, i) => !a.startsWith('--') && (onlyIdx < 0 || i !== onlyIdx + 1));
  const order = ['unit', 'deploy', 'kafka', 'integration', 'system', 'binary'];
  const selected = suites.length > 0 ? order.filter((s) => suites.includes(s)) : order;
  let files = selected.flatMap((s) => {
    try {
      return findTests(join(here, s));
    } catch {
      return [];
    }
  });
  if (only) files = files.filter((f) => f.includes(only));
  if (files.length === 0) {
    console.error('no test files selected');
    return 1;
  }

  let kafka: KafkaBroker | null = null;
  const needsKafka = files.some((f) => !relative(here, f).startsWith('unit') && !relative(here, f).startsWith('deploy'));
  const env = { ...process.env };
  if (needsKafka && !env['EG_TEST_KAFKA_BROKERS']) {
    const t0 = Date.now();
    kafka = await startKafka();
    env['EG_TEST_KAFKA_BROKERS'] = kafka.bootstrap;
    console.error(`# shared Kafka broker at ${kafka.bootstrap} (started in ${Date.now() - t0} ms)`);
  }
  const started = Date.now();
  const code = await new Promise<number>((resolve) => {
    const child = spawn(process.execPath, ['--test', '--test-concurrency=1', '--test-reporter=spec', ...files], { stdio: 'inherit', env });
    child.on('exit', (c, sig) => resolve(c ?? (sig ? 1 : 0)));
  });
  console.error(`# ${files.length} test files in ${((Date.now() - started) / 1000).toFixed(1)} s, exit ${code}`);
  await kafka?.close();
  return code;
}

main().then(
  (c) => process.exit(c),
  (err) => {
    console.error(err);
    process.exit(1);
  },
);
