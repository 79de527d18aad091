/**
 * The heap trim: when it asks V8 for a memory-reducing GC (slack above its floor by slackBytes,
 * RSS no longer growing, minIntervalMs since the last trim), what it records, and that the
 * collector it gets really returns pooled pages to the OS (in a child process, so the test
 * runner's own heap does not matter).
 */
import assert from 'node:assert/strict';
import { spawnSync } from 'node:child_process';
import { test } from 'node:test';
import { fileURLToPath } from 'node:url';
import { createHeapTrim, initialTrimState, shouldTrim, type MemorySample } from '../../../gateway/src/control/heap-trim.js';
import { pino } from 'pino';

const MiB = 1024 * 1024;
const cfg = { slackBytes: 32 * MiB, minIntervalMs: 300_000 };
const at = (rss: number, heapUsed = 50 * MiB, external = 0): MemorySample => ({ rss: rss * MiB, heapUsed, external });

test('trims once slack is slackBytes above its floor and RSS stopped growing, then waits minIntervalMs', () => {
  const s = initialTrimState();
  assert.equal(shouldTrim(s, at(150), cfg, 0), false, 'first sample: the floor (100 MiB of slack)');
  assert.equal(shouldTrim(s, at(170), cfg, 15_000), false, '20 MiB above the floor: not enough');
  assert.equal(shouldTrim(s, at(200), cfg, 30_000), false, '50 MiB above, but RSS still growing (a connection storm)');
  assert.equal(shouldTrim(s, at(200.5), cfg, 45_000), true, 'above and steady: trim');
  s.lastTrimAt = 45_000;
  s.floor = 140 * MiB - 50 * MiB; // what the trim left
  assert.equal(shouldTrim(s, at(180), cfg, 60_000), false, '40 MiB above the new floor: growing');
  assert.equal(shouldTrim(s, at(180), cfg, 75_000), false, 'steady and above, but within minIntervalMs of the last trim');
  assert.equal(shouldTrim(s, at(180), cfg, 345_000), true, 'after minIntervalMs');
});

test('heap growth is not slack: RSS that the live heap accounts for never triggers a trim', () => {
  const s = initialTrimState();
  shouldTrim(s, at(150, 50 * MiB), cfg, 0);
  // 10,000 devices connect: +200 MiB of live heap and +200 MiB of RSS; the slack is unchanged.
  assert.equal(shouldTrim(s, at(350, 250 * MiB), cfg, 15_000), false);
  assert.equal(shouldTrim(s, at(350, 250 * MiB), cfg, 30_000), false);
});

test('createHeapTrim: samples on its timer, collects, logs heap_trimmed, counts and resets its floor', async () => {
  const lines: Array<Record<string, unknown>> = [];
  const logger = pino({ level: 'info' }, { write: (l: string) => void lines.push(JSON.parse(l) as Record<string, unknown>) });
  let rss = 150;
  let collected = 0;
  const trim = createHeapTrim({
    logger,
    sample: () => at(rss),
    collect: () => {
      collected++;
      rss = 160;
    },
  });
  rss = 250; // a storm after the start (floor: 100 MiB of slack, taken at creation)
  trim.configure({ enabled: true, slackBytes: 32 * MiB, checkIntervalMs: 1000, minIntervalMs: 1000 });
  await new Promise((r) => setTimeout(r, 2600));
  trim.close();
  assert.equal(collected, 1, 'one trim: afterwards the slack (110 MiB) is the new floor');
  const s = trim.stats();
  assert.equal(s.trimsTotal, 1);
  assert.equal(s.lastFreedBytes, 90 * MiB);
  const logged = lines.find((l) => l['event'] === 'heap_trimmed');
  assert.ok(logged, 'heap_trimmed logged');
  assert.equal(logged['rssBefore'], 250 * MiB);
  assert.equal(logged['rssAfter'], 160 * MiB);
});

test('createHeapTrim: no collector -> one heap_trim_unavailable warning, no timer, stats say so', () => {
  const lines: Array<Record<string, unknown>> = [];
  const logger = pino({ level: 'info' }, { write: (l: string) => void lines.push(JSON.parse(l) as Record<string, unknown>) });
  const trim = createHeapTrim({ logger, sample: () => at(100), collect: null });
  trim.configure({ enabled: true, slackBytes: 32 * MiB, checkIntervalMs: 1000, minIntervalMs: 1000 });
  trim.configure({ enabled: true, slackBytes: 32 * MiB, checkIntervalMs: 2000, minIntervalMs: 1000 });
  trim.close();
  assert.equal(trim.stats().available, false);
  assert.equal(lines.filter((l) => l['event'] === 'heap_trim_unavailable').length, 1);
});

test('memoryReducingGc returns pooled pages to the OS where a regular full GC does not', () => {
  const helper = fileURLToPath(new URL('../../support/memory-reducing-gc-child.js', import.meta.url));
  const r = spawnSync(process.execPath, ['--expose-gc', helper], { encoding: 'utf8', timeout: 60_000 });
  assert.equal(r.status, 0, r.stderr);
  const m = JSON.parse(r.stdout) as { afterRegularMiB: number; afterTrimMiB: number; globalGcAfter: string };
  assert.ok(m.afterRegularMiB - m.afterTrimMiB > 50, `RssAnon after a regular GC ${m.afterRegularMiB} MiB, after the trim ${m.afterTrimMiB} MiB`);
  assert.equal(m.globalGcAfter, 'function', 'a gc the process was started with stays');
});
