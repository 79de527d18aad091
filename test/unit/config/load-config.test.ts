/**
 * Config loading: defaults, strict schema (unknown keys and wrong types name the dotted field),
 * env overrides, cross-field rules, deep freeze, and real YAML/JSON files on disk.
 */
import assert from 'node:assert/strict';
import { generateKeyPairSync } from 'node:crypto';
import { writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { test } from 'node:test';
import { loadConfig, readConfigFile, validateConfig } from '../../../gateway/src/config/load-config.js';
import { applyEnvOverrides, asNumber } from '../../../gateway/src/config/env-overrides.js';
import { effectiveListeners } from '../../../gateway/src/config/mqtt-schema.js';
import { allowsAnonymous } from '../../../gateway/src/config/mqtt-listener-schema.js';
import { GatewayError, isGatewayError } from '../../../gateway/src/errors.js';
import { tempDir } from '../../support/temp-dir.js';

/** Runs `fn`, asserts it throws a GatewayError with `code`, and returns it for further checks. */
function catchGatewayError(fn: () => unknown, code: string): GatewayError {
  let caught: unknown;
  try {
    fn();
  } catch (err) {
    caught = err;
  }
  assert.ok(caught instanceof GatewayError, `expected a GatewayError, got ${String(caught)}`);
  assert.equal(caught.code, code);
  return caught;
}

test('no file and no env: every documented default', () => {
  const cfg = loadConfig({ env: {} });
  // mosquitto 2.x habit: with no listener configured, only this machine can connect.
  assert.deepEqual(effectiveListeners(cfg.mqtt), [{ host: '127.0.0.1', port: 1883 }]);
  assert.equal(cfg.mqtt.unrouted, 'reject');
  assert.equal(cfg.mqtt.sysTopics, false);
  assert.deepEqual(cfg.mqtt.routes, [{ topic: 'devices/{deviceId}/telemetry', unknownFields: 'drop' }]);
  assert.equal(cfg.buffer.path, './data/buffer.db');
  assert.equal(cfg.buffer.synchronous, 'FULL');
  assert.equal(cfg.buffer.overflowPolicy, 'block');
  assert.deepEqual(cfg.kafka.brokers, ['127.0.0.1:9092']);
  assert.equal(cfg.kafka.topic, 'telemetry.raw');
  assert.equal(cfg.kafka.dlqTopic, 'telemetry.dlq');
  assert.equal(cfg.log.level, 'info');
  assert.equal(cfg.mqtt.maxClientIdLength, 128);
  assert.equal(cfg.forward.shutdownGraceMs, 10_000);
  assert.ok(cfg.gatewayId.length > 0, 'gatewayId defaults to the hostname');
});

test('unknown nested key: GW_ERR_CONFIG_INVALID naming the full dotted path', () => {
  const err = catchGatewayError(() => validateConfig({ mqtt: { bogus: 1 } }), 'GW_ERR_CONFIG_INVALID');
  assert.match(err.message, /mqtt\.bogus/);
  assert.equal(err.canRetry, false);

  const deep = catchGatewayError(() => validateConfig({ mqtt: { routes: [{ topic: 'd/{deviceId}', extra: true }] } }), 'GW_ERR_CONFIG_INVALID');
  assert.match(deep.message, /mqtt\.routes\.0\.extra/);

  const root = catchGatewayError(() => validateConfig({ nope: 1 }), 'GW_ERR_CONFIG_INVALID');
  assert.match(root.message, /nope/);
});

test('wrong type names the field', () => {
  const err = catchGatewayError(() => validateConfig({ kafka: { batchMaxRecords: 'many' } }), 'GW_ERR_CONFIG_INVALID');
  assert.match(err.message, /kafka\.batchMaxRecords/);
  const problems = err.details?.['problems'];
  assert.ok(Array.isArray(problems) && problems.length === 1, 'one problem listed in details');

  const enumErr = catchGatewayError(() => validateConfig({ buffer: { synchronous: 'OFF' } }), 'GW_ERR_CONFIG_INVALID');
  assert.match(enumErr.message, /buffer\.synchronous/);
});

test('env overrides: broker list is split and trimmed, other keys untouched', () => {
  const cfg = loadConfig({ env: { GATEWAY_KAFKA_BROKERS: 'a:1, b:2', GATEWAY_MQTT_PORT: '1999', GATEWAY_BUFFER_SYNCHRONOUS: 'NORMAL' } });
  assert.deepEqual(cfg.kafka.brokers, ['a:1', 'b:2']);
  assert.equal(cfg.mqtt.port, 1999);
  assert.equal(cfg.buffer.synchronous, 'NORMAL');
  assert.equal(cfg.kafka.topic, 'telemetry.raw');
});

test('env override that is not a number: error names mqtt.port', () => {
  const err = catchGatewayError(() => loadConfig({ env: { GATEWAY_MQTT_PORT: 'abc' } }), 'GW_ERR_CONFIG_INVALID');
  assert.match(err.message, /mqtt\.port/);
});

test('a command-line override wins over file and env and is validated like them (run --shutdown-grace-ms)', (t) => {
  const path = join(tempDir(t), 'gw.yaml');
  writeFileSync(path, 'forward:\n  shutdownGraceMs: 5000\n');
  assert.equal(loadConfig({ path, env: {} }).forward.shutdownGraceMs, 5000);
  const grace = (value: string) => [{ path: ['forward', 'shutdownGraceMs'], value: asNumber(value) }];
  assert.equal(loadConfig({ path, env: {}, overrides: grace('2500') }).forward.shutdownGraceMs, 2500);
  for (const bad of ['abc', '', '-1', '1.5']) {
    const err = catchGatewayError(() => loadConfig({ path, env: {}, overrides: grace(bad) }), 'GW_ERR_CONFIG_INVALID');
    assert.match(err.message, /forward\.shutdownGraceMs/, `"${bad}" is refused naming the field`);
  }
});

test('mqtt.maxClientIdLength: at least the 23 characters MQTT 3.1 allows', () => {
  assert.equal(validateConfig({ mqtt: { maxClientIdLength: 23 } }).mqtt.maxClientIdLength, 23);
  const err = catchGatewayError(() => validateConfig({ mqtt: { maxClientIdLength: 22 } }), 'GW_ERR_CONFIG_INVALID');
  assert.match(err.message, /mqtt\.maxClientIdLength/);
});

test('env overrides win over the file and do not mutate the parsed file object', () => {
  const raw = { kafka: { topic: 'from-file', clientId: 'c1' } };
  const merged = applyEnvOverrides(raw, { GATEWAY_KAFKA_TOPIC: 'from-env' }) as typeof raw;
  assert.equal(merged.kafka.topic, 'from-env');
  assert.equal(merged.kafka.clientId, 'c1');
  assert.equal(raw.kafka.topic, 'from-file');
});

test('SASL password from env merges into the file section; alone it names the missing fields', () => {
  const merged = validateConfig(applyEnvOverrides({ kafka: { sasl: { mechanism: 'plain', username: 'gw' } } }, { GATEWAY_KAFKA_SASL_PASSWORD: 's3cret' }));
  assert.deepEqual(merged.kafka.sasl, { mechanism: 'plain', username: 'gw', password: 's3cret' });
  const err = catchGatewayError(() => loadConfig({ env: { GATEWAY_KAFKA_SASL_PASSWORD: 's3cret' } }), 'GW_ERR_CONFIG_INVALID');
  assert.match(err.message, /kafka\.sasl\.mechanism/);
  assert.match(err.message, /kafka\.sasl\.username/);
  assert.doesNotMatch(err.message, /s3cret/, 'the secret is not echoed into the error');
});

test('lowWatermark >= highWatermark is rejected', () => {
  const equal = catchGatewayError(() => validateConfig({ buffer: { lowWatermark: 0.7, highWatermark: 0.7 } }), 'GW_ERR_CONFIG_INVALID');
  assert.match(equal.message, /buffer\.lowWatermark/);
  catchGatewayError(() => validateConfig({ buffer: { lowWatermark: 0.95 } }), 'GW_ERR_CONFIG_INVALID');
  const ok = validateConfig({ buffer: { lowWatermark: 0.5, highWatermark: 0.6 } });
  assert.equal(ok.buffer.lowWatermark, 0.5);
});

test('route without exactly one {deviceId} level, or with wildcards, is rejected', () => {
  const none = catchGatewayError(() => validateConfig({ mqtt: { routes: [{ topic: 'devices/telemetry' }] } }), 'GW_ERR_CONFIG_INVALID');
  assert.match(none.message, /mqtt\.routes\.0\.topic/);
  const partial = catchGatewayError(() => validateConfig({ mqtt: { routes: [{ topic: 'dev-{deviceId}/t' }] } }), 'GW_ERR_CONFIG_INVALID');
  assert.match(partial.message, /mqtt\.routes\.0\.topic/);
  const wild = catchGatewayError(() => validateConfig({ mqtt: { routes: [{ topic: 'd/{deviceId}/+' }] } }), 'GW_ERR_CONFIG_INVALID');
  assert.match(wild.message, /wildcards/);
});

test('returned config is deeply frozen', () => {
  const cfg = loadConfig({ env: {} });
  assert.ok(Object.isFrozen(cfg));
  assert.ok(Object.isFrozen(cfg.mqtt));
  assert.ok(Object.isFrozen(cfg.mqtt.routes));
  assert.ok(Object.isFrozen(cfg.mqtt.routes[0]));
  assert.ok(Object.isFrozen(cfg.kafka.brokers));
  assert.throws(() => {
    (cfg.mqtt as { unrouted: string }).unrouted = 'local';
  }, TypeError);
  assert.throws(() => {
    (cfg.kafka.brokers as string[]).push('x:1');
  }, TypeError);
  assert.equal(cfg.mqtt.unrouted, 'reject');
});

test('YAML file loads, env still applies on top', (t) => {
  const dir = tempDir(t);
  const path = join(dir, 'gateway.yaml');
  writeFileSync(
    path,
    ['gatewayId: gw-yaml', 'mqtt:', '  port: 2883', '  routes:', '    - topic: site/{deviceId}/data', '      kafkaTopic: site.data', 'kafka:', '  brokers: [k1:9092]', ''].join('\n'),
  );
  const cfg = loadConfig({ path, env: { GATEWAY_KAFKA_TOPIC: 'env.topic' } });
  assert.equal(cfg.gatewayId, 'gw-yaml');
  assert.equal(cfg.mqtt.port, 2883);
  assert.deepEqual(cfg.mqtt.routes, [{ topic: 'site/{deviceId}/data', kafkaTopic: 'site.data', unknownFields: 'drop' }]);
  assert.deepEqual(cfg.kafka.brokers, ['k1:9092']);
  assert.equal(cfg.kafka.topic, 'env.topic');
  assert.equal(cfg.buffer.path, './data/buffer.db');
});

test('JSON file loads; errors name the file', (t) => {
  const dir = tempDir(t);
  const path = join(dir, 'gateway.json');
  writeFileSync(path, JSON.stringify({ gatewayId: 'gw-json', buffer: { path: '/var/lib/gw/b.db', synchronous: 'EXTRA' } }));
  const cfg = loadConfig({ path, env: {} });
  assert.equal(cfg.gatewayId, 'gw-json');
  assert.equal(cfg.buffer.path, '/var/lib/gw/b.db');
  assert.equal(cfg.buffer.synchronous, 'EXTRA');

  const bad = join(dir, 'bad.json');
  writeFileSync(bad, JSON.stringify({ kafka: { brokers: ['no-port'] } }));
  const err = catchGatewayError(() => loadConfig({ path: bad, env: {} }), 'GW_ERR_CONFIG_INVALID');
  assert.match(err.message, /bad\.json/);
  assert.match(err.message, /kafka\.brokers\.0/);
});

test('empty file means defaults', (t) => {
  const path = join(tempDir(t), 'empty.yaml');
  writeFileSync(path, '');
  assert.deepEqual(effectiveListeners(loadConfig({ path, env: {} }).mqtt), [{ host: '127.0.0.1', port: 1883 }]);
});

test('listeners: host/port and listeners are exclusive; TLS needs caFile for device certificates', () => {
  const both = catchGatewayError(() => validateConfig({ mqtt: { port: 1884, listeners: [{ port: 1885 }] } }), 'GW_ERR_CONFIG_INVALID');
  assert.match(both.message, /mqtt\.listeners: set either/);
  const noCa = catchGatewayError(
    () => validateConfig({ mqtt: { listeners: [{ host: '0.0.0.0', port: 8883, tls: { certFile: 'c.pem', keyFile: 'k.pem', clientCert: 'require' } }] } }),
    'GW_ERR_CONFIG_INVALID',
  );
  assert.match(noCa.message, /mqtt\.listeners\.0\.tls\.caFile/);
  const cfg = validateConfig({ mqtt: { listeners: [{ host: '0.0.0.0', port: 8883 }, { port: 1883 }] } });
  assert.deepEqual(
    effectiveListeners(cfg.mqtt).map((l) => [l.host, l.port, allowsAnonymous(l)]),
    [
      ['0.0.0.0', 8883, false],
      ['127.0.0.1', 1883, true],
    ],
  );
  const unknown = catchGatewayError(() => validateConfig({ mqtt: { acl: [{ topic: '#', access: 'all' }] } }), 'GW_ERR_CONFIG_INVALID');
  assert.match(unknown.message, /mqtt\.acl\.0\.access/);
});

test('missing file -> GW_ERR_CONFIG_READ; unparsable file -> GW_ERR_CONFIG_PARSE, both keep cause', (t) => {
  const dir = tempDir(t);
  const missing = catchGatewayError(() => readConfigFile(join(dir, 'absent.yaml')), 'GW_ERR_CONFIG_READ');
  assert.match(missing.message, /absent\.yaml/);
  assert.ok(missing.cause instanceof Error);

  const broken = join(dir, 'broken.yaml');
  writeFileSync(broken, 'mqtt: [unclosed\n  port: : :\n');
  const parse = catchGatewayError(() => loadConfig({ path: broken, env: {} }), 'GW_ERR_CONFIG_PARSE');
  assert.ok(parse.cause instanceof Error);
});

test('a file that is not a mapping is rejected', (t) => {
  const path = join(tempDir(t), 'list.yaml');
  writeFileSync(path, '- 1\n- 2\n');
  const err = catchGatewayError(() => loadConfig({ path, env: {} }), 'GW_ERR_CONFIG_INVALID');
  assert.match(err.message, /\(root\)/);
});

test(
  'a file that is not a mapping is rejected even when an env override is set',
  (t) => {
    const path = join(tempDir(t), 'list.yaml');
    writeFileSync(path, '- 1\n- 2\n');
    let thrown: unknown = null;
    try {
      loadConfig({ path, env: { GATEWAY_ID: 'gw1' } });
    } catch (err) {
      thrown = err;
    }
    assert.ok(isGatewayError(thrown, 'GW_ERR_CONFIG_INVALID'), 'config file content must not be dropped silently');
  },
);

test('control.trustedKeys: a public key that is not Ed25519 PEM is refused, naming the field', () => {
  const rsa = generateKeyPairSync('rsa', { modulusLength: 1024 }).publicKey.export({ type: 'spki', format: 'pem' }).toString();
  const ed = generateKeyPairSync('ed25519').publicKey.export({ type: 'spki', format: 'pem' }).toString();
  const err = catchGatewayError(() => validateConfig({ control: { trustedKeys: [{ kid: 'a', publicKey: rsa }] } }), 'GW_ERR_CONFIG_INVALID');
  assert.match(err.message, /control\.trustedKeys\.0\.publicKey: must be an Ed25519 public key/);
  catchGatewayError(() => validateConfig({ control: { trustedKeys: [{ kid: 'a', publicKey: '-----BEGIN PUBLIC KEY-----\nnope\n-----END PUBLIC KEY-----' }] } }), 'GW_ERR_CONFIG_INVALID');
  assert.equal(validateConfig({ control: { trustedKeys: [{ kid: 'a', publicKey: ed }], remoteConfig: { enabled: true } } }).control.trustedKeys.length, 1);
  catchGatewayError(() => validateConfig({ control: { remoteConfig: { enabled: true } } }), 'GW_ERR_CONFIG_INVALID');
});

test('kafka.compression: none, gzip, snappy, lz4 and zstd (node:zlib has zstd on Node 24); nothing else', () => {
  for (const c of ['none', 'gzip', 'snappy', 'lz4', 'zstd'] as const) assert.equal(validateConfig({ kafka: { compression: c } }).kafka.compression, c);
  assert.equal(validateConfig({}).kafka.compression, 'gzip', 'default unchanged');
  catchGatewayError(() => validateConfig({ kafka: { compression: 'brotli' } }), 'GW_ERR_CONFIG_INVALID');
});
