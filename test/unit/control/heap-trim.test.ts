/**
 * The heap trim: when it asks V8 for a memory-reducing GC (slack above its floor by slackBytes,
 * anonymous RSS no longer growing, minIntervalMs x backoff since the last trim), what it records,
 * and that the collector it gets really returns pooled pages to the OS (in child processes, so
 * the test runner's own heap does not matter).
 */
import assert from 'node:assert/strict';
import { spawnSync } from 'node:child_process';
import { mock, test } from 'node:test';
import { fileURLToPath } from 'node:url';
import { pino } from 'pino';
import { afterTrim, createHeapTrim, initialTrimState, MAX_BACKOFF, shouldTrim, type MemorySample } from '../../../gateway/src/control/heap-trim.js';

const MiB = 1024 * 1024;
const cfg = { slackBytes: 32 * MiB, minIntervalMs: 300_000 };
const at = (anon: number, heapUsed = 50 * MiB, external = 0): MemorySample => ({ anon: anon * MiB, heapUsed, external });

test('trims once slack is slackBytes above its floor and anonymous RSS stopped growing, then waits minIntervalMs', () => {
  const s = initialTrimState();
  assert.equal(shouldTrim(s, at(150), cfg, 0), false, 'first sample: the floor (100 MiB of slack)');
  assert.equal(shouldTrim(s, at(170), cfg, 15_000), false, '20 MiB above the floor: not enough');
  assert.equal(shouldTrim(s, at(200), cfg, 30_000), false, '50 MiB above, but still growing (a connection storm)');
  assert.equal(shouldTrim(s, at(200.5), cfg, 45_000), true, 'above and steady: trim');
  afterTrim(s, at(200.5), at(140), cfg, 45_000);
  assert.equal(s.floor, 90 * MiB, 'the floor restarts from what the trim left');
  assert.equal(s.backoff, 1, 'it freed 60 MiB: no back-off');
  assert.equal(shouldTrim(s, at(180), cfg, 400_000), false, '40 MiB above the new floor, but growing (140 -> 180)');
  assert.equal(shouldTrim(s, at(180), cfg, 415_000), true, 'steady, above, and minIntervalMs after the last trim');
});

test('within minIntervalMs of a trim there is no other, however large the slack', () => {
  const s = initialTrimState();
  shouldTrim(s, at(150), cfg, 0);
  assert.equal(shouldTrim(s, at(300), cfg, 10_000), false, 'growing');
  assert.equal(shouldTrim(s, at(300), cfg, 20_000), true);
  afterTrim(s, at(300), at(200), cfg, 20_000);
  shouldTrim(s, at(260), cfg, 30_000);
  assert.equal(shouldTrim(s, at(260), cfg, 319_999), false, 'one ms short of minIntervalMs');
  assert.equal(shouldTrim(s, at(260), cfg, 320_000), true);
});

test('trims that free little double the wait, up to 16x; one that frees enough resets it', () => {
  const s = initialTrimState();
  shouldTrim(s, at(150), cfg, 0);
  let t = 0;
  const waits: number[] = [];
  for (let i = 0; i < 7; i++) {
    // Slack the trim cannot return (it frees 1 MiB): the floor moves up with it, then a sawtooth
    // of the same size shows up again.
    const base = 150 + i * 40;
    shouldTrim(s, at(base + 40), cfg, t + 1);
    let when = t + 1;
    while (!shouldTrim(s, at(base + 40), cfg, when)) when += 15_000;
    waits.push(when - t);
    afterTrim(s, at(base + 40), at(base + 39), cfg, when);
    t = when;
  }
  assert.equal(s.backoff, MAX_BACKOFF);
  assert.ok(waits.at(-1)! >= cfg.minIntervalMs * MAX_BACKOFF, `the last wait ${waits.at(-1)} ms is 16x minIntervalMs`);
  assert.ok(waits[1]! >= 2 * cfg.minIntervalMs && waits[1]! < 4 * cfg.minIntervalMs, `second wait ${waits[1]} ms: 2x`);
  afterTrim(s, at(500), at(400), cfg, t);
  assert.equal(s.backoff, 1, 'a trim that freed 100 MiB resets the wait');
});

test('heap growth is not slack: anonymous memory that the live heap accounts for never triggers a trim', () => {
  const s = initialTrimState();
  shouldTrim(s, at(150, 50 * MiB), cfg, 0);
  // 10,000 devices connect: +200 MiB of live heap and +200 MiB of RssAnon; the slack is unchanged.
  assert.equal(shouldTrim(s, at(350, 250 * MiB), cfg, 15_000), false);
  assert.equal(shouldTrim(s, at(350, 250 * MiB), cfg, 30_000), false);
});

test('createHeapTrim: samples on its timer, collects, logs heap_trimmed, counts; close() stops it for good', () => {
  mock.timers.enable({ apis: ['setInterval'] });
  try {
    const lines: Array<Record<string, unknown>> = [];
    const logger = pino({ level: 'info' }, { write: (l: string) => void lines.push(JSON.parse(l) as Record<string, unknown>) });
    let anon = 150;
    let collected = 0;
    let clock = 0;
    const trim = createHeapTrim({
      logger,
      sample: () => at(anon),
      collect: () => {
        collected++;
        anon = 160;
      },
      now: () => clock,
    });
    anon = 250; // a storm after the start (floor: 100 MiB of slack, taken at creation)
    const c = { enabled: true, slackBytes: 32 * MiB, checkIntervalMs: 1000, minIntervalMs: 60_000 };
    trim.configure(c);
    clock = 1000;
    mock.timers.tick(1000);
    assert.equal(collected, 1, 'first check: 150 MiB above the floor, steady since creation');
    const s = trim.stats();
    assert.equal(s.trimsTotal, 1);
    assert.equal(s.lastFreedBytes, 90 * MiB);
    const logged = lines.find((l) => l['event'] === 'heap_trimmed');
    assert.ok(logged, 'heap_trimmed logged');
    assert.equal(logged['anonBefore'], 250 * MiB);
    assert.equal(logged['anonAfter'], 160 * MiB);
    anon = 200; // 40 MiB above the new floor (110 MiB of slack): a second trim once the interval passed
    clock = 70_000;
    mock.timers.tick(1000);
    assert.equal(collected, 1, 'growing (160 -> 200)');
    clock = 71_000;
    mock.timers.tick(1000);
    assert.equal(collected, 2, 'the floor was reset to what the first trim left, so 40 MiB over it trims again');
    trim.close();
    trim.configure(c);
    anon = 400;
    clock = 500_000;
    mock.timers.tick(5000);
    assert.equal(collected, 2, 'configure after close() re-arms nothing');
  } finally {
    mock.timers.reset();
  }
});

test('createHeapTrim: a sample that throws skips the tick, logged once, the process lives on', () => {
  mock.timers.enable({ apis: ['setInterval'] });
  try {
    const lines: Array<Record<string, unknown>> = [];
    const logger = pino({ level: 'info' }, { write: (l: string) => void lines.push(JSON.parse(l) as Record<string, unknown>) });
    let fail = false;
    const trim = createHeapTrim({
      logger,
      sample: () => {
        if (fail) throw Object.assign(new Error('EMFILE: too many open files'), { code: 'EMFILE' });
        return at(100);
      },
      collect: () => {},
    });
    fail = true;
    trim.configure({ enabled: true, slackBytes: 32 * MiB, checkIntervalMs: 1000, minIntervalMs: 60_000 });
    mock.timers.tick(3000);
    trim.close();
    assert.equal(lines.filter((l) => l['event'] === 'heap_trim_check_failed').length, 1);
  } finally {
    mock.timers.reset();
  }
});

test('createHeapTrim: no collector -> one heap_trim_unavailable warning, no timer, stats say so', () => {
  const lines: Array<Record<string, unknown>> = [];
  const logger = pino({ level: 'info' }, { write: (l: string) => void lines.push(JSON.parse(l) as Record<string, unknown>) });
  const trim = createHeapTrim({ logger, sample: () => at(100), collect: null });
  trim.configure({ enabled: true, slackBytes: 32 * MiB, checkIntervalMs: 1000, minIntervalMs: 60_000 });
  trim.configure({ enabled: true, slackBytes: 32 * MiB, checkIntervalMs: 2000, minIntervalMs: 60_000 });
  trim.close();
  assert.equal(trim.stats().available, false);
  assert.equal(lines.filter((l) => l['event'] === 'heap_trim_unavailable').length, 1);
});

const child = fileURLToPath(new URL('../../support/memory-reducing-gc-child.js', import.meta.url));

for (const started of [[], ['--expose-gc']]) {
  test(`memoryReducingGc (${started.length ? 'started with --expose-gc' : 'no flag'}) returns pooled pages a regular full GC keeps, and leaves the flags as they were`, () => {
    const r = spawnSync(process.execPath, [...started, child], { encoding: 'utf8', timeout: 60_000 });
    assert.equal(r.status, 0, r.stderr);
    const m = JSON.parse(r.stdout) as { afterRegularMiB: number; afterTrimMiB: number; globalGc: string; contextGc: string };
    assert.ok(m.afterRegularMiB - m.afterTrimMiB > 50, `RssAnon after two regular GCs and 2 s ${m.afterRegularMiB} MiB, after the trim ${m.afterTrimMiB} MiB`);
    const expected = started.length ? 'function' : 'undefined';
    assert.equal(m.globalGc, expected, 'global gc as the process was started');
    assert.equal(m.contextGc, expected, 'a new context gets gc only if the process was started with it');
  });
}
