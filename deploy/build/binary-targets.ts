/**
 * What the single-executable build knows about each target: the Node.js release it embeds (from
 * the npm packages `node-linux-<arch>`, which hold bin/node and include/node), the GNU toolchain
 * prefix that builds and strips for that arch, and where things are cached.
 */
import { join, resolve } from 'node:path';
import { fileURLToPath } from 'node:url';

/** Node.js 24 LTS, the runtime embedded in both binaries (and the one that writes the SEA blob). */
export const NODE_VERSION = '24.21.0';

/** NODE_SEA_FUSE: the sentinel postject flips so the embedded Node runs the injected blob. */
export const SEA_SENTINEL_FUSE = 'NODE_SEA_FUSE_fce680ab2cc467b6e072b8b5df1996b2';
export const SEA_RESOURCE_NAME = 'NODE_SEA_BLOB';

export const ARCHES = ['x64', 'arm64'] as const;
export type Arch = (typeof ARCHES)[number];

interface ArchInfo {
  /** GNU triplet prefix of the cross tools (gcc, g++, ar, strip) when not building on that arch. */
  crossPrefix: string;
  /** ELF e_machine of objects for this arch (checked on the compiled addon). */
  elfMachine: number;
  /** Debian package that provides the cross compiler. */
  crossPackage: string;
}

export const ARCH_INFO: Record<Arch, ArchInfo> = {
  x64: { crossPrefix: 'x86_64-linux-gnu-', elfMachine: 62, crossPackage: 'g++-x86-64-linux-gnu' },
  arm64: { crossPrefix: 'aarch64-linux-gnu-', elfMachine: 183, crossPackage: 'g++-aarch64-linux-gnu' },
};

export function isArch(value: string): value is Arch {
  return (ARCHES as readonly string[]).includes(value);
}

/** The arch this build runs on, as a target name. */
export function hostArch(): Arch {
  const a = process.arch;
  if (!isArch(a)) throw new Error(`unsupported build host arch ${a} (need x64 or arm64)`);
  return a;
}

/** Tool name for `arch`: plain on a native build, cross-prefixed otherwise. */
export function toolFor(arch: Arch, tool: 'gcc' | 'g++' | 'ar' | 'strip'): string {
  return arch === hostArch() ? tool : `${ARCH_INFO[arch].crossPrefix}${tool}`;
}

const QEMU: Record<Arch, readonly string[]> = {
  arm64: ['qemu-aarch64-static', '-L', '/usr/aarch64-linux-gnu'],
  x64: ['qemu-x86_64-static', '-L', '/usr/x86_64-linux-gnu'],
};

/**
 * Command prefix that runs a binary of `arch` on this host: nothing natively, otherwise
 * qemu-user (Debian qemu-user-static) with the target's libc (libc6-arm64-cross) as its root.
 */
export function runnerFor(arch: Arch): readonly string[] {
  return arch === hostArch() ? [] : QEMU[arch];
}

/** Repository root (this file is build/deploy/build/binary-targets.js once compiled). */
export const REPO_ROOT = resolve(fileURLToPath(new URL('../../../', import.meta.url)));

/** Output file of a target. */
export function binaryPath(arch: Arch, outDir = join(REPO_ROOT, 'dist')): string {
  return join(outDir, `edge-gateway-linux-${arch}`);
}

/**
 * Cache of downloaded Node packages and compiled addons (keyed by versions, so never stale).
 * dist/.cache is gitignored; EG_BINARY_CACHE_DIR moves it out of the work tree so that fresh
 * clones (CI) reuse it.
 */
export function cacheDir(): string {
  return process.env['EG_BINARY_CACHE_DIR'] || join(REPO_ROOT, 'dist', '.cache');
}
