/**
 * No Docker engine exists here, so Dockerfile.arm64 is checked against the build instead: it is
 * multi-stage; the build stage is arm64, copies every source the build script compiles and runs
 * the same `npm run build:binary -- --arch arm64`; the runtime stage copies exactly
 * dist/edge-gateway-linux-arm64 (the script's output name), runs as a non-root user, and keeps
 * the state directory (buffer and extracted addon) on a VOLUME that the image's env points at.
 */
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { existsSync, readFileSync } from 'node:fs';
import { join, relative } from 'node:path';
import { REPO_ROOT, binaryPath } from '../../deploy/build/binary-targets.js';

interface Instruction {
  op: string;
  args: string;
}
interface Stage {
  from: string;
  name?: string;
  instructions: Instruction[];
}

function parseDockerfile(text: string): Stage[] {
  const joined = text.replace(/\\\n/g, ' ');
  const stages: Stage[] = [];
  for (const raw of joined.split('\n')) {
    const line = raw.trim();
    if (line === '' || line.startsWith('#')) continue;
    const [op, ...rest] = line.split(/\s+/);
    const args = rest.join(' ');
    if (op!.toUpperCase() === 'FROM') {
      const m = /^(?:--platform=\S+\s+)?(\S+)(?:\s+AS\s+(\S+))?$/i.exec(args);
      assert.ok(m, `FROM ${args}`);
      stages.push({ from: line, name: m[2], instructions: [] });
    } else {
      assert.ok(stages.length > 0, `${op} before FROM`);
      stages[stages.length - 1]!.instructions.push({ op: op!.toUpperCase(), args });
    }
  }
  return stages;
}

const stages = parseDockerfile(readFileSync(join(REPO_ROOT, 'Dockerfile.arm64'), 'utf8'));
const pkg = JSON.parse(readFileSync(join(REPO_ROOT, 'package.json'), 'utf8')) as { scripts: Record<string, string> };

test('two stages, both linux/arm64', () => {
  assert.ok(stages.length >= 2, 'multi-stage');
  for (const s of stages) assert.match(s.from, /--platform=linux\/arm64/);
});

test('the build stage runs the same build script with --arch arm64 on all its sources', () => {
  const build = stages[0]!;
  const runs = build.instructions.filter((i) => i.op === 'RUN').map((i) => i.args);
  assert.ok(runs.includes('npm run build:binary -- --arch arm64'), `RUN npm run build:binary -- --arch arm64 (found: ${runs.join(' | ')})`);
  assert.ok(pkg.scripts['build:binary'], 'package.json has the build:binary script');
  assert.ok(runs.some((r) => r.startsWith('npm ci')), 'installs the locked dependencies');
  const copied = build.instructions.filter((i) => i.op === 'COPY' && !i.args.startsWith('--from')).flatMap((i) => i.args.split(/\s+/).slice(0, -1));
  // Everything the build compiles and bundles: the compiled entry points and the package files.
  for (const needed of ['package.json', 'package-lock.json', 'tsconfig.json', 'gateway', 'firmware-sim', 'deploy']) {
    assert.ok(copied.includes(needed), `COPY ${needed}`);
    assert.ok(existsSync(join(REPO_ROOT, needed)));
  }
});

test('the runtime stage takes the script output, runs non-root, state on a VOLUME', () => {
  const runtime = stages[stages.length - 1]!;
  const fromBuild = runtime.instructions.filter((i) => i.op === 'COPY' && i.args.includes(`--from=${stages[0]!.name}`));
  const artifact = relative(REPO_ROOT, binaryPath('arm64'));
  assert.ok(fromBuild.some((i) => i.args.includes(`/${artifact} /usr/local/bin/edge-gateway`)), `copies ${artifact} to /usr/local/bin/edge-gateway`);

  const user = runtime.instructions.filter((i) => i.op === 'USER').at(-1)?.args;
  assert.ok(user, 'USER set');
  assert.doesNotMatch(user, /^(root|0)(:|$)/, 'non-root');

  const volumes = runtime.instructions.filter((i) => i.op === 'VOLUME').flatMap((i) => JSON.parse(i.args) as string[]);
  assert.deepEqual(volumes, ['/var/lib/edge-gateway']);
  const env = runtime.instructions.filter((i) => i.op === 'ENV').map((i) => i.args).join(' ');
  assert.match(env, /GATEWAY_BUFFER_PATH=\/var\/lib\/edge-gateway\/buffer\.db/);
  assert.match(env, /EDGE_GATEWAY_NATIVE_DIR=\/var\/lib\/edge-gateway\//, 'addon extracted into the writable volume');
  assert.ok(fromBuild.some((i) => new RegExp(`--chown=${user.split(':')[0]}`).test(i.args) && i.args.endsWith('/var/lib/edge-gateway')), 'state dir owned by the runtime user');

  const entry = runtime.instructions.find((i) => i.op === 'ENTRYPOINT')?.args;
  assert.deepEqual(JSON.parse(entry ?? '[]'), ['/usr/local/bin/edge-gateway']);
});
