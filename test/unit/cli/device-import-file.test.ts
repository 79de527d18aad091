/** The devices import file: CSV with optional header and comments, JSON arrays, errors by line. */
import assert from 'node:assert/strict';
import { test } from 'node:test';
import { importFormat, parseDeviceImport } from '../../../gateway/src/cli/device-import-file.js';
import { isGatewayError } from '../../../gateway/src/errors.js';

function problems(fn: () => unknown): string[] {
  try {
    fn();
  } catch (err) {
    assert.ok(isGatewayError(err, 'GW_ERR_AUTH_IMPORT_INVALID'), String(err));
    return err.details!['problems'] as string[];
  }
  assert.fail('expected GW_ERR_AUTH_IMPORT_INVALID');
}

test('CSV: header, blank lines, comments, CRLF, BOM, quoted fields; empty secret means generate', () => {
  const text = '\uFEFFdeviceId,secret\r\n\r\n# warehouse\r\ndev-1\r\n"dev-2","quoted-secret-2"\r\ndev-3,\r\n dev-4 , spaced-secret-4 \r\n';
  assert.deepEqual(parseDeviceImport(text, 'csv'), [
    { deviceId: 'dev-1', secret: undefined, where: 'line 4' },
    { deviceId: 'dev-2', secret: 'quoted-secret-2', where: 'line 5' },
    { deviceId: 'dev-3', secret: undefined, where: 'line 6' },
    { deviceId: 'dev-4', secret: 'spaced-secret-4', where: 'line 7' },
  ]);
  assert.deepEqual(parseDeviceImport('deviceid\nd1\n', 'csv').map((r) => r.deviceId), ['d1'], 'header without secret column');
  assert.deepEqual(parseDeviceImport('d0\ndeviceId\n', 'csv').length, 2, 'only the first line can be the header ("deviceId" is an id elsewhere)');
});

test('CSV: every bad row is named by its line, in file order', () => {
  const found = problems(() => parseDeviceImport('deviceId,secret\ngood-1\na/b\nc,short\nd,x,y\ngood-1\n', 'csv'));
  assert.equal(found.length, 4);
  assert.match(found[0]!, /^line 3: device id "a\/b"/);
  assert.match(found[1]!, /^line 4: secret must be at least 12/);
  assert.match(found[2]!, /^line 5: expected deviceId\[,secret\], found 3 fields/);
  assert.match(found[3]!, /^line 6: good-1 already appears on line 2/);
});

test('JSON: array of {deviceId, secret?}; bad entries named by number; unknown keys refused', () => {
  assert.deepEqual(parseDeviceImport('[{"deviceId":"a"},{"deviceId":"b","secret":"json-secret-b"},{"deviceId":"c","secret":null}]', 'json'), [
    { deviceId: 'a', secret: undefined, where: 'entry 1' },
    { deviceId: 'b', secret: 'json-secret-b', where: 'entry 2' },
    { deviceId: 'c', secret: undefined, where: 'entry 3' },
  ]);
  const found = problems(() => parseDeviceImport('[{"deviceId":"a","pw":"x"}, 7, {"deviceId":5}, {"deviceId":"$x"}]', 'json'));
  assert.deepEqual(
    found.map((p) => p.split(':')[0]),
    ['entry 1', 'entry 2', 'entry 3', 'entry 4'],
  );
  assert.match(problems(() => parseDeviceImport('{"deviceId":"a"}', 'json'))[0]!, /expected a JSON array/);
  assert.match(problems(() => parseDeviceImport('[{', 'json'))[0]!, /not valid JSON/);
});

test('format from the name or the first character; an empty file is an error', () => {
  assert.equal(importFormat('x.JSON', 'a'), 'json');
  assert.equal(importFormat('-', '  [ {"deviceId":"a"} ]'), 'json');
  assert.equal(importFormat('devices.csv', 'deviceId\n'), 'csv');
  assert.throws(() => parseDeviceImport('deviceId,secret\n# nothing\n', 'csv'), /no devices/);
});
