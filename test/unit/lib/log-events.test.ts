/**
 * Log lines are an interface (operators filter them with jq, system tests wait for them), so:
 * - every logger call at info or above in gateway/src carries an `event` that is a snake_case
 *   string literal (found with the TypeScript checker: any receiver typed as pino's Logger or as
 *   RateLimitedLog, whatever the variable is called, including `log[level](...)`);
 * - an `err` field is never a string (pass the Error: pino's serializer keeps type, stack, code,
 *   cause; a message string keeps none of them);
 * - the logger's `err` serializer writes a GatewayError's code, message and cause into the JSON.
 * A fixture file with known violations is checked in the same program, so the scan is shown to
 * fail where it should, not only to pass.
 */
import assert from 'node:assert/strict';
import { mkdtempSync, readFileSync, rmSync, openSync, closeSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join, relative } from 'node:path';
import { test } from 'node:test';
import { fileURLToPath } from 'node:url';
import ts from 'typescript';
import { gatewayError } from '../../../gateway/src/errors.js';
import { createLogger } from '../../../gateway/src/lib/logger.js';
import { tsFiles } from '../../support/ts-files.js';
import { createRateLimitedLog } from '../../../gateway/src/lib/rate-limited-log.js';

// build/test/unit/lib/log-events.test.js -> repository root.
const ROOT = fileURLToPath(new URL('../../../../', import.meta.url));
const SRC = join(ROOT, 'gateway/src');
/** The helper that forwards its callers' fields; its callers are checked instead. */
const HELPERS = new Set(['lib/rate-limited-log.ts']);
const LEVELS_AT_INFO_OR_ABOVE = new Set(['info', 'warn', 'error', 'fatal']);
const EVENT_NAME = /^[a-z][a-z0-9]*(_[a-z0-9]+)*$/;

/** Not on disk: a source with known violations, type-checked in the same program as gateway/src. */
const FIXTURE = join(SRC, '__log_events_fixture__.ts');
const FIXTURE_TEXT = `
import type { Logger } from './lib/logger.js';
import type { RateLimitedLog } from './lib/rate-limited-log.js';
import { describeError } from './errors.js';
export function f(log: Logger, warnLog: RateLimitedLog, err: unknown, level: 'debug' | 'warn'): void {
  log.info({ ok: 1 }, 'no event');                                   // L6 violation
  log.warn('only a message');                                        // L7 violation
  log.error({ event: 'x_failed', err: describeError(err) }, 'str'); // L8 violation (err string)
  log.error({ event: 'Bad-Name' }, 'not snake_case');                // L9 violation
  warnLog.warn('key', { n: 1 }, 'rate-limited without event');       // L10 violation
  log[level]({ n: 1 }, 'maybe warn');                                // L11 violation
  const dynamic: string = 'x';
  log.info({ event: dynamic }, 'not a literal');                     // L13 violation
  log.debug({ n: 1 }, 'debug needs no event');
  log.error({ event: 'y_failed', err }, 'fine');
  warnLog.warn('key', { event: 'z_refused' }, 'fine', 'info');
  const fields = { event: 'w_down', code: 'GW_ERR_FORWARD_CONNECT' };
  log.warn(fields, 'fine');
}
`;

interface Finding {
  file: string;
  line: number;
  problem: string;
}

interface Scan {
  violations: Finding[];
  /** Calls at info or above that were checked, with their event names. */
  checked: Array<Finding & { events: string[] }>;
}

function scan(): Scan {
  const cfg = ts.readConfigFile(join(ROOT, 'tsconfig.json'), (p) => ts.sys.readFile(p));
  const parsed = ts.parseJsonConfigFileContent(cfg.config, ts.sys, ROOT);
  const options: ts.CompilerOptions = { ...parsed.options, noEmit: true, incremental: false, tsBuildInfoFile: undefined };
  const host = ts.createCompilerHost(options);
  const getSourceFile = host.getSourceFile.bind(host);
  host.getSourceFile = (name, lang, onError, create) => (name === FIXTURE ? ts.createSourceFile(name, FIXTURE_TEXT, lang) : getSourceFile(name, lang, onError, create));
  const fileExists = host.fileExists.bind(host);
  host.fileExists = (name) => name === FIXTURE || fileExists(name);
  const program = ts.createProgram([...tsFiles(SRC), FIXTURE], options, host);
  const checker = program.getTypeChecker();

  const hasProps = (t: ts.Type, names: string[]) => names.every((n) => t.getProperty(n) !== undefined);
  const kindOf = (expr: ts.Expression): 'logger' | 'rateLimited' | null => {
    const t = checker.getNonNullableType(checker.getTypeAtLocation(expr));
    if (hasProps(t, ['fatal', 'child', 'levels', 'bindings'])) return 'logger';
    if ((t.aliasSymbol ?? t.getSymbol())?.getName() === 'RateLimitedLog') return 'rateLimited';
    return null;
  };
  const literalStrings = (t: ts.Type): string[] | null => {
    const parts = t.isUnion() ? t.types : [t];
    const out: string[] = [];
    for (const p of parts) {
      if (!p.isStringLiteral()) return null;
      out.push(p.value);
    }
    return out;
  };

  const result: Scan = { violations: [], checked: [] };
  for (const sf of program.getSourceFiles()) {
    if (sf.isDeclarationFile || !sf.fileName.startsWith(SRC)) continue;
    const file = relative(SRC, sf.fileName);
    if (HELPERS.has(file)) continue;
    const visit = (node: ts.Node): void => {
      ts.forEachChild(node, visit);
      if (!ts.isCallExpression(node)) return;
      const callee = node.expression;
      let receiver: ts.Expression;
      let levels: string[] | null; // null: not known statically, treated as info or above
      if (ts.isPropertyAccessExpression(callee)) {
        receiver = callee.expression;
        levels = [callee.name.text];
      } else if (ts.isElementAccessExpression(callee)) {
        receiver = callee.expression;
        levels = literalStrings(checker.getTypeAtLocation(callee.argumentExpression));
      } else return;
      const kind = kindOf(receiver);
      if (kind === null) return;
      const line = sf.getLineAndCharacterOfPosition(node.getStart(sf)).line + 1;
      const at = (problem: string): void => void result.violations.push({ file, line, problem });
      let fieldsArg: ts.Expression | undefined;
      if (kind === 'rateLimited') {
        if (levels?.[0] !== 'warn') return; // `size`, not a log call
        fieldsArg = node.arguments[1];
      } else {
        if (levels !== null && !levels.some((l) => LEVELS_AT_INFO_OR_ABOVE.has(l))) return; // debug, child, flush ...
        fieldsArg = node.arguments[0];
      }
      if (fieldsArg === undefined) return at('no fields object');
      const fields = checker.getTypeAtLocation(fieldsArg);
      if (fields.flags & ts.TypeFlags.StringLike) return at('first argument is a message, not a fields object with an event');
      const eventProp = fields.getProperty('event');
      if (eventProp === undefined) return at('no `event` field');
      let events = literalStrings(checker.getTypeOfSymbolAtLocation(eventProp, fieldsArg));
      const decl = eventProp.valueDeclaration;
      if (events === null && decl && ts.isPropertyAssignment(decl) && ts.isStringLiteralLike(decl.initializer)) events = [decl.initializer.text];
      if (events === null) return at('`event` is not a string literal');
      for (const e of events) if (!EVENT_NAME.test(e)) at(`event "${e}" is not snake_case`);
      const errProp = fields.getProperty('err');
      if (errProp && checker.getTypeOfSymbolAtLocation(errProp, fieldsArg).flags & ts.TypeFlags.StringLike) at('`err` is a string: pass the Error object');
      result.checked.push({ file, line, problem: '', events });
    };
    visit(sf);
  }
  return result;
}

let scanned: Scan | undefined;
const scanOnce = (): Scan => (scanned ??= scan());

test('every logger call at info or above in gateway/src has a snake_case event literal and no string err', () => {
  const { violations, checked } = scanOnce();
  const found = violations.filter((v) => !v.file.startsWith('__')).map((v) => `${v.file}:${v.line}: ${v.problem}`);
  assert.deepEqual(found, []);
  const real = checked.filter((c) => !c.file.startsWith('__'));
  assert.ok(real.length >= 60, `scanned ${real.length} log calls at info or above`);
  const events = new Set(real.flatMap((c) => c.events));
  for (const e of ['starting', 'buffer_open', 'mqtt_listening', 'forward_start', 'kafka_down', 'kafka_up', 'stats', 'backpressure_on', 'config_applied', 'crash', 'shutdown_complete', 'publish_rejected']) {
    assert.ok(events.has(e), `the scan sees event ${e} (found ${events.size} events)`);
  }
});

test('the scan catches each kind of violation (fixture)', () => {
  const { violations } = scanOnce();
  const fixture = violations.filter((v) => v.file.startsWith('__')).map((v) => `${v.line}: ${v.problem}`);
  assert.deepEqual(fixture, [
    '6: no `event` field',
    '7: first argument is a message, not a fields object with an event',
    '8: `err` is a string: pass the Error object',
    '9: event "Bad-Name" is not snake_case',
    '10: no `event` field',
    '11: no `event` field',
    '13: `event` is not a string literal',
  ]);
});

/** A real logger (the production setup) writing synchronously to a temp file; returns its lines. */
function capture(run: (log: ReturnType<typeof createLogger>) => void): Array<Record<string, unknown>> {
  const dir = mkdtempSync(join(tmpdir(), 'eg-log-'));
  try {
    const path = join(dir, 'log.jsonl');
    const fd = openSync(path, 'w');
    const log = createLogger('info', { destinationFd: fd, sync: true });
    run(log);
    log.flush();
    closeSync(fd);
    return readFileSync(path, 'utf8')
      .split('\n')
      .filter((l) => l !== '')
      .map((l) => JSON.parse(l) as Record<string, unknown>);
  } finally {
    rmSync(dir, { recursive: true, force: true });
  }
}

test('an error logged under err comes out with its code, message, stack and cause', () => {
  const cause = Object.assign(new Error('connect ECONNREFUSED 127.0.0.1:9092'), { code: 'ECONNREFUSED' });
  const e = gatewayError('GW_ERR_FORWARD_CONNECT', 'broker-1', { cause, details: { broker: 'broker-1' } });
  const [line] = capture((log) => log.error({ event: 'x_failed', err: e }, 'it failed'));
  assert.equal(line!['event'], 'x_failed');
  assert.equal(line!['msg'], 'it failed');
  const err = line!['err'] as Record<string, unknown>;
  assert.equal(err['type'], 'GatewayError');
  assert.equal(err['code'], 'GW_ERR_FORWARD_CONNECT');
  assert.equal(err['message'], 'Kafka is unreachable: broker-1');
  assert.equal(err['canRetry'], true);
  assert.deepEqual(err['details'], { broker: 'broker-1' });
  assert.match(String(err['stack']), /^GatewayError: Kafka is unreachable/);
  const c = err['cause'] as Record<string, unknown>;
  assert.equal(c['message'], 'connect ECONNREFUSED 127.0.0.1:9092');
  assert.equal(c['code'], 'ECONNREFUSED', "the cause's own code survives");
});

test('a cause that is not an Error, and an err that is not an Error, are kept as they are', () => {
  const lines = capture((log) => {
    log.error({ event: 'a_failed', err: gatewayError('GW_ERR_BUFFER_WRITE', undefined, { cause: 'thrown string' }) }, 'a');
    log.error({ event: 'b_failed', err: 42 }, 'b');
  });
  const a = lines[0]!['err'] as Record<string, unknown>;
  assert.equal(a['code'], 'GW_ERR_BUFFER_WRITE');
  assert.equal(a['cause'], 'thrown string');
  assert.equal(lines[1]!['err'], 42);
});

test('rate-limited warnings go through the same serializer (event, err.code, suppressed)', () => {
  let now = 0;
  const lines = capture((log) => {
    const warn = createRateLimitedLog(log, 1000, { now: () => now });
    const e = gatewayError('GW_ERR_CONTROL_STORE', 'disk I/O error');
    warn.warn('k', { event: 'store_failed', err: e }, 'store failed');
    warn.warn('k', { event: 'store_failed', err: e }, 'store failed');
    now = 1000;
    warn.warn('k', { event: 'store_failed', err: e }, 'store failed');
  });
  assert.equal(lines.length, 2);
  assert.deepEqual(
    lines.map((l) => [l['event'], (l['err'] as Record<string, unknown>)['code'], l['suppressed']]),
    [
      ['store_failed', 'GW_ERR_CONTROL_STORE', undefined],
      ['store_failed', 'GW_ERR_CONTROL_STORE', 1],
    ],
  );
});
