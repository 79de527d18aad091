/**
 * Proves the status page works in a real browser (headless Chromium) under its own CSP, against
 * a stand-in server whose /status snapshots change: the numbers shown follow the snapshots,
 * rates come from successive counters (a counter that restarts at 0 is no negative rate), the
 * page loads nothing from anywhere else, and a bearer token given in the URL fragment is sent as
 * an Authorization header and removed from the address bar.
 */
import assert from 'node:assert/strict';
import { test } from 'node:test';
import type { Page } from 'playwright-core';
import { ADMIN_STATUS_KIND, type AdminStatus } from '../../gateway/src/control/admin-status.js';
import { launchChromium, waitForText } from '../support/chromium.js';
import { startStatusPageServer } from '../support/status-page-server.js';

function snapshot(atMs: number, accepted: number, sent: number): AdminStatus {
  return {
    kind: ADMIN_STATUS_KIND,
    schemaVersion: 1,
    gatewayId: 'pi-0042',
    at: new Date(atMs).toISOString(),
    atMs,
    uptimeSecs: 3725,
    binaryVersion: '0.1.0',
    node: 'v24.1.0',
    pipelineRunning: true,
    config: { version: 7, source: 'pushed', hash: 'ab12cd34ef56ab12cd34', lastResult: { version: 7, state: 'applied', at: new Date(atMs).toISOString() } },
    devices: { connected: 42, busiest: [{ deviceId: 'dev-00007', messages: 310 }, { deviceId: 'dev-00001', messages: 120 }], busiestWindowMs: 45_000 },
    ingest: { acceptedTotal: accepted, rejectedTotal: 3, rejectedByCode: { GW_ERR_INGEST_TOPIC_UNROUTED: 3 } },
    forward: { sentTotal: sent, batchesTotal: 10, sendErrorsTotal: 0, lastSendMs: 4 },
    buffer: { rows: 1500, bytes: 3 * 1024 * 1024, maxSizeBytes: 1024 ** 3, fill: 3 / 1024, oldestAgeMs: 95_000, flow: 'open' },
    kafka: { up: false, lastError: 'connect ECONNREFUSED 127.0.0.1:9092' },
    deadLetters: { total: 2, rows: 2 },
    drops: { total: 5, byReason: { overflow: 5, expired: 0 } },
  };
}

const text = (page: Page, id: string): Promise<string> => page.locator(`#${id}`).innerText();

test('the page shows the snapshot, rates from successive counters, and only talks to its origin', async (t) => {
  const browser = await launchChromium(t);
  if (!browser) return;
  // Simulated clock: each poll is 2 s later; 100 accepted/s and 50 sent/s, then a restart at 0.
  let polls = 0;
  const t0 = Date.now();
  const server = await startStatusPageServer(() => {
    polls++;
    const atMs = t0 + polls * 2000;
    return polls < 5 ? snapshot(atMs, polls * 200, polls * 100) : snapshot(atMs, (polls - 5) * 200, (polls - 5) * 100);
  });
  t.after(() => server.close());
  const page = await browser.newPage();
  const violations: string[] = [];
  const foreign: string[] = [];
  page.on('console', (m) => {
    if (/Content.Security.Policy|Refused to/i.test(m.text())) violations.push(m.text());
  });
  page.on('pageerror', (e) => violations.push(`pageerror: ${e.message}`));
  page.on('request', (r) => {
    if (!r.url().startsWith(server.url)) foreign.push(r.url());
  });
  await page.goto(server.url);

  await waitForText(page, '#ingest-rate', (s) => s === '100');
  assert.equal(await text(page, 'forward-rate'), '50');
  assert.equal(await text(page, 'gw'), 'pi-0042');
  assert.equal(await text(page, 'devices'), '42');
  assert.match(await text(page, 'busiest'), /dev-00007\s+310/);
  assert.equal(await text(page, 'kafka'), 'down');
  assert.match(await text(page, 'kafka-error'), /ECONNREFUSED/);
  assert.equal(await text(page, 'cfg-version'), 'v7');
  assert.equal(await text(page, 'cfg-last'), 'applied v7');
  assert.equal(await text(page, 'buf-rows'), '1,500');
  assert.equal(await text(page, 'buf-bytes'), '3.0 MiB of 1.0 GiB');
  assert.equal(await text(page, 'buf-oldest'), '95 s');
  assert.equal(await text(page, 'dead'), '2');
  assert.equal(await text(page, 'drops'), '5 (overflow 5)');
  assert.equal(await text(page, 'uptime'), '62 min');

  // After the restart the counters are lower: no negative rate, and the rate recovers.
  await waitForText(page, '#accepted', (s) => s === '800');
  await waitForText(page, '#accepted', (s) => Number(s.replace(/,/g, '')) < 800);
  const afterReset = await text(page, 'ingest-rate');
  assert.ok(afterReset === '-' || afterReset === '100', `rate right after a counter restart: ${afterReset}`);
  await waitForText(page, '#ingest-rate', (s) => s === '100');
  // One point per interval, none for the restart's: 100/s everywhere, so all at the top (y = 2),
  // placed by time on an axis from the first sample to now (at most 10 minutes): the newest at
  // the right edge.
  const points = (await page.locator('#ingest-chart').getAttribute('points'))?.split(' ') ?? [];
  assert.ok(points.length >= 4, `sparkline points: ${points.join(' ')}`);
  assert.ok(points.every((p) => p.endsWith(',2.0')), `sparkline points: ${points.join(' ')}`);
  assert.ok(points.includes('120.0,2.0'), `sparkline points: ${points.join(' ')}`);
  assert.match(await text(page, 'ingest-chart-max'), /max 100\/s/);

  assert.deepEqual(violations, [], 'no CSP violation or script error');
  assert.deepEqual(foreign, [], 'nothing requested from another origin');
});

test('a token in the URL fragment is sent as a bearer token and leaves the address bar; without it the page asks', async (t) => {
  const browser = await launchChromium(t);
  if (!browser) return;
  let n = 0;
  const server = await startStatusPageServer(() => snapshot(Date.now(), ++n, n), { token: 's3cret' });
  t.after(() => server.close());

  const page = await browser.newPage();
  await page.goto(`${server.url}/#token=s3cret`);
  await waitForText(page, '#live', (s) => s === 'live');
  assert.equal(new URL(page.url()).hash, '', 'the token is removed from the address bar');
  assert.equal(server.authHeaders.at(-1), 'Bearer s3cret');
  // Reloading the tab keeps the token (sessionStorage), though the URL no longer has it.
  await page.reload();
  await waitForText(page, '#live', (s) => s === 'live');

  const fresh = await browser.newPage(); // a new tab: its own sessionStorage, no token
  await fresh.goto(server.url);
  await fresh.locator('#auth').waitFor({ state: 'visible', timeout: 15_000 });
  assert.equal(await text(fresh, 'live'), 'token needed');
  await fresh.fill('#auth-token', 's3cret');
  await fresh.click('#auth-go');
  await waitForText(fresh, '#live', (s) => s === 'live');
  assert.equal(await fresh.locator('#auth').isVisible(), false);
});
