/**
 * The sink's partitioner must put a device on the partition Java clients (and kafkajs, which the
 * gateway used before) put it on: otherwise an upgrade would move a device to another partition
 * and its records before and after the upgrade could be read out of order.
 */
import assert from 'node:assert/strict';
import { test } from 'node:test';
import { compatibilityPartitioner } from '@platformatic/kafka';
import { Partitioners } from 'kafkajs';

test('compatibilityPartitioner % n equals kafkajs DefaultPartitioner (Java murmur2) for device keys', () => {
  const kafkajs = Partitioners.DefaultPartitioner();
  const keys = ['dev-00000', 'dev-00001', 'a', '', 'sensor/α', 'x'.repeat(200)];
  for (let i = 0; i < 2000; i++) keys.push(`dev-${String(i).padStart(5, '0')}`, `pi-${i * 7919}`);
  let checked = 0;
  for (const n of [1, 3, 6, 12, 100]) {
    const partitionMetadata = Array.from({ length: n }, (_, p) => ({ partitionId: p, leader: 0 }));
    for (const key of keys) {
      const expected = kafkajs({ topic: 't', partitionMetadata: partitionMetadata as never, message: { key, value: null } });
      const ours = compatibilityPartitioner(undefined as never, Buffer.from(key)) % n;
      assert.equal(ours, expected, `key ${JSON.stringify(key)} with ${n} partitions`);
      checked++;
    }
  }
  assert.equal(checked, keys.length * 5);
});
