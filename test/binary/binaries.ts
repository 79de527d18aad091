/**
 * The single-executable binaries under test (dist/edge-gateway-linux-<arch>, built by
 * `npm run build:binary -- --arch <arch>`; the tests never build). A missing binary skips its
 * tests, unless EG_TEST_REQUIRE_BINARIES=1 (set by .ci/run after building both), which makes it
 * a failure. Binaries of a foreign arch run under qemu-user.
 */
import { spawnSync } from 'node:child_process';
import { existsSync, readFileSync } from 'node:fs';
import type { TestContext } from 'node:test';
import { binaryPath, runnerFor, type Arch } from '../../deploy/build/binary-targets.js';

export interface BinaryUnderTest {
  arch: Arch;
  path: string;
  /** argv prefix that runs it here: [path] natively, [qemu, -L, sysroot, path] otherwise. */
  command: string[];
}

/** The binary for `arch`, or undefined after marking the test skipped (see the module comment). */
export function binaryOrSkip(t: TestContext, arch: Arch): BinaryUnderTest | undefined {
  const path = binaryPath(arch);
  const runner = runnerFor(arch);
  const missing = !existsSync(path)
    ? `${path} not built (npm run build:binary -- --arch ${arch})`
    : runner.length > 0 && spawnSync('sh', ['-c', `command -v ${runner[0]}`]).status !== 0
      ? `${runner[0]} not installed (apt-get install qemu-user-static libc6-arm64-cross)`
      : undefined;
  if (missing) {
    if (process.env['EG_TEST_REQUIRE_BINARIES'] === '1') throw new Error(`EG_TEST_REQUIRE_BINARIES=1 but ${missing}`);
    t.skip(missing);
    return undefined;
  }
  return { arch, path, command: [...runner, path] };
}

/** Resident set size of a running process, in MiB (VmRSS from /proc). */
export function rssMiB(pid: number): number {
  const kb = /^VmRSS:\s+(\d+) kB/m.exec(readFileSync(`/proc/${pid}/status`, 'utf8'))?.[1];
  if (!kb) throw new Error(`no VmRSS for pid ${pid}`);
  return Number(kb) / 1024;
}

/** `edge-gateway --version` output must name all four versions. */
export const VERSION_LINE = /^edge-gateway (\d+\.\d+\.\d+\S*) node v24\.\d+\.\d+ linux-(x64|arm64) sqlite (3\.\d+\.\d+) single-executable$/;
