/**
 * node:sqlite (built into Node 24) beside better-sqlite3, through the buffer's shape (see
 * bench/lib/sqlite-engine-child.ts): group-commit throughput with the gateway's pragmas, drain
 * (lease 5,000 + delete) throughput, and RSS, each engine alone in a fresh process, `runs` times
 * alternately. Plus what the table cannot show: what each costs the single executable.
 */
import { spawnSync } from 'node:child_process';
import { existsSync, mkdtempSync, readFileSync, rmSync, statSync } from 'node:fs';
import { createRequire } from 'node:module';
import { tmpdir } from 'node:os';
import { dirname, join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { ARCHES, cacheDir, NODE_VERSION } from '../../deploy/build/binary-targets.js';
import { fmt, writeResult, type Row } from '../lib/report.js';

const require = createRequire(import.meta.url);
const CHILD = fileURLToPath(new URL('../lib/sqlite-engine-child.js', import.meta.url));
const ENGINES = ['better-sqlite3', 'node:sqlite'] as const;

interface ChildResult {
  engine: string;
  sqlite: string;
  openMs: number;
  commit: Record<string, { rowsPerSec: number; commitsPerSec: number }>;
  drain: { rows: number; rowsPerSec: number };
  rssMiB: { open: number; afterCommits: number; afterDrain: number; peak: number };
}

function runChild(engine: string, synchronous: string): ChildResult {
  const dir = mkdtempSync(join(tmpdir(), 'eg-bench-sqlite-'));
  try {
    const res = spawnSync(process.execPath, [CHILD, engine, dir, synchronous], { encoding: 'utf8', timeout: 300_000 });
    if (res.status !== 0) throw new Error(`${engine}: exit ${res.status ?? res.signal}\n${res.stderr}`);
    return JSON.parse(res.stdout.trim().split('\n').at(-1)!) as ChildResult;
  } finally {
    rmSync(dir, { recursive: true, force: true });
  }
}

const median = (xs: number[]) => [...xs].sort((a, b) => a - b)[Math.floor(xs.length / 2)]!;

/** What better-sqlite3 adds to each binary: its addon, an SEA asset (written to disk at start). */
function addonBytes(): string[] {
  const pkgDir = dirname(require.resolve('better-sqlite3/package.json'));
  const version = (JSON.parse(readFileSync(join(pkgDir, 'package.json'), 'utf8')) as { version: string }).version;
  return ARCHES.map((arch) => {
    const built = join(cacheDir(), `better-sqlite3-${version}-node-v${NODE_VERSION}-linux-${arch}`, 'better_sqlite3.node');
    return existsSync(built) ? `${arch} ${(statSync(built).size / 1024 / 1024).toFixed(2)} MiB` : `${arch} (not built here: npm run build:binary -- --arch ${arch})`;
  });
}

export async function run(opts: { runs: number; synchronous: string }): Promise<void> {
  const results: Record<string, ChildResult[]> = { 'better-sqlite3': [], 'node:sqlite': [] };
  for (let i = 0; i < opts.runs; i++) {
    for (const engine of ENGINES) {
      process.stderr.write(`node-sqlite: run ${i + 1}/${opts.runs} ${engine}\n`);
      results[engine]!.push(runChild(engine, opts.synchronous));
    }
  }
  const rows: Row[] = ENGINES.map((engine) => {
    const rs = results[engine]!;
    const m = (f: (r: ChildResult) => number) => median(rs.map(f));
    return {
      engine,
      sqlite: rs[0]!.sqlite,
      'commit rows/s (32 per tx)': fmt(m((r) => r.commit['32']!.rowsPerSec)),
      'commits/s (32 per tx)': fmt(m((r) => r.commit['32']!.commitsPerSec)),
      'commit rows/s (512 per tx)': fmt(m((r) => r.commit['512']!.rowsPerSec)),
      'drain rows/s (lease 5,000 + delete)': fmt(m((r) => r.drain.rowsPerSec)),
      'load + open ms': fmt(m((r) => r.openMs), 1),
      'RSS open / peak MiB': `${fmt(m((r) => r.rssMiB.open), 1)} / ${fmt(m((r) => r.rssMiB.peak), 1)}`,
    };
  });
  const ratio = (f: (r: ChildResult) => number) => (median(results['node:sqlite']!.map(f)) / median(results['better-sqlite3']!.map(f))).toFixed(2);
  const notes = [
    `Medians of ${opts.runs} alternating runs, each engine alone in a fresh process (\`synchronous = ${opts.synchronous}\`, WAL, a file in ${tmpdir()}); payload 150 bytes, 1,000 device ids; the drain empties a 300,000-row backlog.`,
    `node:sqlite / better-sqlite3: commit rows/s ${ratio((r) => r.commit['32']!.rowsPerSec)}x (32 per tx), ${ratio((r) => r.commit['512']!.rowsPerSec)}x (512 per tx); drain ${ratio((r) => r.drain.rowsPerSec)}x; peak RSS ${ratio((r) => r.rssMiB.peak)}x.`,
    `Binary size: node:sqlite is already inside every Node 24 binary (it is in both of ours today, unused). better-sqlite3's addon is an SEA asset on top: ${addonBytes().join(', ')}, plus the start-up step that writes it to a private directory and dlopen()s it (gateway/src/lib/native-sqlite.ts).`,
    'Cross build: node:sqlite needs none. better-sqlite3 needs node-gyp, g++ and, for arm64 from x64, g++-aarch64-linux-gnu plus a scratch copy of the package (deploy/build/sqlite-addon.ts); since 13 it also ships Node-API prebuilds for linux-x64/arm64 that could replace that compile.',
    'API: node:sqlite has no transaction helper (BEGIN/COMMIT statements here), returns rows as null-prototype objects unless setReturnArrays(true), and its SQLite is the one Node ships (upgraded with Node, not on our schedule). Errors differ too: the buffer maps better-sqlite3\'s `code` (SQLITE_FULL, SQLITE_IOERR_*, SQLITE_READONLY) to its disk states; node:sqlite throws code ERR_SQLITE_ERROR with the SQLite code in `errcode`/`errstr`, and db.transaction(), pragma() and raw() have no equivalent, so every buffer file would change.',
    'Recommendation: keep better-sqlite3 for now. node:sqlite was faster on every line here and would remove the addon, its extraction at start and the cross compile, but: this VM\'s fsync is cheap (thousands of commits/s at synchronous = FULL), so on a Pi\'s SD card the commit gap shrinks towards the fsync time; node:sqlite is not marked Stable in Node 24 (stability 1.x) and its SQLite moves with Node\'s releases; and the switch rewrites every buffer file (transactions, disk-error mapping). Worth a trial behind the buffer interface (buffer/buffer.ts), judged by `bench -- drain` / `ingest` and the disk-error tests, when node:sqlite is Stable.',
  ];
  writeResult('node-sqlite', 'SQLite engines: node:sqlite vs better-sqlite3 (the buffer\'s statements)', rows, { results }, notes);
}
