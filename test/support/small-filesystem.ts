/**
 * A really small filesystem for disk-full tests: a tmpfs of a fixed size mounted on a temp dir
 * (needs root, as on CI). A filler file takes most of the space and can be deleted to "free
 * disk" mid-test.
 */
import { execFileSync } from 'node:child_process';
import { mkdtempSync, rmSync, statfsSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';

export interface SmallFilesystem {
  dir: string;
  freeBytes(): number;
  /** Writes a file of `bytes` (fails with ENOSPC if it does not fit). */
  fill(name: string, bytes: number): void;
  remove(name: string): void;
  unmount(): void;
}

export function mountSmallFilesystem(sizeBytes: number): SmallFilesystem {
  const dir = mkdtempSync(join(tmpdir(), 'eg-smallfs-'));
  execFileSync('mount', ['-t', 'tmpfs', '-o', `size=${sizeBytes}`, 'tmpfs', dir]);
  let mounted = true;
  return {
    dir,
    freeBytes() {
      const s = statfsSync(dir);
      return s.bavail * s.bsize;
    },
    fill(name, bytes) {
      writeFileSync(join(dir, name), Buffer.alloc(bytes, 0x5a));
    },
    remove(name) {
      rmSync(join(dir, name), { force: true });
    },
    unmount() {
      if (!mounted) return;
      mounted = false;
      execFileSync('umount', ['-l', dir]);
      rmSync(dir, { recursive: true, force: true });
    },
  };
}
