/**
 * Headless Chromium for browser tests: Debian's `chromium` package driven by playwright-core (no
 * browser download). A test skips with a message when the browser is missing, unless
 * EG_TEST_REQUIRE_CHROMIUM is set (CI), where a missing browser fails the test.
 */
import { existsSync, mkdirSync } from 'node:fs';
import { resolve } from 'node:path';
import { fileURLToPath } from 'node:url';
import type { TestContext } from 'node:test';
import { chromium, type Browser, type Page } from 'playwright-core';

const repoRoot = resolve(fileURLToPath(new URL('../../../', import.meta.url)));

/** Where tests put screenshots (gitignored). */
export function artifactPath(name: string): string {
  const dir = resolve(repoRoot, 'test-artifacts');
  mkdirSync(dir, { recursive: true });
  return resolve(dir, name);
}

export function chromiumPath(): string | null {
  const candidates = [process.env['EG_TEST_CHROMIUM'], '/usr/bin/chromium', '/usr/bin/chromium-browser'];
  return candidates.find((p): p is string => p !== undefined && p !== '' && existsSync(p)) ?? null;
}

/** Launches headless Chromium (closed after the test), or skips the test when there is none. */
export async function launchChromium(t: TestContext): Promise<Browser | null> {
  const path = chromiumPath();
  if (path === null) {
    if (process.env['EG_TEST_REQUIRE_CHROMIUM']) throw new Error('chromium is missing and EG_TEST_REQUIRE_CHROMIUM is set (apt-get install chromium)');
    t.skip('chromium not installed (apt-get install chromium); set EG_TEST_REQUIRE_CHROMIUM=1 to fail instead');
    return null;
  }
  // --no-sandbox: tests run as root in CI containers, where Chromium's sandbox cannot start.
  const browser = await chromium.launch({ executablePath: path, args: ['--no-sandbox'], timeout: 30_000 });
  t.after(() => browser.close());
  return browser;
}

/** Polls an element's text until `pred` holds (tests are compiled without the DOM library). */
export async function waitForText(page: Page, selector: string, pred: (text: string) => boolean, timeoutMs = 15_000): Promise<string> {
  const deadline = Date.now() + timeoutMs;
  let last = '';
  for (;;) {
    last = await page.locator(selector).innerText({ timeout: timeoutMs });
    if (pred(last)) return last;
    if (Date.now() > deadline) throw new Error(`${selector} still reads "${last}" after ${timeoutMs} ms`);
    await new Promise((r) => setTimeout(r, 100));
  }
}
