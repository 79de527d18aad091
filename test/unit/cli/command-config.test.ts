/** --bootstrap-server and --command-config of the cloud-side tools: validated, fields named. */
import assert from 'node:assert/strict';
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { test } from 'node:test';
import { kafkaClientOptions } from '../../../gateway/src/cli/command-config.js';
import { isGatewayError } from '../../../gateway/src/errors.js';

function withFile(text: string, fn: (path: string) => void): void {
  const dir = mkdtempSync(join(tmpdir(), 'eg-command-config-'));
  try {
    const path = join(dir, 'client.yaml');
    writeFileSync(path, text);
    fn(path);
  } finally {
    rmSync(dir, { recursive: true, force: true });
  }
}

test('defaults without a file; brokers split on commas', () => {
  assert.deepEqual(kafkaClientOptions('k1:9092, k2:9093', undefined), {
    brokers: ['k1:9092', 'k2:9093'],
    clientId: 'edge-gateway-cli',
    connectTimeoutMs: 5000,
    requestTimeoutMs: 30_000,
    tls: undefined,
    sasl: undefined,
  });
});

test('--bootstrap-server is required and must be HOST:PORT', () => {
  for (const bad of [undefined, '', 'k1', 'k1:9092,', 'k1:port']) {
    assert.throws(() => kafkaClientOptions(bad, undefined), (e) => isGatewayError(e, 'GW_ERR_CLI_USAGE'), String(bad));
  }
});

test('the file takes the kafka section\'s sasl/tls/timeouts; unknown keys and bad values are named', () => {
  withFile('sasl: { mechanism: scram-sha-512, username: ops, password: s3cret }\nrequestTimeoutMs: 2000\n', (p) => {
    const o = kafkaClientOptions('k:1', p);
    assert.deepEqual(o.sasl, { mechanism: 'scram-sha-512', username: 'ops', password: 's3cret' });
    assert.equal(o.requestTimeoutMs, 2000);
  });
  withFile('brokers: [k:1]\n', (p) => assert.throws(() => kafkaClientOptions('k:1', p), (e) => isGatewayError(e, 'GW_ERR_CONFIG_INVALID') && /brokers/.test(e.message)));
  withFile('sasl: { mechanism: gssapi, username: a, password: b }\n', (p) =>
    assert.throws(() => kafkaClientOptions('k:1', p), (e) => isGatewayError(e, 'GW_ERR_CONFIG_INVALID') && /sasl\.mechanism/.test(e.message)),
  );
  withFile('tls: { enabled: true, caFile: /nonexistent/ca.pem }\n', (p) =>
    assert.throws(() => kafkaClientOptions('k:1', p), (e) => isGatewayError(e, 'GW_ERR_CONFIG_FILE_READ') && /tls\.caFile/.test(e.message)),
  );
});
