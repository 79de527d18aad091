/**
 * Creates a file readable by its owner only (0600, its new parent directories 0700), whatever
 * the umask. SQLite gives a database's -wal and -shm files the mode of the database file, so
 * pre-creating the (empty) database this way keeps all three private.
 *
 * The new names are made durable too (fsync of each directory that gained an entry): SQLite
 * syncs a directory only when it creates a journal in it, so without this a power cut soon after
 * the first start could lose the new data directory, and with it everything committed there.
 */
import { chmodSync, closeSync, fsyncSync, mkdirSync, openSync } from 'node:fs';
import { dirname } from 'node:path';

/** True when it created `path`; false when it already existed (left as it is). */
export function createPrivateFile(path: string): boolean {
  const dir = dirname(path);
  // The first directory mkdir created, if any: it and those below it are new entries.
  const firstCreated = mkdirSync(dir, { recursive: true, mode: 0o700 });
  let fd: number;
  try {
    fd = openSync(path, 'wx', 0o600);
  } catch (err) {
    if ((err as NodeJS.ErrnoException).code === 'EEXIST') return false;
    throw err;
  }
  try {
    // The umask can only clear bits of 0600; chmod states the mode exactly.
    chmodSync(path, 0o600);
    fsyncSync(fd);
  } finally {
    closeSync(fd);
  }
  syncDirectory(dir);
  if (firstCreated !== undefined) {
    for (let d = dir; ; d = dirname(d)) {
      syncDirectory(dirname(d));
      if (d === firstCreated || dirname(d) === d) break;
    }
  }
  return true;
}

/** fsync of a directory: its entries (new names) become durable. */
function syncDirectory(dir: string): void {
  const fd = openSync(dir, 'r');
  try {
    fsyncSync(fd);
  } catch (err) {
    // A file system that cannot sync a directory (EINVAL) gives no such guarantee to lose.
    if ((err as NodeJS.ErrnoException).code !== 'EINVAL') throw err;
  } finally {
    closeSync(fd);
  }
}
