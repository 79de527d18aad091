/** What the build checks in ELF files: the machine they are for and the glibc they need. */
import { spawnSync } from 'node:child_process';
import { closeSync, openSync, readSync } from 'node:fs';

/** e_machine of an ELF file (offset 18, little-endian u16). */
export function elfMachine(path: string): number {
  const fd = openSync(path, 'r');
  try {
    const header = Buffer.alloc(20);
    readSync(fd, header, 0, 20, 0);
    if (header.readUInt32BE(0) !== 0x7f454c46) throw new Error(`${path} is not an ELF file`);
    return header.readUInt16LE(18);
  } finally {
    closeSync(fd);
  }
}

/**
 * Highest `<lib>_x.y[.z]` symbol version an ELF file needs (from `objdump -T`, which reads other
 * arches' files too): GLIBC for the C library, GLIBCXX for libstdc++. That is the oldest library
 * it runs with. Undefined when objdump is missing or the file needs no versioned symbol of it.
 */
export function symbolVersionFloor(file: string, lib: 'GLIBC' | 'GLIBCXX'): string | undefined {
  const res = spawnSync('objdump', ['-T', file], { encoding: 'utf8', maxBuffer: 64 * 1024 * 1024 });
  if (res.status !== 0) return undefined;
  const found = [...res.stdout.matchAll(new RegExp(`\\b${lib}_(\\d+(?:\\.\\d+)+)\\b`, 'g'))].map((m) => m[1]!);
  return found.sort(compareVersions).at(-1);
}

export function compareVersions(a: string, b: string): number {
  const pa = a.split('.').map(Number);
  const pb = b.split('.').map(Number);
  for (let i = 0; i < Math.max(pa.length, pb.length); i++) {
    const d = (pa[i] ?? 0) - (pb[i] ?? 0);
    if (d !== 0) return d;
  }
  return 0;
}
