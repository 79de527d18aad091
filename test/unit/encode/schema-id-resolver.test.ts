/**
 * Schema id resolver with a scripted registry: cached ids are usable before the registry answers
 * (boot without uplink), missing ones are retried until it does, refusals are reported with their
 * code and never turn into an id, and a changed id replaces the cached one.
 */
import assert from 'node:assert/strict';
import { test } from 'node:test';
import pino from 'pino';
import { gatewayError } from '../../../gateway/src/errors.js';
import type { RegistryClient, RegistryResult } from '../../../gateway/src/encode/registry-client.js';
import { createSchemaIdResolver, schemaHash } from '../../../gateway/src/encode/schema-id-resolver.js';
import type { SchemaIdStore, StoredSchemaId } from '../../../gateway/src/encode/schema-id-store.js';

const logger = pino({ level: 'silent' });
const A = { subject: 'telemetry.raw-value', schema: '{"type":"record","name":"A","fields":[]}' };
const B = { subject: 'readings-value', schema: '{"type":"record","name":"B","fields":[]}' };

function memoryStore(initial: StoredSchemaId[] = []): SchemaIdStore & { rows: StoredSchemaId[] } {
  const rows = [...initial];
  return {
    rows,
    load: () => [...rows],
    save: (_r, e) => {
      const i = rows.findIndex((x) => x.subject === e.subject && x.schemaHash === e.schemaHash);
      if (i >= 0) rows[i] = e;
      else rows.push(e);
    },
  };
}

function scriptedClient(answer: (subject: string) => RegistryResult<number>): RegistryClient & { calls: string[] } {
  const calls: string[] = [];
  const reply = async (subject: string) => {
    calls.push(subject);
    return answer(subject);
  };
  return {
    calls,
    displayUrl: 'http://registry:8081',
    register: reply,
    lookup: reply,
    compatibility: async () => ({ ok: true, value: { compatible: true, messages: [] } }),
    schemaById: async () => ({ ok: false, error: gatewayError('GW_ERR_REGISTRY_REFUSED') }),
    close: () => undefined,
  };
}

const until = async (cond: () => boolean, ms = 5000) => {
  const end = Date.now() + ms;
  while (!cond()) {
    if (Date.now() > end) throw new Error('condition not met');
    await new Promise((r) => setTimeout(r, 10));
  }
};

test('a cached id is usable at once while the registry is down; a missing one waits, then resolves and is cached', async () => {
  let up = false;
  const store = memoryStore([{ subject: A.subject, schemaHash: schemaHash(A.schema), id: 11 }]);
  const client = scriptedClient((s) => (up ? { ok: true, value: s === A.subject ? 11 : 12 } : { ok: false, error: gatewayError('GW_ERR_REGISTRY_UNREACHABLE', 'connect ECONNREFUSED') }));
  let resolved = 0;
  const r = createSchemaIdResolver({ client, store, autoRegister: true, retryMaxMs: 200, logger, onResolved: () => resolved++ });
  r.want([A, B]);
  assert.equal(r.idOf(A), 11, 'cached id before any answer');
  assert.equal(r.idOf(B), null);
  await until(() => client.calls.length >= 4);
  assert.equal(r.problem(B)?.code, 'GW_ERR_REGISTRY_UNREACHABLE');
  assert.match(r.problem(B)!.reason, /ECONNREFUSED/);
  assert.deepEqual(r.pending().map((p) => p.subject), [B.subject]);
  up = true;
  await until(() => r.idOf(B) !== null);
  assert.equal(r.idOf(B), 12);
  assert.ok(resolved >= 1);
  assert.deepEqual(store.rows.find((x) => x.subject === B.subject), { subject: B.subject, schemaHash: schemaHash(B.schema), id: 12 });
  const callsAfter = client.calls.length;
  await new Promise((res) => setTimeout(res, 300));
  assert.equal(client.calls.length, callsAfter, 'nothing is asked again once every id is confirmed');
  r.close();
});

test('an incompatible schema never gets an id and says why; the registry is asked again later', async () => {
  const client = scriptedClient(() => ({ ok: false, error: gatewayError('GW_ERR_REGISTRY_INCOMPATIBLE', 'HTTP 409 incompatible') }));
  const r = createSchemaIdResolver({ client, store: memoryStore(), autoRegister: true, retryMaxMs: 100, logger });
  r.want([B]);
  await until(() => client.calls.length >= 3);
  assert.equal(r.idOf(B), null);
  assert.equal(r.problem(B)?.code, 'GW_ERR_REGISTRY_INCOMPATIBLE');
  assert.match(r.problem(B)!.reason, /HTTP 409 incompatible/);
  r.close();
  const n = client.calls.length;
  await new Promise((res) => setTimeout(res, 250));
  assert.equal(client.calls.length, n, 'close stops the retries');
});

test('a registry that answers another id than the cached one wins (and the cache follows)', async () => {
  const store = memoryStore([{ subject: A.subject, schemaHash: schemaHash(A.schema), id: 5 }]);
  const r = createSchemaIdResolver({ client: scriptedClient(() => ({ ok: true, value: 6 })), store, autoRegister: false, retryMaxMs: 100, logger });
  r.want([A]);
  assert.equal(r.idOf(A), 5);
  await until(() => r.idOf(A) === 6);
  assert.equal(store.rows[0]!.id, 6);
  r.close();
});

test('want() replaces the set: schemas no longer configured are forgotten, new ones resolved', async () => {
  const r = createSchemaIdResolver({ client: scriptedClient((s) => ({ ok: true, value: s === A.subject ? 1 : 2 })), store: memoryStore(), autoRegister: true, retryMaxMs: 100, logger });
  r.want([A]);
  await until(() => r.idOf(A) === 1);
  r.want([B]);
  assert.equal(r.idOf(A), null);
  await until(() => r.idOf(B) === 2);
  r.close();
});

test('an encoder already writing a cached id switches to the id the registry answers (a stale or poisoned cache is not used forever)', async () => {
  const { createAvroEncoder } = await import('../../../gateway/src/encode/avro-encoder.js');
  const { readSchemaId } = await import('../../../gateway/src/encode/registry-subject.js');
  let answer = false;
  const client = scriptedClient(() => (answer ? { ok: true, value: 6 } : { ok: false, error: gatewayError('GW_ERR_REGISTRY_UNREACHABLE', 'down') }));
  const mk = (ids: Parameters<typeof createAvroEncoder>[0]['registry']) => createAvroEncoder({ gatewayId: 'gw', defaultTopic: 'telemetry.raw', routes: [{ topic: 'devices/{deviceId}/telemetry' }], registry: ids });
  const refs = mk({ ids: { idOf: () => null, problem: () => null }, strategy: 'topic', dlqTopic: 'telemetry.dlq' }).schemaRefs();
  // The buffer database holds id 5 for every schema (another registry's, or a registry reset since).
  const store = memoryStore(refs.map((r) => ({ subject: r.subject, schemaHash: schemaHash(r.schema), id: 5 })));
  const r = createSchemaIdResolver({ client, store, autoRegister: true, retryMaxMs: 100, logger });
  const enc = mk({ ids: r, strategy: 'topic', dlqTopic: 'telemetry.dlq' });
  r.want(enc.schemaRefs());
  const record = { deviceId: 'd', topic: 'devices/d/telemetry', qos: 1 as const, receivedAt: 1, payload: Buffer.from('{}'), seq: 1 };
  const idWritten = () => {
    assert.equal(enc.ready(), null);
    const out = enc.encode(record);
    assert.ok(out.ok);
    return readSchemaId(out.value);
  };
  assert.equal(idWritten(), 5, 'the cached id is used while the registry is down');
  assert.equal(readSchemaId(enc.encodeRaw(record)), 5);
  answer = true;
  await until(() => refs.every((ref) => r.idOf(ref) === 6));
  assert.equal(idWritten(), 6, 'the registry said 6: records are written with 6 (as logged), not 5');
  assert.equal(readSchemaId(enc.encodeRaw(record)), 6, 'dead letters too');
  r.close();
});
