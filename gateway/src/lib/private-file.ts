/**
 * Creates a file readable by its owner only (0600, its new parent directories 0700), whatever
 * the umask. SQLite gives a database's -wal and -shm files the mode of the database file, so
 * pre-creating the (empty) database this way keeps all three private.
 */
import { chmodSync, closeSync, mkdirSync, openSync } from 'node:fs';
import { dirname } from 'node:path';

/** True when it created `path`; false when it already existed (left as it is). */
export function createPrivateFile(path: string): boolean {
  mkdirSync(dirname(path), { recursive: true, mode: 0o700 });
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
  } finally {
    closeSync(fd);
  }
  return true;
}
