/** The telemetry sink and the control room build their Kafka clients from the same settings. */
import assert from 'node:assert/strict';
import { test } from 'node:test';
import { kafkaClientOptions } from '../../../gateway/src/lib/kafka-client-options.js';

test('plaintext: brokers copied, timeouts mapped, no sasl or tls keys', () => {
  const brokers = ['a:9092', 'b:9092'] as const;
  const o = kafkaClientOptions({ brokers, clientId: 'gw', connectionTimeoutMs: 1000, requestTimeoutMs: 2000 });
  assert.deepEqual(o, { clientId: 'gw', bootstrapBrokers: ['a:9092', 'b:9092'], connectTimeout: 1000, requestTimeout: 2000 });
  assert.notEqual(o.bootstrapBrokers, brokers);
  assert.ok(!('sasl' in o) && !('tls' in o));
});

test('SASL mechanism names are mapped to the client\'s; TLS options are copied, not shared', () => {
  const tls = Object.freeze({ rejectUnauthorized: true, servername: 'kafka.example' });
  for (const [ours, theirs] of [['plain', 'PLAIN'], ['scram-sha-256', 'SCRAM-SHA-256'], ['scram-sha-512', 'SCRAM-SHA-512']] as const) {
    const o = kafkaClientOptions({
      brokers: ['k:9093'], clientId: 'gw', connectionTimeoutMs: 1, requestTimeoutMs: 1,
      sasl: { mechanism: ours, username: 'u', password: 'p' }, tls,
    });
    assert.deepEqual(o.sasl, { mechanism: theirs, username: 'u', password: 'p' });
    assert.deepEqual(o.tls, tls);
    assert.notEqual(o.tls, tls, 'the client may mutate its copy; the frozen config stays untouched');
  }
});
