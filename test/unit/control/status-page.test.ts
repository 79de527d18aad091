/**
 * The status page is one self-contained document: its CSP allows exactly its inline script and
 * style (by hash), nothing refers to another origin, and it stays small for a Pi and a phone.
 */
import assert from 'node:assert/strict';
import { createHash } from 'node:crypto';
import { test } from 'node:test';
import { STATUS_PAGE_CSP, STATUS_PAGE_HEADERS, STATUS_PAGE_HTML } from '../../../gateway/src/control/status-page.js';

const hash = (s: string) => `'sha256-${createHash('sha256').update(s, 'utf8').digest('base64')}'`;

test('the CSP hashes are those of the inline script and style, and there is one of each', () => {
  const scripts = [...STATUS_PAGE_HTML.matchAll(/<script>([\s\S]*?)<\/script>/g)].map((m) => m[1]!);
  const styles = [...STATUS_PAGE_HTML.matchAll(/<style>([\s\S]*?)<\/style>/g)].map((m) => m[1]!);
  assert.equal(scripts.length, 1);
  assert.equal(styles.length, 1);
  assert.ok(STATUS_PAGE_CSP.includes(`script-src ${hash(scripts[0]!)}`));
  assert.ok(STATUS_PAGE_CSP.includes(`style-src ${hash(styles[0]!)}`));
  assert.match(STATUS_PAGE_CSP, /default-src 'none'/);
  assert.match(STATUS_PAGE_CSP, /connect-src 'self'/);
  assert.equal(STATUS_PAGE_HEADERS['content-security-policy'], STATUS_PAGE_CSP);
});

test('no external resource, no inline handlers or style attributes, under 20 KB', () => {
  assert.doesNotMatch(STATUS_PAGE_HTML, /(src|href)\s*=\s*["']?(https?:)?\/\//i);
  assert.doesNotMatch(STATUS_PAGE_HTML, /\son[a-z]+\s*=/i, 'inline event handlers are blocked by the CSP');
  assert.doesNotMatch(STATUS_PAGE_HTML, /\sstyle\s*=/i, 'style attributes are blocked by the CSP');
  assert.ok(Buffer.byteLength(STATUS_PAGE_HTML) < 20 * 1024, `${Buffer.byteLength(STATUS_PAGE_HTML)} bytes`);
});
