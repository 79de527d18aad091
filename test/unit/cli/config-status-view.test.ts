/** `config status` view: what counts as a status record, the table, the coarse age. */
import assert from 'node:assert/strict';
import { test } from 'node:test';
import { age, formatStatusTable, parseStatusRecord } from '../../../gateway/src/cli/config-status-view.js';
import { STATUS_KIND, type GatewayStatusRecord } from '../../../gateway/src/control/status-record.js';

const NOW = Date.UTC(2025, 5, 1, 12, 0, 0);
const record = (id: string): GatewayStatusRecord => ({
  kind: STATUS_KIND,
  schemaVersion: 1,
  gatewayId: id,
  at: new Date(NOW - 90_000).toISOString(),
  config: { version: 4, hash: '00', source: 'pushed', lastResult: { version: 5, state: 'rolled_back', code: 'GW_ERR_CONTROL_UNHEALTHY', at: new Date(NOW).toISOString() } },
  heartbeat: { uptimeSecs: 1, binaryVersion: '0.1.0', node: 'v20', devicesConnected: 3, buffer: { rows: 12, bytes: 1, oldestAgeMs: 5 }, kafka: { up: false, lastError: 'x' }, deadLetteredTotal: 0, droppedTotal: 0 },
});
const buf = (v: unknown) => Buffer.from(typeof v === 'string' ? v : JSON.stringify(v));

test('parseStatusRecord: a well-formed record under its own key; anything else named', () => {
  const r = record('gw-1');
  assert.deepEqual(parseStatusRecord('gw-1', buf(r)), { ok: true, record: r });
  const reasons = [
    parseStatusRecord('gw-1', buf('{oops')),
    parseStatusRecord('gw-1', buf({ ...r, kind: 'other' })),
    parseStatusRecord('gw-1', buf({ ...r, schemaVersion: 2 })),
    parseStatusRecord('gw-2', buf(r)),
    parseStatusRecord('gw-1', buf({ ...r, heartbeat: { ...r.heartbeat, buffer: null } })),
    parseStatusRecord('gw-1', buf([r])),
  ].map((p) => (p.ok ? 'accepted' : p.reason));
  assert.deepEqual(reasons, ['not JSON', `kind is not ${STATUS_KIND}`, 'schemaVersion 2 is not 1', 'gatewayId "gw-1" is not the record key', 'missing at, config or heartbeat', `kind is not ${STATUS_KIND}`]);
});

test('formatStatusTable: one aligned line per gateway; file config and no last result shown as such', () => {
  const fromFile: GatewayStatusRecord = { ...record('gw-22'), config: { version: null, hash: '00', source: 'file', lastResult: null } };
  const out = formatStatusTable([record('gw-1'), fromFile], NOW);
  assert.equal(
    out,
    'GATEWAY  CONFIG     LAST RESULT                              HEARTBEAT  DEVICES  BUFFER ROWS  KAFKA\n' +
      'gw-1     v4 pushed  rolled_back v5 GW_ERR_CONTROL_UNHEALTHY  90s ago    3        12           down\n' +
      'gw-22    file       -                                        90s ago    3        12           down\n',
  );
});

test('age: seconds up to 2 min, then minutes, hours, days; future clamps to 0; unparseable is ?', () => {
  assert.deepEqual([0, 119_999, 120_000, 7_199_999, 7_200_000, 172_800_000, -5_000, Number.NaN].map(age), ['0s ago', '119s ago', '2m ago', '119m ago', '2h ago', '2d ago', '0s ago', '?']);
});
