/**
 * Proves the live status page on the real thing: a gateway process with its admin server behind a
 * bearer token, real Kafka, and 20 simulated devices publishing for ~25 s. Headless Chromium opens
 * `/#token=...`; the page shows the devices connected and an ingest and forward rate that are real
 * (read twice, seconds apart: the totals grew), Kafka up, the busiest devices, and the config in
 * effect as /status reports it. A screenshot is saved to test-artifacts/status-page.png.
 */
import assert from 'node:assert/strict';
import { test } from 'node:test';
import { runSimulation } from '../../firmware-sim/src/load-generator.js';
import type { AdminStatus } from '../../gateway/src/control/admin-status.js';
import { sharedKafka } from '../kafka/shared-kafka.js';
import { artifactPath, launchChromium, waitForText } from '../support/chromium.js';
import { GatewayProcess } from '../support/gateway-process.js';
import { uniqueTopics } from '../support/topics.js';

const TOKEN = 'status-page-system-test-0123';
const count = (s: string): number => Number(s.replace(/,/g, ''));

test('the status page shows live numbers from a running gateway while devices publish', async (t) => {
  const browser = await launchChromium(t);
  if (!browser) return;
  const kafka = await sharedKafka();
  const { topic, dlqTopic } = uniqueTopics('status-page');
  await kafka.createTopics([topic, dlqTopic], 3);
  const gw = new GatewayProcess({ config: { gatewayId: 'gw-status-page', admin: { port: 0, token: TOKEN }, kafka: { brokers: kafka.brokers, topic, dlqTopic } } });
  t.after(() => gw.close());
  await gw.start();
  await gw.waitForEvent('admin_listening');
  const base = `http://127.0.0.1:${gw.adminPort}`;

  const sim = runSimulation({ url: gw.url, devices: 20, qos: 1, ratePerDevice: 20, durationMs: 25_000, inflightWindow: 16 });
  t.after(() => sim.catch(() => undefined));

  const page = await browser.newPage({ viewport: { width: 1000, height: 640 } });
  const errors: string[] = [];
  page.on('pageerror', (e) => errors.push(e.message));
  page.on('console', (m) => {
    if (m.type() === 'error') errors.push(m.text());
  });
  await page.goto(`${base}/#token=${TOKEN}`);
  await waitForText(page, '#live', (s) => s === 'live');
  await waitForText(page, '#devices', (s) => s === '20', 20_000);
  await waitForText(page, '#ingest-rate', (s) => count(s) > 0, 20_000);
  await waitForText(page, '#forward-rate', (s) => count(s) > 0, 20_000);
  const read = async () => ({
    accepted: count(await page.locator('#accepted').innerText()),
    sent: count(await page.locator('#sent').innerText()),
    ingestRate: count(await page.locator('#ingest-rate').innerText()),
    updated: await page.locator('#updated').innerText(),
  });
  const first = await read();
  await new Promise((r) => setTimeout(r, 5000));
  const second = await read();
  assert.ok(second.accepted > first.accepted, `accepted grew: ${first.accepted} -> ${second.accepted}`);
  assert.ok(second.sent > first.sent, `sent grew: ${first.sent} -> ${second.sent}`);
  assert.notEqual(second.updated, first.updated, 'the page polled again');
  // 20 devices x 20 msg/s = 400 msg/s offered; the rate shown is measured, so allow a wide band.
  assert.ok(second.ingestRate > 100 && second.ingestRate < 1000, `ingest rate ${second.ingestRate} msg/s`);

  assert.equal(await page.locator('#kafka').innerText(), 'up');
  assert.equal(await page.locator('#kafka-error').innerText(), 'none');
  assert.match(await page.locator('#busiest').innerText(), /dev-\d{5}\s+[\d,]+/);
  assert.equal(await page.locator('#gw').innerText(), 'gw-status-page');

  // The config shown is the one /status reports (the local file here: no push yet).
  const res = await fetch(`${base}/status`, { headers: { authorization: `Bearer ${TOKEN}` } });
  assert.equal(res.status, 200);
  const status = (await res.json()) as AdminStatus;
  assert.equal(status.config.source, 'file');
  assert.equal(await page.locator('#cfg-version').innerText(), 'local file');
  assert.equal(await page.locator('#cfg-hash').innerText(), status.config.hash.slice(0, 12));
  assert.equal(await page.locator('#cfg-last').innerText(), 'none');
  // Without the token, /status is refused (the page itself is served to anyone).
  assert.equal((await fetch(`${base}/status`)).status, 401);

  await page.screenshot({ path: artifactPath('status-page.png'), fullPage: true });
  assert.deepEqual(errors, [], 'no script error or CSP violation in the page');

  const summary = await sim;
  assert.equal(summary.errors, 0);
  assert.ok(summary.acked > 0);
});
