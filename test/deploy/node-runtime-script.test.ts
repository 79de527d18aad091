/**
 * The Node.js that development, tests and CI run on is the binaries' release: deploy/node-runtime.sh
 * reads NODE_VERSION from deploy/build/binary-targets.ts and keeps it where the binary build keeps
 * its runtime (so one download serves both); package.json's engines and the check before every
 * build (deploy/require-node.mjs) ask for that major; the suite itself runs on it. The download
 * (npm pack) is what .ci/run exercises; here an installed runtime is stood in by a script.
 */
import { test, type TestContext } from 'node:test';
import assert from 'node:assert/strict';
import { spawnSync } from 'node:child_process';
import { chmodSync, mkdirSync, mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { hostArch, NODE_VERSION, REPO_ROOT } from '../../deploy/build/binary-targets.js';

const SCRIPT = join(REPO_ROOT, 'deploy', 'node-runtime.sh');
const MAJOR = NODE_VERSION.split('.')[0]!;

function cacheWithRuntime(t: TestContext, version: string): string {
  const cache = mkdtempSync(join(tmpdir(), 'eg-node-runtime-'));
  t.after(() => rmSync(cache, { recursive: true, force: true }));
  const bin = join(cache, `node-v${NODE_VERSION}-linux-${hostArch()}`, 'bin');
  mkdirSync(bin, { recursive: true });
  writeFileSync(join(bin, 'node'), `#!/bin/sh\necho v${version}\n`);
  chmodSync(join(bin, 'node'), 0o755);
  return cache;
}

test('node-runtime.sh prints the bin directory of the pinned release, in the binary build cache', (t) => {
  const cache = cacheWithRuntime(t, NODE_VERSION);
  // The registry is unreachable: an installed runtime of the right version needs no download.
  const env = { PATH: process.env['PATH'], HOME: cache, EG_BINARY_CACHE_DIR: cache, npm_config_registry: 'http://127.0.0.1:9/' };
  const res = spawnSync('bash', [SCRIPT], { encoding: 'utf8', env });
  assert.equal(res.status, 0, res.stderr);
  assert.equal(res.stdout, `${join(cache, `node-v${NODE_VERSION}-linux-${hostArch()}`, 'bin')}\n`);
});

test('the suite, package.json engines and the build check all ask for the binaries\' Node major', () => {
  assert.equal(process.versions.node.split('.')[0], MAJOR, `tests run on Node ${MAJOR} (this is ${process.version}): export PATH="$(bash deploy/node-runtime.sh):$PATH"`);
  const pkg = JSON.parse(readFileSync(join(REPO_ROOT, 'package.json'), 'utf8')) as { engines: { node: string }; scripts: Record<string, string> };
  assert.equal(pkg.engines.node, `>=${MAJOR}`);
  // `npm ci` may run on the machine's Node (better-sqlite3 13 is a Node-API addon: one build for
  // every Node); whatever runs something goes through with-node.sh.
  assert.equal(pkg.scripts['preinstall'], undefined);
  assert.match(pkg.scripts['build']!, /^bash deploy\/with-node\.sh sh -c 'node deploy\/require-node\.mjs && tsc /);
  for (const name of ['start', 'test', 'test:unit', 'bench', 'sim', 'audit', 'build:binary', 'config:example', 'lint']) {
    assert.match(pkg.scripts[name]!, /^bash deploy\/with-node\.sh /, `npm run ${name} runs on the binaries' Node`);
  }
  const ok = spawnSync(process.execPath, [join(REPO_ROOT, 'deploy', 'require-node.mjs')], { encoding: 'utf8' });
  assert.equal(ok.status, 0, ok.stderr);
});

test('the check refuses an older Node and says how to get the right one', (t) => {
  // Any Node older than the pinned major on this machine (Debian's /usr/bin/node is 20).
  const old = spawnSync('/usr/bin/node', ['--version'], { encoding: 'utf8' });
  if (old.status !== 0 || Number(old.stdout.trim().slice(1).split('.')[0]) >= Number(MAJOR)) {
    t.skip('no older Node at /usr/bin/node');
    return;
  }
  const res = spawnSync('/usr/bin/node', [join(REPO_ROOT, 'deploy', 'require-node.mjs')], { encoding: 'utf8' });
  assert.equal(res.status, 1);
  assert.match(res.stderr, new RegExp(`needs Node\\.js >=${MAJOR}; this is ${old.stdout.trim()}`));
  assert.match(res.stderr, /export PATH="\$\(bash deploy\/node-runtime\.sh\):\$PATH"/);
});

test('with-node.sh runs the command with the pinned release first on PATH', (t) => {
  const cache = cacheWithRuntime(t, NODE_VERSION);
  const env = { PATH: process.env['PATH'], HOME: cache, EG_BINARY_CACHE_DIR: cache, npm_config_registry: 'http://127.0.0.1:9/' };
  const res = spawnSync('bash', [join(REPO_ROOT, 'deploy', 'with-node.sh'), 'sh', '-c', 'command -v node; node'], { encoding: 'utf8', env });
  assert.equal(res.status, 0, res.stderr);
  assert.equal(res.stdout, `${join(cache, `node-v${NODE_VERSION}-linux-${hostArch()}`, 'bin', 'node')}\nv${NODE_VERSION}\n`);
});

test('node-runtime.sh is shellcheck clean', (t) => {
  if (spawnSync('sh', ['-c', 'command -v shellcheck']).status !== 0) {
    if (process.env['CI']) assert.fail('shellcheck is not installed (apt-get install shellcheck)');
    t.skip('shellcheck not installed (apt-get install shellcheck)');
    return;
  }
  const res = spawnSync('shellcheck', [SCRIPT, join(REPO_ROOT, 'deploy', 'with-node.sh'), join(REPO_ROOT, '.ci', 'run')], { encoding: 'utf8' });
  assert.equal(res.status, 0, res.stdout);
});
