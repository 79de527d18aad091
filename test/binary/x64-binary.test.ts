/**
 * Proves the x64 single executable is the product: it reports its versions (Node 24, SQLite from
 * the embedded addon), starts, listens, idles and shuts down gracefully on SIGTERM, and, as the
 * process under test of the keystone end-to-end system test (test/system/fleet-end-to-end: 50
 * devices x 200 QoS1 -> binary -> Kafka, audited complete, keyed and in order), passes it
 * unchanged, and passes the codec system test (test/system/kafka-codecs, zstd included). The embedded addon being written to the directory the test chose shows the binary,
 * not node_modules, ran the gateway.
 */
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { spawn, spawnSync } from 'node:child_process';
import { mkdtempSync, readdirSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { REPO_ROOT } from '../../deploy/build/binary-targets.js';
import { SEA_EXEC_ARGV } from '../../deploy/build/sea-inject.js';
import { sharedKafka } from '../kafka/shared-kafka.js';
import { GatewayProcess } from '../support/gateway-process.js';
import { uniqueTopics } from '../support/topics.js';
import { binaryOrSkip, rssMiB, VERSION_LINE } from './binaries.js';

function privateDir(t: { after(fn: () => void): void }, label: string): string {
  const dir = mkdtempSync(join(tmpdir(), `eg-${label}-`));
  t.after(() => rmSync(dir, { recursive: true, force: true }));
  return dir;
}

test('--version names the gateway, Node 24, linux-x64 and the embedded SQLite', (t) => {
  const bin = binaryOrSkip(t, 'x64');
  if (!bin) return;
  const nativeDir = privateDir(t, 'native');
  const res = spawnSync(bin.command[0]!, [...bin.command.slice(1), '--version'], { encoding: 'utf8', env: { ...process.env, EDGE_GATEWAY_NATIVE_DIR: nativeDir } });
  assert.equal(res.status, 0, res.stderr);
  const m = VERSION_LINE.exec(res.stdout.trim());
  assert.ok(m, `unexpected --version output: ${res.stdout}`);
  assert.equal(m[2], 'x64');
  t.diagnostic(res.stdout.trim());
  assert.deepEqual(readdirSync(nativeDir).filter((f) => f.endsWith('.node')).length, 1, 'the embedded addon was written where EDGE_GATEWAY_NATIVE_DIR says');
});

test('starts, listens, idles and exits 0 on SIGTERM (start-to-listening and idle RSS measured)', async (t) => {
  const bin = binaryOrSkip(t, 'x64');
  if (!bin) return;
  const kafka = await sharedKafka();
  const { topic, dlqTopic } = uniqueTopics('bin-x64');
  await kafka.createTopics([topic, dlqTopic], 1);
  process.env['EG_TEST_GATEWAY_CMD'] = bin.command.join(' ');
  const gw = new GatewayProcess({ config: { kafka: { brokers: kafka.brokers, topic, dlqTopic } }, env: { EDGE_GATEWAY_NATIVE_DIR: privateDir(t, 'native') } });
  t.after(() => gw.close());
  const t0 = performance.now();
  await gw.start();
  const listeningMs = performance.now() - t0;
  await gw.waitForEvent('kafka_up', 30_000);
  await new Promise((r) => setTimeout(r, 2000));
  const rss = rssMiB(gw.pid!);
  const starting = await gw.waitForEvent('starting');
  assert.match(String(starting['node']), /^v24\./, 'the embedded Node 24 runs the gateway');
  assert.deepEqual(starting['execArgv'], [...SEA_EXEC_ARGV], 'the flags baked into the executable are in effect');
  assert.equal(await gw.stop(), 0, 'graceful shutdown exits 0');
  assert.ok(gw.logs.some((l) => l.event === 'shutdown_complete'));
  t.diagnostic(`x64 native: spawn -> mqtt_listening ${listeningMs.toFixed(0)} ms; idle VmRSS ${rss.toFixed(1)} MiB (Kafka connected, no devices)`);
});

test('keystone end-to-end system test passes with the x64 binary as the gateway', { timeout: 300_000 }, async (t) => {
  const bin = binaryOrSkip(t, 'x64');
  if (!bin) return;
  const nativeDir = privateDir(t, 'native');
  // NODE_TEST_CONTEXT would make the nested node:test runner skip its files (recursion guard).
  const { NODE_TEST_CONTEXT: _inTest, ...env } = process.env;
  const child = spawn(process.execPath, [join(REPO_ROOT, 'build', 'test', 'run-tests.js'), 'system', '--only', 'fleet-end-to-end'], {
    env: { ...env, EG_TEST_GATEWAY_CMD: bin.command.join(' '), EDGE_GATEWAY_NATIVE_DIR: nativeDir },
    stdio: ['ignore', 'pipe', 'pipe'],
  });
  t.after(() => child.kill('SIGKILL'));
  let output = '';
  child.stdout.on('data', (d: Buffer) => (output += d.toString()));
  child.stderr.on('data', (d: Buffer) => (output += d.toString()));
  const code = await new Promise<number | null>((resolve) => child.once('exit', (c) => resolve(c)));
  const tail = output.split('\n').slice(-40).join('\n');
  assert.equal(code, 0, `fleet-end-to-end failed against ${bin.path}:\n${tail}`);
  assert.match(output, /50 devices x 200 QoS1 messages arrive in Kafka complete/, 'the keystone test ran');
  assert.match(output, /^ℹ pass 1$/m);
  assert.match(output, /^ℹ fail 0$/m);
  assert.equal(readdirSync(nativeDir).filter((f) => f.endsWith('.node')).length, 1, 'the binary (not node_modules) ran the gateway');
  t.diagnostic(output.split('\n').find((l) => l.includes('test files in')) ?? '');
});

test('every kafka.compression codec, zstd included, end to end with the x64 binary as the gateway', { timeout: 300_000 }, async (t) => {
  const bin = binaryOrSkip(t, 'x64');
  if (!bin) return;
  const { NODE_TEST_CONTEXT: _inTest, ...env } = process.env;
  const child = spawn(process.execPath, [join(REPO_ROOT, 'build', 'test', 'run-tests.js'), 'system', '--only', 'kafka-codecs'], {
    env: { ...env, EG_TEST_GATEWAY_CMD: bin.command.join(' '), EDGE_GATEWAY_NATIVE_DIR: privateDir(t, 'native') },
    stdio: ['ignore', 'pipe', 'pipe'],
  });
  t.after(() => child.kill('SIGKILL'));
  let output = '';
  child.stdout.on('data', (d: Buffer) => (output += d.toString()));
  child.stderr.on('data', (d: Buffer) => (output += d.toString()));
  const code = await new Promise<number | null>((resolve) => child.once('exit', (c) => resolve(c)));
  assert.equal(code, 0, `kafka-codecs failed against ${bin.path}:\n${output.split('\n').slice(-40).join('\n')}`);
  assert.match(output, /✔ compression zstd: every acknowledged message/, 'zstd ran on the binary');
  assert.match(output, /^ℹ pass 5$/m);
  assert.match(output, /^ℹ skipped 0$/m);
});
