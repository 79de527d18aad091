/**
 * deploy/systemd/edge-gateway.service: `systemd-analyze verify` accepts the unit as install.sh
 * installs it (no warning at all), and its settings agree with each other and with the product:
 * the buffer and the extracted SQLite addon live in the StateDirectory (the only writable place
 * under ProtectSystem=strict), the config in the ConfigurationDirectory, a dedicated user,
 * hardening on, V8's JIT not blocked, file limit sized for 10,000 device sockets.
 */
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { spawnSync } from 'node:child_process';
import { chmodSync, readFileSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { REPO_ROOT } from '../../deploy/build/binary-targets.js';
import { tempDir } from '../support/temp-dir.js';

const UNIT = join(REPO_ROOT, 'deploy', 'systemd', 'edge-gateway.service');

type Unit = Record<string, Record<string, string[]>>;

function parseUnit(text: string): Unit {
  const unit: Unit = {};
  let section = '';
  for (const raw of text.split('\n')) {
    const line = raw.trim();
    if (line === '' || line.startsWith('#') || line.startsWith(';')) continue;
    const header = /^\[(.+)\]$/.exec(line);
    if (header) {
      section = header[1]!;
      unit[section] ??= {};
      continue;
    }
    const eq = line.indexOf('=');
    const key = line.slice(0, eq);
    ((unit[section] ??= {})[key] ??= []).push(line.slice(eq + 1));
  }
  return unit;
}

function one(unit: Unit, section: string, key: string): string {
  const values = unit[section]?.[key];
  assert.ok(values && values.length === 1, `[${section}] ${key}= set once`);
  return values[0]!;
}

function envOf(unit: Unit): Record<string, string> {
  const env: Record<string, string> = {};
  for (const v of unit['Service']?.['Environment'] ?? []) {
    const [k, ...rest] = v.split('=');
    env[k!] = rest.join('=');
  }
  return env;
}

test('systemd-analyze verify accepts the unit as install.sh installs it', (t) => {
  if (spawnSync('sh', ['-c', 'command -v systemd-analyze']).status !== 0) {
    if (process.env['CI']) assert.fail('systemd-analyze is not installed (apt-get install systemd)');
    t.skip('systemd-analyze not installed (apt-get install systemd)');
    return;
  }
  const dir = tempDir(t);
  const root = join(dir, 'root');
  const fake = join(dir, 'edge-gateway');
  writeFileSync(fake, '#!/bin/sh\necho "edge-gateway 1.0.0"\n');
  chmodSync(fake, 0o755);
  const install = spawnSync('sh', [join(REPO_ROOT, 'deploy', 'install.sh'), '--binary', fake], { encoding: 'utf8', env: { ...process.env, DESTDIR: root } });
  assert.equal(install.status, 0, `${install.stdout}${install.stderr}`);
  // verify checks that ExecStart's file exists and is executable: point it into the DESTDIR tree.
  const installed = readFileSync(join(root, 'etc/systemd/system/edge-gateway.service'), 'utf8');
  const unitFile = join(dir, 'edge-gateway.service');
  writeFileSync(unitFile, installed.replace(/^ExecStart=\/usr\/local\/bin\/edge-gateway /m, `ExecStart=${join(root, 'usr/local/bin/edge-gateway')} `));
  const res = spawnSync('systemd-analyze', ['verify', unitFile], { encoding: 'utf8' });
  assert.equal(res.status, 0, res.stderr);
  const complaints = `${res.stdout}${res.stderr}`.split('\n').filter((l) => l.includes('edge-gateway.service'));
  assert.deepEqual(complaints, [], 'no warnings about the unit');
});

test('state, config and addon paths agree with StateDirectory/ConfigurationDirectory', () => {
  const unit = parseUnit(readFileSync(UNIT, 'utf8'));
  const state = `/var/lib/${one(unit, 'Service', 'StateDirectory')}`;
  const conf = `/etc/${one(unit, 'Service', 'ConfigurationDirectory')}`;
  const env = envOf(unit);
  assert.equal(env['GATEWAY_CONFIG'], `${conf}/config.yaml`);
  assert.equal(env['GATEWAY_BUFFER_PATH'], `${state}/buffer.db`);
  assert.ok(env['EDGE_GATEWAY_NATIVE_DIR']?.startsWith(`${state}/`), 'the embedded SQLite addon is written inside the state directory');
  assert.match(one(unit, 'Service', 'ExecStart'), /^\/usr\/local\/bin\/edge-gateway run$/);
});

test('dedicated user, restart forever, hardening on, JIT allowed, limits for 10,000 devices', () => {
  const unit = parseUnit(readFileSync(UNIT, 'utf8'));
  assert.equal(one(unit, 'Service', 'User'), 'edge-gateway');
  assert.equal(one(unit, 'Service', 'Restart'), 'always');
  assert.equal(one(unit, 'Unit', 'StartLimitIntervalSec'), '0');
  for (const key of ['NoNewPrivileges', 'PrivateTmp', 'ProtectHome', 'PrivateDevices']) assert.equal(one(unit, 'Service', key), 'yes', key);
  assert.equal(one(unit, 'Service', 'ProtectSystem'), 'strict');
  assert.equal(unit['Service']?.['MemoryDenyWriteExecute'], undefined, "V8's JIT needs W+X pages");
  assert.ok(Number(one(unit, 'Service', 'LimitNOFILE')) >= 20_000, 'a socket per device plus headroom');
  assert.ok(Number(one(unit, 'Service', 'TasksMax')) >= 32);
  assert.match(one(unit, 'Service', 'MemoryMax'), /^\d+[MG]$/);
  // Graceful shutdown (10 s Kafka grace by default) fits in the stop timeout.
  assert.ok(Number(one(unit, 'Service', 'TimeoutStopSec')) > 10);
  assert.equal(one(unit, 'Install', 'WantedBy'), 'multi-user.target');
});
