/**
 * Registry format and a live reconfigure while a batch is in flight: the pump swaps in a new
 * encoder whose schema headers are only filled by ready(). A batch Kafka then rejects is split
 * and re-encoded; that must not encode with a not-yet-ready encoder (GW_ERR_ENCODE_FAILED ->
 * dead letter = acknowledged data never reaching Kafka).
 */
import assert from 'node:assert/strict';
import { join } from 'node:path';
import { test } from 'node:test';
import { openTestBuffer } from '../../support/buffer-db.js';
import { tempDir } from '../../support/temp-dir.js';
import { createAvroEncoder, type AvroEncoder } from '../../../gateway/src/encode/avro-encoder.js';
import type { SchemaIdSource } from '../../../gateway/src/encode/schema-id-resolver.js';
import { gatewayError } from '../../../gateway/src/errors.js';
import type { Logger } from '../../../gateway/src/lib/logger.js';
import { createForwardPump } from '../../../gateway/src/forward/pump.js';
import type { OutMessage, SinkState, TelemetrySink } from '../../../gateway/src/forward/sink.js';

const silent: Logger = (() => {
  const l: Record<string, unknown> = {};
  for (const level of ['trace', 'debug', 'info', 'warn', 'error', 'fatal']) l[level] = () => undefined;
  l['child'] = () => l;
  return l as unknown as Logger;
})();

/** Every schema has an id at once (the resolver knows them all). */
const allKnown: SchemaIdSource = { idOf: () => 7, problem: () => null };

const encoderOf = (): AvroEncoder =>
  createAvroEncoder({ gatewayId: 'gw', defaultTopic: 'telemetry.raw', routes: [{ topic: 'devices/{deviceId}/telemetry' }], registry: { ids: allKnown, strategy: 'topic', dlqTopic: 'telemetry.dlq' } });

test('registry format: a batch rejected after a live reconfigure is isolated without GW_ERR_ENCODE_FAILED dead letters', async (t) => {
  const dir = tempDir(t);
  const opened = openTestBuffer({ path: join(dir, 'buffer.db'), synchronous: 'NORMAL', deadLetterMaxRows: 1000 });
  const buffer = opened.buffer;
  const first = encoderOf();
  let release!: () => void;
  const gate = new Promise<void>((r) => (release = r));
  let sends = 0;
  const delivered: OutMessage[] = [];
  const sink: TelemetrySink = {
    async connect() {},
    state: (): SinkState => ({ connected: true, lastError: null }),
    async close() {},
    async send(messages) {
      sends++;
      if (sends === 1) {
        await gate;
        throw gatewayError('GW_ERR_FORWARD_REJECTED', 'MESSAGE_TOO_LARGE');
      }
      // The split halves: the half holding the first record is refused again, down to it alone.
      if (messages.some((m) => m.topic !== 'telemetry.dlq' && m.value.length > 0 && first.rawCodec.type.fromBuffer(m.value.subarray(5)).seq === 1)) throw gatewayError('GW_ERR_FORWARD_REJECTED', 'MESSAGE_TOO_LARGE');
      delivered.push(...messages);
    },
  };
  const opts = { dlqTopic: 'telemetry.dlq', dlqMaxValueBytes: 64 * 1024, batchMaxRecords: 100, batchMaxBytes: 1 << 20, lingerMs: 0, retryInitialMs: 10, retryMaxMs: 20 };
  const pump = createForwardPump({ buffer, encoder: first, sink, logger: silent, ...opts });
  t.after(async () => {
    await pump.stop(50);
    opened.close();
  });
  buffer.append(Array.from({ length: 4 }, (_, i) => ({ deviceId: 'dev-a', topic: 'devices/dev-a/telemetry', qos: 1 as const, receivedAt: 1_700_000_000_000 + i, payload: Buffer.from(`{"i":${i}}`) })));
  pump.start();
  while (sends === 0) await new Promise((r) => setTimeout(r, 2));
  // A live reconfigure lands while the batch is in flight (same routes: same schemas, ids known).
  pump.reconfigure({ encoder: encoderOf(), ...opts });
  release();
  const until = Date.now() + 3000;
  while (buffer.stats().rows > 0 && Date.now() < until) await new Promise((r) => setTimeout(r, 5));
  const dead = opened.db.prepare('SELECT seq, code FROM dead_letters ORDER BY seq').all() as Array<{ seq: number; code: string }>;
  assert.deepEqual(dead, [{ seq: 1, code: 'GW_ERR_FORWARD_REJECTED' }], 'only the refused record is a dead letter');
  assert.equal(delivered.filter((m) => m.topic === 'telemetry.raw').length, 3, 'the other three reached Kafka');
});
