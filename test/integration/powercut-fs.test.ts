/**
 * Proves the power-cut file system really loses what a power cut loses, or the gateway's
 * power-cut results would prove nothing: data written without fsync is gone after a cut, data
 * fsynced (or fdatasynced) is there; a truncate or an unlink not synced is undone; a name made
 * durable by a directory fsync comes back empty if its data never was. Then SQLite itself, opened
 * with the gateway's pragmas (WAL): N committed transactions all survive a cut with
 * synchronous=FULL and EXTRA, and none of them with NORMAL (no checkpoint ran since the baseline).
 */
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { spawn } from 'node:child_process';
import { closeSync, existsSync, fdatasyncSync, fsyncSync, openSync, readFileSync, statSync, truncateSync, unlinkSync, writeFileSync, writeSync } from 'node:fs';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import Database from 'better-sqlite3';
import { createPrivateFile } from '../../gateway/src/lib/private-file.js';
import { createPowercutFs, type CutReport, type PowercutFs } from '../support/powercut-fs.js';

function writeFile(path: string, data: string, sync: 'none' | 'fsync' | 'fdatasync', flags = 'w'): void {
  const fd = openSync(path, flags);
  try {
    writeSync(fd, data);
    if (sync === 'fsync') fsyncSync(fd);
    if (sync === 'fdatasync') fdatasyncSync(fd);
  } finally {
    closeSync(fd);
  }
}

function syncDir(dir: string): void {
  const fd = openSync(dir, 'r');
  try {
    fsyncSync(fd);
  } finally {
    closeSync(fd);
  }
}

async function powerCycle(fs: PowercutFs): Promise<CutReport> {
  const report = await fs.cut();
  await fs.mount();
  return report;
}

test('powercut-fs: unsynced writes, truncates and unlinks are lost at a cut; synced ones survive', async (t) => {
  const fs = await createPowercutFs();
  t.after(() => fs.close());
  const p = (name: string) => join(fs.dir, name);

  writeFile(p('unsynced.txt'), 'never synced', 'none');
  writeFile(p('fsynced.txt'), 'fsynced', 'fsync');
  writeFile(p('fdatasynced.txt'), 'fdatasynced', 'fdatasync');
  writeFile(p('later.txt'), 'v1', 'fsync');
  writeFile(p('later.txt'), 'V2-unsynced', 'none', 'r+');
  assert.equal(readFileSync(p('later.txt'), 'utf8'), 'V2-unsynced', 'the mount shows what was written');
  const cut1 = await powerCycle(fs);
  assert.equal(existsSync(p('unsynced.txt')), false, 'a file never synced (nor its directory) is gone');
  assert.equal(readFileSync(p('fsynced.txt'), 'utf8'), 'fsynced');
  assert.equal(readFileSync(p('fdatasynced.txt'), 'utf8'), 'fdatasynced');
  assert.equal(readFileSync(p('later.txt'), 'utf8'), 'v1', 'an unsynced overwrite is undone');
  assert.ok(cut1.lostFiles >= 2 && cut1.lostBytes >= 8192, `the cut reports what it threw away: ${JSON.stringify(cut1)}`);

  // Truncate and unlink are volatile too; a directory fsync makes names durable, not data.
  truncateSync(p('fsynced.txt'), 2);
  unlinkSync(p('fdatasynced.txt'));
  writeFile(p('name-only.txt'), 'data never synced', 'none');
  syncDir(fs.dir); // the unlink and the new name become durable; no file data does
  writeFile(p('after-dirsync.txt'), 'created after the directory fsync', 'none');
  await powerCycle(fs);
  assert.equal(statSync(p('fsynced.txt')).size, 7, 'an unsynced truncate is undone');
  assert.equal(existsSync(p('fdatasynced.txt')), false, 'an unlink followed by a directory fsync stays done');
  assert.equal(readFileSync(p('name-only.txt'), 'utf8'), '', 'the name survived, its unsynced data did not');
  assert.equal(existsSync(p('after-dirsync.txt')), false);

  truncateSync(p('fsynced.txt'), 2);
  writeFile(p('fsynced.txt'), '', 'fsync', 'r+');
  await powerCycle(fs);
  assert.equal(readFileSync(p('fsynced.txt'), 'utf8'), 'fs', 'a synced truncate stays');
});

const COMMITS = 200;
const writer = fileURLToPath(new URL('../support/sqlite-commits.js', import.meta.url));

/** Runs COMMITS one-row transactions in a child, SIGKILLs it, cuts the power, counts the rows. */
async function commitsAfterCut(level: 'FULL' | 'NORMAL' | 'EXTRA'): Promise<{ rows: number; cut: CutReport }> {
  const fs = await createPowercutFs();
  try {
    const dbPath = join(fs.dir, 'buffer.db');
    const child = spawn(process.execPath, [writer, dbPath, level, String(COMMITS)], { stdio: ['ignore', 'pipe', 'inherit'] });
    await new Promise<void>((resolve, reject) => {
      child.stdout!.on('data', (d: Buffer) => d.toString().includes('committed') && resolve());
      child.once('exit', (code) => reject(new Error(`writer exited with ${code}`)));
    });
    const exited = new Promise((r) => child.once('exit', r));
    child.kill('SIGKILL');
    await exited;
    const cut = await fs.cut();
    await fs.mount();
    const db = new Database(dbPath, { readonly: true, fileMustExist: true });
    try {
      return { rows: (db.prepare('SELECT count(*) AS n FROM powercut').get() as { n: number }).n, cut };
    } finally {
      db.close();
    }
  } finally {
    await fs.close();
  }
}

test(`SQLite WAL on powercut-fs: ${COMMITS} commits survive a cut with FULL and EXTRA, not with NORMAL`, async (t) => {
  const full = await commitsAfterCut('FULL');
  const extra = await commitsAfterCut('EXTRA');
  const normal = await commitsAfterCut('NORMAL');
  for (const [level, r] of Object.entries({ FULL: full, EXTRA: extra, NORMAL: normal })) {
    t.diagnostic(`${level}: ${r.rows}/${COMMITS} rows after the cut; syncs ${r.cut.fsyncs + r.cut.fdatasyncs}, dir syncs ${r.cut.dirsyncs}, lost ${r.cut.lostBytes} bytes in ${r.cut.lostFiles} files`);
  }
  assert.equal(full.rows, COMMITS, 'FULL: every committed transaction survives');
  assert.equal(extra.rows, COMMITS, 'EXTRA: every committed transaction survives');
  assert.equal(normal.rows, 0, 'NORMAL: the commits since the last checkpoint are lost');
  assert.ok(full.cut.fsyncs + full.cut.fdatasyncs >= COMMITS, 'FULL syncs at every commit');
  assert.ok(normal.cut.fsyncs + normal.cut.fdatasyncs < 10, 'NORMAL does not sync at commits');
});

test('a buffer file created in new directories survives a cut right after (the new names are synced)', async (t) => {
  const fs = await createPowercutFs();
  t.after(() => fs.close());
  const db = join(fs.dir, 'var', 'lib', 'edge-gateway', 'buffer.db');
  assert.equal(createPrivateFile(db), true);
  // A bare file created next to it the same way, but without createPrivateFile: the control.
  writeFile(join(fs.dir, 'var', 'control.txt'), 'x', 'none');
  await powerCycle(fs);
  assert.equal(existsSync(join(fs.dir, 'var', 'control.txt')), false, 'an unsynced new name is lost at a cut (the layer does lose names)');
  assert.equal(existsSync(db), true, 'the database file and its new parent directories are still there');
  assert.equal(statSync(db).mode & 0o777, 0o600);
});
