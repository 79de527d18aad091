/**
 * deploy/install.sh and uninstall.sh, run for real into a DESTDIR tree with a stand-in binary.
 * Proves: install lays out binary, unit, config (the generated example, valid for loadConfig) and
 * state dir; a second run changes nothing (same tree, byte for byte and mode for mode); an edited
 * config is never overwritten; --prefix moves the binary and the unit's ExecStart; an upgrade
 * keeps the previous binary as edge-gateway.prev and --rollback swaps it back (twice = forward);
 * a binary that does not run is refused before anything changes; uninstall keeps config and
 * buffer unless --purge; both scripts are shellcheck clean.
 */
import { test, type TestContext } from 'node:test';
import assert from 'node:assert/strict';
import { spawnSync } from 'node:child_process';
import { createHash } from 'node:crypto';
import { chmodSync, existsSync, lstatSync, mkdtempSync, readdirSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { REPO_ROOT } from '../../deploy/build/binary-targets.js';
import { loadConfig } from '../../gateway/src/config/load-config.js';

const INSTALL = join(REPO_ROOT, 'deploy', 'install.sh');
const UNINSTALL = join(REPO_ROOT, 'deploy', 'uninstall.sh');

function workDir(t: TestContext): string {
  const dir = mkdtempSync(join(tmpdir(), 'eg-install-'));
  t.after(() => rmSync(dir, { recursive: true, force: true }));
  return dir;
}

/** A stand-in for the single executable: answers --version like the real one. */
function fakeBinary(dir: string, version: string, works = true): string {
  const path = join(dir, `edge-gateway-${version}`);
  writeFileSync(path, works ? `#!/bin/sh\necho "edge-gateway ${version} node v24.0.0 linux-x64 sqlite 3.0.0 single-executable"\n` : '#!/bin/sh\necho "cannot execute: wrong arch" >&2\nexit 126\n');
  chmodSync(path, 0o755);
  return path;
}

function run(script: string, destdir: string, args: string[]): { status: number | null; out: string } {
  const res = spawnSync('sh', [script, ...args], { encoding: 'utf8', env: { ...process.env, DESTDIR: destdir } });
  return { status: res.status, out: `${res.stdout}${res.stderr}` };
}

/** path -> "type mode sha256" for every entry under root. */
function snapshot(root: string): Record<string, string> {
  const out: Record<string, string> = {};
  const walk = (dir: string, rel: string): void => {
    for (const name of readdirSync(dir).sort()) {
      const p = join(dir, name);
      const r = `${rel}/${name}`;
      const st = lstatSync(p);
      const mode = (st.mode & 0o7777).toString(8);
      if (st.isDirectory()) {
        out[r] = `dir ${mode}`;
        walk(p, r);
      } else {
        out[r] = `file ${mode} ${createHash('sha256').update(readFileSync(p)).digest('hex')}`;
      }
    }
  };
  walk(root, '');
  return out;
}

test('install.sh and uninstall.sh are shellcheck clean', (t) => {
  if (spawnSync('sh', ['-c', 'command -v shellcheck']).status !== 0) {
    if (process.env['CI']) assert.fail('shellcheck is not installed (apt-get install shellcheck)');
    t.skip('shellcheck not installed (apt-get install shellcheck)');
    return;
  }
  const res = spawnSync('shellcheck', ['--shell=sh', INSTALL, UNINSTALL], { encoding: 'utf8' });
  assert.equal(res.status, 0, res.stdout);
});

test('install into DESTDIR lays out binary, unit, config and state; a second run changes nothing', (t) => {
  const dir = workDir(t);
  const root = join(dir, 'root');
  const bin = fakeBinary(dir, '1.0.0');

  const first = run(INSTALL, root, ['--binary', bin]);
  assert.equal(first.status, 0, first.out);
  const tree = snapshot(root);
  assert.equal(readFileSync(join(root, 'usr/local/bin/edge-gateway'), 'utf8'), readFileSync(bin, 'utf8'));
  assert.match(tree['/usr/local/bin/edge-gateway']!, /^file 755 /);
  assert.match(tree['/etc/edge-gateway/config.yaml']!, /^file 640 /, 'config readable by root and the service group only');
  assert.match(tree['/var/lib/edge-gateway']!, /^dir 750/);
  assert.match(tree['/etc/systemd/system/edge-gateway.service']!, /^file 644 /);
  assert.equal(readFileSync(join(root, 'etc/edge-gateway/config.yaml'), 'utf8'), readFileSync(join(REPO_ROOT, 'deploy/config.example.yaml'), 'utf8'));
  assert.equal(loadConfig({ path: join(root, 'etc/edge-gateway/config.yaml'), env: {} }).buffer.path, '/var/lib/edge-gateway/buffer.db');
  assert.ok(!existsSync(join(root, 'usr/local/bin/edge-gateway.prev')), 'no previous binary on a first install');

  const second = run(INSTALL, root, ['--binary', bin]);
  assert.equal(second.status, 0, second.out);
  assert.deepEqual(snapshot(root), tree, 'idempotent: same tree after the second run');
  assert.match(second.out, /already this binary/);
});

test('an edited config is kept on reinstall and upgrade', (t) => {
  const dir = workDir(t);
  const root = join(dir, 'root');
  assert.equal(run(INSTALL, root, ['--binary', fakeBinary(dir, '1.0.0')]).status, 0);
  const conf = join(root, 'etc/edge-gateway/config.yaml');
  const edited = 'gatewayId: pi-17\nkafka:\n  brokers: [kafka-1:9092]\n';
  writeFileSync(conf, edited);
  assert.equal(run(INSTALL, root, ['--binary', fakeBinary(dir, '1.0.0')]).status, 0);
  const up = run(INSTALL, root, ['--upgrade', '--binary', fakeBinary(dir, '2.0.0')]);
  assert.equal(up.status, 0, up.out);
  assert.equal(readFileSync(conf, 'utf8'), edited);
  assert.match(up.out, /kept .*config\.yaml/);
});

test('upgrade keeps edge-gateway.prev; --rollback swaps back, and again forward', (t) => {
  const dir = workDir(t);
  const root = join(dir, 'root');
  const v1 = fakeBinary(dir, '1.0.0');
  const v2 = fakeBinary(dir, '2.0.0');
  const installed = join(root, 'usr/local/bin/edge-gateway');
  const prev = `${installed}.prev`;

  assert.notEqual(run(INSTALL, root, ['--upgrade', '--binary', v2]).status, 0, '--upgrade needs an existing install');
  assert.notEqual(run(INSTALL, root, ['--rollback']).status, 0, 'nothing to roll back to yet');
  assert.equal(run(INSTALL, root, ['--binary', v1]).status, 0);
  const up = run(INSTALL, root, ['--upgrade', '--binary', v2]);
  assert.equal(up.status, 0, up.out);
  assert.equal(readFileSync(installed, 'utf8'), readFileSync(v2, 'utf8'));
  assert.equal(readFileSync(prev, 'utf8'), readFileSync(v1, 'utf8'));

  assert.equal(run(INSTALL, root, ['--rollback']).status, 0);
  assert.equal(readFileSync(installed, 'utf8'), readFileSync(v1, 'utf8'), 'rolled back to 1.0.0');
  assert.equal(readFileSync(prev, 'utf8'), readFileSync(v2, 'utf8'));
  assert.equal(lstatSync(installed).mode & 0o777, 0o755);

  assert.equal(run(INSTALL, root, ['--rollback']).status, 0);
  assert.equal(readFileSync(installed, 'utf8'), readFileSync(v2, 'utf8'), 'a second rollback returns to 2.0.0');
});

test('a binary that does not run here is refused before anything is replaced', (t) => {
  const dir = workDir(t);
  const root = join(dir, 'root');
  const good = fakeBinary(dir, '1.0.0');
  assert.equal(run(INSTALL, root, ['--binary', good]).status, 0);
  const before = snapshot(root);
  const bad = run(INSTALL, root, ['--upgrade', '--binary', fakeBinary(dir, '2.0.0-bad', false)]);
  assert.notEqual(bad.status, 0);
  assert.match(bad.out, /does not run on this machine/);
  assert.deepEqual(snapshot(root), before);
});

test('--prefix moves the binary and rewrites the unit to match', (t) => {
  const dir = workDir(t);
  const root = join(dir, 'root');
  const res = run(INSTALL, root, ['--prefix', '/opt/edge', '--binary', fakeBinary(dir, '1.0.0')]);
  assert.equal(res.status, 0, res.out);
  assert.ok(existsSync(join(root, 'opt/edge/bin/edge-gateway')));
  assert.ok(existsSync(join(root, 'opt/edge/share/edge-gateway/config.example.yaml')));
  const unit = readFileSync(join(root, 'etc/systemd/system/edge-gateway.service'), 'utf8');
  assert.match(unit, /^ExecStart=\/opt\/edge\/bin\/edge-gateway run$/m);
  assert.doesNotMatch(unit, /\/usr\/local\//);
});

test('uninstall keeps config and buffer; --purge removes them', (t) => {
  const dir = workDir(t);
  const root = join(dir, 'root');
  assert.equal(run(INSTALL, root, ['--binary', fakeBinary(dir, '1.0.0')]).status, 0);
  assert.equal(run(INSTALL, root, ['--upgrade', '--binary', fakeBinary(dir, '2.0.0')]).status, 0);
  writeFileSync(join(root, 'var/lib/edge-gateway/buffer.db'), 'rows');

  const un = run(UNINSTALL, root, []);
  assert.equal(un.status, 0, un.out);
  for (const gone of ['usr/local/bin/edge-gateway', 'usr/local/bin/edge-gateway.prev', 'etc/systemd/system/edge-gateway.service', 'usr/local/share/edge-gateway']) {
    assert.ok(!existsSync(join(root, gone)), `${gone} removed`);
  }
  assert.ok(existsSync(join(root, 'etc/edge-gateway/config.yaml')), 'config kept');
  assert.ok(existsSync(join(root, 'var/lib/edge-gateway/buffer.db')), 'buffer kept');

  const purge = run(UNINSTALL, root, ['--purge']);
  assert.equal(purge.status, 0, purge.out);
  assert.ok(!existsSync(join(root, 'etc/edge-gateway')));
  assert.ok(!existsSync(join(root, 'var/lib/edge-gateway')));
});
