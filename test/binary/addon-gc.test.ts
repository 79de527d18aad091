/**
 * Proves the SQLite addon embedded in each binary survives garbage collection of finalized
 * statements on the embedded Node 24. better-sqlite3 <= 12 compiled against stock Node >= 24.19
 * headers aborts the process ("Assertion failed: (env) != nullptr" in
 * RemoveEnvironmentCleanupHook, from Statement::~Statement; nodejs/node#65446) within the first
 * GCs of this workload, every run; deploy/build/sqlite-addon.ts builds it without ObjectWrap's
 * cleanup hooks. The workload runs inside the binary itself (NODE_OPTIONS=--require, which a
 * single executable honours), on the addon the binary extracted from its own SEA asset.
 */
import { test, type TestContext } from 'node:test';
import assert from 'node:assert/strict';
import { spawnSync } from 'node:child_process';
import { mkdtempSync, readdirSync, rmSync, writeFileSync } from 'node:fs';
import { createRequire } from 'node:module';
import { tmpdir } from 'node:os';
import { dirname, join } from 'node:path';
import type { Arch } from '../../deploy/build/binary-targets.js';
import { binaryOrSkip } from './binaries.js';

const require = createRequire(import.meta.url);

// Rounds of 20,000 statements that nobody keeps, with idle gaps for V8's background GC.
const WORKLOAD = `
const Database = require(process.env.EG_BETTER_SQLITE3);
const db = new Database(':memory:', { nativeBinding: process.env.EG_ADDON });
const rounds = Number(process.env.EG_ROUNDS);
let done = 0;
function round() {
  for (let i = 0; i < 20000; i++) db.prepare('SELECT ' + (i % 97) + ' AS x').get();
  if (++done < rounds) setTimeout(round, 200);
  else setTimeout(() => { db.close(); process.stderr.write('survived ' + done + ' rounds\\n'); process.exit(0); }, 1000);
}
round();
`;

function gcWorkload(t: TestContext, arch: Arch, rounds: number): void {
  const bin = binaryOrSkip(t, arch);
  if (!bin) return;
  const dir = mkdtempSync(join(tmpdir(), `eg-gc-${arch}-`));
  t.after(() => rmSync(dir, { recursive: true, force: true }));
  const nativeDir = join(dir, 'native');
  const run = (args: string[], env: Record<string, string>) =>
    spawnSync(bin.command[0]!, [...bin.command.slice(1), ...args], { encoding: 'utf8', timeout: 180_000, env: { ...process.env, EDGE_GATEWAY_NATIVE_DIR: nativeDir, ...env } });

  const extract = run(['--version'], {});
  assert.equal(extract.status, 0, extract.stderr);
  const addon = readdirSync(nativeDir).find((f) => f.endsWith('.node'));
  assert.ok(addon, 'the binary extracted its addon');

  const script = join(dir, 'gc-workload.cjs');
  writeFileSync(script, WORKLOAD);
  const res = run(['--version'], {
    NODE_OPTIONS: `--require ${script}`,
    EG_BETTER_SQLITE3: dirname(require.resolve('better-sqlite3/package.json')),
    EG_ADDON: join(nativeDir, addon),
    EG_ROUNDS: String(rounds),
  });
  assert.doesNotMatch(res.stderr, /Assertion failed/, res.stderr);
  assert.equal(res.signal, null, `killed by ${res.signal}`);
  assert.equal(res.status, 0, res.stderr);
  assert.match(res.stderr, new RegExp(`survived ${rounds} rounds`));
  t.diagnostic(`${arch}: ${rounds * 20_000} statements finalized by GC, no abort`);
}

test('x64: statements finalized by GC do not abort the embedded Node 24', (t) => gcWorkload(t, 'x64', 10));

test('arm64 (qemu): statements finalized by GC do not abort the embedded Node 24', { timeout: 240_000 }, (t) => gcWorkload(t, 'arm64', 3));
