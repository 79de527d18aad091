/**
 * Writes one signed config document to the config topic: key = the document's target gateway,
 * value = the compact JWS, acks=all, on partition partitionForKey(gateway, partitions) set
 * explicitly (the client's own default partitioner is not the Java one), so a gateway reading
 * only its key's partition finds it. The document is not verified here (the tool need not hold
 * the public keys); only its claims are peeked to route it.
 */
import { Producer, stringSerializer } from '@platformatic/kafka';
import { peekDocumentClaims } from './config-document.js';
import { baseClientOptions, cliKafkaError, type CliKafkaClientOptions } from './cli-kafka-client.js';
import { partitionForKey } from './partition-for-key.js';

export interface PushResult {
  topic: string;
  partition: number;
  offset: string;
  gatewayId: string;
  version: number;
}

export async function pushConfigDocument(opts: { client: CliKafkaClientOptions; topic: string; jws: string }): Promise<PushResult> {
  const claims = peekDocumentClaims(opts.jws);
  const producer = new Producer<string, string, string, string>({
    ...baseClientOptions(opts.client),
    // Idempotent: an inner retry can never write the document twice (a gateway would see the
    // same version again and report it as a replay).
    idempotent: true,
    acks: -1,
    autocreateTopics: false,
    serializers: { key: stringSerializer, value: stringSerializer, headerKey: stringSerializer, headerValue: stringSerializer },
  });
  try {
    let partitions: number;
    try {
      const metadata = await producer.metadata({ topics: [opts.topic] });
      partitions = metadata.topics.get(opts.topic)?.partitionsCount ?? 0;
    } catch (err) {
      throw cliKafkaError(err, `metadata of ${opts.topic}`);
    }
    if (partitions < 1) throw cliKafkaError(new Error(`Unknown topic ${opts.topic}.`), `metadata of ${opts.topic}`);
    const partition = partitionForKey(claims.gatewayId, partitions);
    let offset: bigint | undefined;
    try {
      const result = await producer.send({ messages: [{ topic: opts.topic, key: claims.gatewayId, value: opts.jws, partition }] });
      offset = result.offsets?.find((o) => o.topic === opts.topic && o.partition === partition)?.offset;
    } catch (err) {
      throw cliKafkaError(err, `send to ${opts.topic}/${partition}`);
    }
    return { topic: opts.topic, partition, offset: offset === undefined ? '?' : offset.toString(), gatewayId: claims.gatewayId, version: claims.version };
  } finally {
    await new Promise<void>((done) => producer.close(true, () => done()));
  }
}
