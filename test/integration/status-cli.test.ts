/**
 * `edge-gateway status` against a real gateway process (admin server behind a token, real Kafka):
 * the snapshot it prints has the devices connected and the messages they sent; --json is the
 * admin server's /status; a missing token and an unreachable server exit 1 with a reason.
 */
import assert from 'node:assert/strict';
import { spawn } from 'node:child_process';
import { join, resolve } from 'node:path';
import { test } from 'node:test';
import { fileURLToPath } from 'node:url';
import mqtt from 'mqtt';
import type { AdminStatus } from '../../gateway/src/control/admin-status.js';
import { freePorts } from '../kafka/free-port.js';
import { sharedKafka } from '../kafka/shared-kafka.js';
import { GatewayProcess } from '../support/gateway-process.js';
import { uniqueTopics } from '../support/topics.js';

const repoRoot = resolve(fileURLToPath(new URL('../../../', import.meta.url)));
const TOKEN = 'status-cli-integration-0123';

/** Runs `edge-gateway status ...` as the user would (EG_TEST_GATEWAY_CMD: the shipped binary). */
function status(args: string[], env: Record<string, string> = {}): Promise<{ code: number | null; stdout: string; stderr: string }> {
  const cmd = process.env['EG_TEST_GATEWAY_CMD'];
  const [bin, ...pre] = cmd ? cmd.split(' ') : [process.execPath, join(repoRoot, 'build/gateway/src/main.js')];
  return new Promise((res) => {
    const base: NodeJS.ProcessEnv = { ...process.env, GATEWAY_CONFIG: '' };
    delete base['GATEWAY_ADMIN_TOKEN'];
    const child = spawn(bin!, [...pre, 'status', ...args], { stdio: ['ignore', 'pipe', 'pipe'], env: { ...base, ...env } });
    let stdout = '';
    let stderr = '';
    child.stdout.on('data', (d: Buffer) => (stdout += d.toString()));
    child.stderr.on('data', (d: Buffer) => (stderr += d.toString()));
    child.on('exit', (code) => res({ code, stdout, stderr }));
  });
}

test('edge-gateway status prints the running gateway snapshot', async (t) => {
  const kafka = await sharedKafka();
  const { topic, dlqTopic } = uniqueTopics('status-cli');
  await kafka.createTopics([topic, dlqTopic], 1);
  const gw = new GatewayProcess({ config: { gatewayId: 'gw-status-cli', admin: { port: 0, token: TOKEN }, kafka: { brokers: kafka.brokers, topic, dlqTopic } } });
  t.after(() => gw.close());
  await gw.start();
  await gw.waitForEvent('admin_listening');
  const url = `http://127.0.0.1:${gw.adminPort}`;

  const device = await mqtt.connectAsync(gw.url, { clientId: 'dev-cli-1', clean: true });
  t.after(() => device.endAsync());
  for (let i = 1; i <= 5; i++) await device.publishAsync('devices/dev-cli-1/telemetry', JSON.stringify({ seq: i }), { qos: 1 });

  const text = await status(['--url', url, '--token', TOKEN]);
  assert.equal(text.code, 0, text.stderr);
  assert.match(text.stdout, /^gateway +gw-status-cli \(/m);
  assert.match(text.stdout, /^config +local file \([0-9a-f]{12}\)$/m);
  assert.match(text.stdout, /^devices +1 connected; busiest over \d+ s: dev-cli-1 5$/m);
  assert.match(text.stdout, /^ingest +5 accepted, 0 rejected$/m);
  assert.match(text.stdout, /^buffer +\d+ rows, .* of 1\.0 GiB/m);
  assert.match(text.stdout, /^kafka +(up|down)/m);

  // The token from the environment, as an operator on the box would set it.
  const json = await status(['--url', url, '--json'], { GATEWAY_ADMIN_TOKEN: TOKEN });
  assert.equal(json.code, 0, json.stderr);
  const s = JSON.parse(json.stdout) as AdminStatus;
  assert.equal(s.kind, 'edge-gateway-admin-status');
  assert.equal(s.gatewayId, 'gw-status-cli');
  assert.equal(s.devices.connected, 1);
  assert.equal(s.ingest.acceptedTotal, 5);
  assert.deepEqual(s.devices.busiest, [{ deviceId: 'dev-cli-1', messages: 5 }]);

  const noToken = await status(['--url', url]);
  assert.equal(noToken.code, 1);
  assert.match(noToken.stderr, /HTTP 401: a token is needed/);

  const [closed] = await freePorts(1); // nothing listens there
  const nobody = await status(['--url', `http://127.0.0.1:${closed}`]);
  assert.equal(nobody.code, 1);
  assert.match(nobody.stderr, new RegExp(`cannot reach the admin server at http://127\\.0\\.0\\.1:${closed} .*ECONNREFUSED`));
});
