/**
 * Proves the gateway forwards to Kafka over TLS the way an operator configures it: against a
 * real broker with two SSL listeners made from a PKI generated here with `openssl`,
 *   - a custom CA file plus `serverName` (a DNS name only the broker certificate carries)
 *     verifies the broker, and every acknowledged record is read back and decoded;
 *   - mutual TLS (ssl.client.auth=required) works with the client certificate and its
 *     passphrase-encrypted key (passphrase from the env var), and the auditor reads the topic
 *     back over the same mTLS listener with the same options;
 *   - without the client certificate the broker refuses: kafka_down GW_ERR_FORWARD_TLS, devices
 *     still PUBACKed, and after a restart with the certificate every record arrives;
 *   - a CA that did not sign the broker, and a serverName the certificate does not carry, give
 *     kafka_down GW_ERR_FORWARD_TLS with the TLS reason (no crash, the gateway keeps running).
 */
import { after, before, test } from 'node:test';
import assert from 'node:assert/strict';
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { runSimulation } from '../../firmware-sim/src/load-generator.js';
import { readTlsClientOptions } from '../../gateway/src/config/tls-files.js';
import { startKafka, type KafkaBroker } from '../kafka/kafka-harness.js';
import { BROKER_DNS_NAME, createTestPki, type TestPki } from '../kafka/test-pki.js';
import { GatewayProcess } from '../support/gateway-process.js';
import { uniqueTopics } from '../support/topics.js';
import { auditTopic } from '../support/audit.js';

let kafka: KafkaBroker;
let pki: TestPki;
const pkiDir = mkdtempSync(join(tmpdir(), 'eg-pki-'));

before(async () => {
  pki = await createTestPki(pkiDir);
  kafka = await startKafka({ tls: { keystoreFile: pki.brokerKeystore, truststoreFile: pki.caCert } });
});
after(async () => {
  await kafka?.close();
  rmSync(pkiDir, { recursive: true, force: true });
});

/** Kafka settings shared by every gateway here: short timeouts so a refusal shows quickly. */
function kafkaConfig(brokers: string, topic: string, dlqTopic: string, tls: Record<string, unknown>): Record<string, unknown> {
  return { brokers: [brokers], topic, dlqTopic, connectionTimeoutMs: 3000, retryInitialMs: 200, retryMaxMs: 1000, tls: { enabled: true, ...tls } };
}

test('custom CA + serverName: records forwarded over TLS and read back', { timeout: 120_000 }, async (t) => {
  const { topic, dlqTopic } = uniqueTopics('tls');
  await kafka.createTopics([topic, dlqTopic], 3);
  const gw = new GatewayProcess({
    config: { gatewayId: 'gw-tls', kafka: kafkaConfig(kafka.sslBootstrap!, topic, dlqTopic, { caFile: pki.caCert, serverName: BROKER_DNS_NAME }) },
  });
  t.after(() => gw.close());
  await gw.start();
  const sim = await runSimulation({ url: gw.url, devices: 10, qos: 1, messagesPerDevice: 20 });
  assert.equal(sim.acked, 200);
  const report = await auditTopic({ brokers: kafka.brokers, topic, dlqTopic, sim, timeoutMs: 60_000 });
  t.diagnostic(`audit: records ${report.records}, gaps ${report.gaps}, duplicates ${report.duplicates}`);
  assert.equal(report.records, 200);
  assert.equal(report.missingAcked, 0);
  assert.equal(report.ok, true);
  assert.equal(gw.logs.some((l) => l.event === 'kafka_down'), false, 'the TLS connection never failed');
  const start = gw.logs.find((l) => l.event === 'forward_start');
  assert.equal(start?.['tls'], true, 'the start line says TLS is on');
});

test('mTLS: client certificate with an encrypted key (passphrase from env) forwards; the auditor reads over mTLS too', { timeout: 120_000 }, async (t) => {
  const { topic, dlqTopic } = uniqueTopics('mtls');
  await kafka.createTopics([topic, dlqTopic], 3);
  const tls = { caFile: pki.caCert, certFile: pki.clientCert, keyFile: pki.clientKeyEncrypted };
  const gw = new GatewayProcess({
    config: { gatewayId: 'gw-mtls', kafka: kafkaConfig(kafka.mtlsBootstrap!, topic, dlqTopic, tls) },
    env: { GATEWAY_KAFKA_TLS_KEY_PASSPHRASE: pki.clientKeyPassphrase },
  });
  t.after(() => gw.close());
  await gw.start();
  const sim = await runSimulation({ url: gw.url, devices: 5, qos: 1, messagesPerDevice: 20 });
  assert.equal(sim.acked, 100);
  const clientTls = readTlsClientOptions('kafka.tls', { ...tls, keyPassphrase: pki.clientKeyPassphrase, rejectUnauthorized: true });
  const report = await auditTopic({ brokers: [kafka.mtlsBootstrap!], tls: clientTls, topic, dlqTopic, sim, timeoutMs: 60_000 });
  assert.equal(report.records, 100);
  assert.equal(report.missingAcked, 0);
  assert.equal(report.ok, true);
  assert.equal(gw.logs.some((l) => l.event === 'kafka_down'), false);
});

test('mTLS without a client certificate: kafka_down GW_ERR_FORWARD_TLS, devices acked, delivered after a restart with the certificate', { timeout: 120_000 }, async (t) => {
  const { topic, dlqTopic } = uniqueTopics('mtls-nocert');
  await kafka.createTopics([topic, dlqTopic], 3);
  const noCert = new GatewayProcess({
    config: { gatewayId: 'gw-nocert', kafka: kafkaConfig(kafka.mtlsBootstrap!, topic, dlqTopic, { caFile: pki.caCert }) },
  });
  t.after(() => noCert.close());
  await noCert.start();
  const down = await noCert.waitForEvent('kafka_down', 30_000);
  t.diagnostic(`kafka_down: ${String(down['code'])}: ${String(down['reason'])}`);
  assert.equal(down['code'], 'GW_ERR_FORWARD_TLS');
  const sim = await runSimulation({ url: noCert.url, devices: 5, qos: 1, messagesPerDevice: 20 });
  assert.equal(sim.acked, 100, 'devices are served while Kafka refuses the handshake');
  assert.equal(noCert.logs.some((l) => l.event === 'kafka_up'), false, 'nothing got through without a certificate');
  assert.equal(await noCert.stop(), 0, 'a clean exit: the refusal never crashed the process');

  const withCert = new GatewayProcess({
    dir: noCert.dir,
    config: {
      gatewayId: 'gw-nocert',
      kafka: kafkaConfig(kafka.mtlsBootstrap!, topic, dlqTopic, { caFile: pki.caCert, certFile: pki.clientCert, keyFile: pki.clientKey }),
    },
  });
  t.after(() => withCert.close());
  await withCert.start();
  const up = await withCert.waitForEvent('kafka_up', 30_000);
  assert.equal(up['bufferedRows'], 100, 'the refused records waited on disk');
  const report = await auditTopic({ brokers: kafka.brokers, topic, dlqTopic, sim, timeoutMs: 60_000 });
  assert.equal(report.records, 100);
  assert.equal(report.missingAcked, 0);
  assert.equal(report.duplicates, 0);
  assert.equal(report.ok, true);
});

test('wrong CA or wrong serverName: kafka_down GW_ERR_FORWARD_TLS naming the certificate problem', { timeout: 120_000 }, async (t) => {
  const { topic, dlqTopic } = uniqueTopics('tls-wrong');
  await kafka.createTopics([topic, dlqTopic], 3);
  const cases = [
    { name: 'other CA', tls: { caFile: pki.otherCaCert }, reason: /UNABLE_TO_VERIFY_LEAF_SIGNATURE|UNABLE_TO_GET_ISSUER_CERT|SELF_SIGNED|certificate/i },
    { name: 'serverName not in the certificate', tls: { caFile: pki.caCert, serverName: 'not-the-broker.edge.test' }, reason: /ERR_TLS_CERT_ALTNAME_INVALID|altnames/i },
  ];
  for (const c of cases) {
    const gw = new GatewayProcess({ config: { gatewayId: 'gw-wrong', kafka: kafkaConfig(kafka.sslBootstrap!, topic, dlqTopic, c.tls) } });
    t.after(() => gw.close());
    await gw.start();
    const down = await gw.waitForEvent('kafka_down', 30_000);
    t.diagnostic(`${c.name}: ${String(down['code'])}: ${String(down['reason'])}`);
    assert.equal(down['code'], 'GW_ERR_FORWARD_TLS', c.name);
    assert.match(String(down['reason']), c.reason, c.name);
    const sim = await runSimulation({ url: gw.url, devices: 2, qos: 1, messagesPerDevice: 5 });
    assert.equal(sim.acked, 10, `${c.name}: devices still acked`);
    assert.equal(gw.running, true, `${c.name}: still running`);
    assert.equal(await gw.stop(), 0, `${c.name}: clean exit`);
  }
});
