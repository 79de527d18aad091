/**
 * Reads a control topic without a consumer group: the gateway is the only reader of its own
 * key's partition, and it always starts from the beginning (a compacted topic holds the latest
 * record per key), so there is nothing to commit and no group to join. It asks for metadata,
 * lists the earliest offsets, and long-polls `Fetch` on each partition leader. Nothing here can
 * stop the process: every failure is logged, kept in state(), and retried after capped, jittered
 * backoff, until close().
 *
 * One loop iteration:
 *  1. metadata (first time, after any error, and every `metadataMaxAgeMs`): partition count,
 *     leaders, topic id; the partition to read is recomputed from the key (a partition count
 *     change can move the key; it is logged), a recreated topic restarts from the beginning;
 *  2. positions: a partition without one starts at its earliest offset; the first time, the
 *     last stable offsets are captured as the `caughtUp` targets;
 *  3. one fetch per leader, concurrently (so a record on any leader waits at most one long
 *     poll), each bounded by `fetchMaxBytes`; the records of each answer are handed over with
 *     one awaited onRecords call before the next fetch is sent.
 * A partition answering OFFSET_OUT_OF_RANGE (retention or compaction removed the position)
 * restarts at its earliest offset; leader and topic errors refresh the metadata after backoff.
 *
 * read_committed, like every @platformatic/kafka consumer by default: records of aborted
 * transactions are never handed over, and an open transaction holds the reader at its start.
 */
import { Consumer, FetchIsolationLevels, ListOffsetTimestamps, protocolErrorsCodesById, ResponseError, type fetchV17 } from '@platformatic/kafka';
import { gatewayError } from '../errors.js';
import { sleep } from '../lib/backoff.js';
import type { KafkaClientConnectionOptions } from '../lib/kafka-client-options.js';
import type { Logger } from '../lib/logger.js';
import { decodeFetchedPartition } from './fetched-records.js';
import { closeWithin, waitAtMost } from './close-within.js';
import type { ControlRecord, TopicReader, TopicReaderOptions, TopicReaderState } from './kafka-link.js';
import { controlKafkaError } from './kafka-link-errors.js';
import { LinkHealth } from './link-health.js';
import { partitionForKey } from './partition-for-key.js';

export interface KafkaTopicReaderOptions extends TopicReaderOptions {
  /** Brokers, client id, timeouts, SASL, TLS (lib/kafka-client-options.ts). */
  client: KafkaClientConnectionOptions;
  requestTimeoutMs: number;
  retryInitialMs: number;
  retryMaxMs: number;
  /** Metadata older than this is asked for again (partition count changes, leader moves). */
  metadataMaxAgeMs: number;
  /** Most bytes one fetch answer may carry (and per partition). */
  fetchMaxBytes: number;
  /** Longest close() waits for the client's sockets before it returns anyway. */
  closeWaitMs: number;
  logger: Logger;
  /** Called once, when close() is done. */
  onClosed?: () => void;
}

type FetchResponse = fetchV17.FetchResponse;

const OFFSET_OUT_OF_RANGE = 1;

interface Layout {
  topicId: string;
  partitionCount: number;
  /** Partitions this reader reads, with their leader's node id. */
  leaders: Map<number, number>;
  at: number;
}

interface FetchAnswer {
  requested: Map<number, bigint>;
  response: FetchResponse | undefined;
  error: unknown;
}

export class KafkaTopicReader implements TopicReader {
  readonly caughtUp: Promise<void>;
  private resolveCaughtUp!: () => void;
  private isCaughtUp = false;
  private consumer: Consumer | null = null;
  private loop: Promise<void> | null = null;
  private closing: Promise<void> | null = null;
  private closed = false;
  private readonly stop = new AbortController();
  private layout: Layout | null = null;
  private layoutStale = true;
  /** Next offset to fetch, per partition read. */
  private readonly positions = new Map<number, bigint>();
  /** Last stable offsets at the first successful listOffsets: what caughtUp waits for. */
  private targets: Map<number, bigint> | null = null;
  private readonly health: LinkHealth;

  constructor(private readonly o: KafkaTopicReaderOptions) {
    this.caughtUp = new Promise<void>((resolve) => {
      this.resolveCaughtUp = resolve;
    });
    this.health = new LinkHealth({ retryInitialMs: o.retryInitialMs, retryMaxMs: o.retryMaxMs });
  }

  start(): void {
    if (this.loop || this.closed) return;
    this.loop = this.run().catch((err: unknown) => {
      // run() catches everything itself; this is the last line against an unhandled rejection.
      this.o.logger.error({ event: 'control_reader_failed', topic: this.o.topic, err }, 'control topic reader stopped unexpectedly');
    });
  }

  state(): TopicReaderState {
    const positions: Record<number, string> = {};
    for (const [p, offset] of this.positions) positions[p] = offset.toString();
    return { connected: this.health.connected && !this.closed, positions, lastError: this.health.lastError };
  }

  close(): Promise<void> {
    this.closing ??= this.shutDown();
    return this.closing;
  }

  private async shutDown(): Promise<void> {
    this.closed = true;
    this.health.closed();
    this.stop.abort();
    // Closing the client's sockets fails a fetch that is waiting in a long poll at once.
    if (this.consumer) await closeWithin(this.consumer, this.o.closeWaitMs);
    // The loop ends at once unless an onRecords call is still running: that one is waited for
    // (boundedly). No onRecords call starts after close().
    if (this.loop) await waitAtMost(this.loop, this.o.closeWaitMs);
    this.o.onClosed?.();
  }

  private newConsumer(): Consumer {
    return new Consumer({
      ...this.o.client,
      // A long poll legitimately takes maxWaitMs before the broker answers.
      requestTimeout: this.o.requestTimeoutMs + this.o.maxWaitMs,
      // Required by the constructor; never sent: this client only calls Metadata, ListOffsets
      // and Fetch, which need no group (no JoinGroup, no OffsetCommit).
      groupId: `${this.o.client.clientId}-ungrouped`,
      // This loop owns retries (with backoff and a metadata refresh); the client fails fast.
      retries: 0,
      metadataMaxAge: this.o.metadataMaxAgeMs,
      autocreateTopics: false,
      isolationLevel: FetchIsolationLevels.READ_COMMITTED,
    });
  }

  private async run(): Promise<void> {
    while (!this.closed) {
      try {
        const consumer = (this.consumer ??= this.newConsumer());
        await this.step(consumer);
        if (this.closed) break;
        if (this.health.roundSucceeded()) this.o.logger.info({ event: 'control_kafka_up', topic: this.o.topic }, 'control topic readable again');
      } catch (err) {
        if (this.closed) break;
        this.layoutStale = true;
        await sleep(this.failed(err), this.stop.signal);
      }
    }
  }

  private async step(consumer: Consumer): Promise<void> {
    if (this.layoutStale || !this.layout || Date.now() - this.layout.at >= this.o.metadataMaxAgeMs) await this.refreshLayout(consumer);
    const layout = this.layout!;
    await this.ensurePositions(consumer, layout);
    this.health.reachable();
    this.checkCaughtUp();
    if (this.closed) return;
    await this.fetchRound(consumer, layout);
  }

  private async refreshLayout(consumer: Consumer): Promise<void> {
    const { topic, key } = this.o;
    const md = await consumer.metadata({ topics: [topic], forceUpdate: true });
    const t = md.topics.get(topic);
    if (!t) throw gatewayError('GW_ERR_CONTROL_KAFKA', `read ${topic}: topic does not exist`);
    const count = t.partitionsCount;
    const read = key === null ? Array.from({ length: count }, (_, p) => p) : [partitionForKey(key, count)];
    const leaders = new Map<number, number>();
    for (const p of read) {
      const leader = t.partitions[p]?.leader ?? -1;
      if (leader < 0) throw gatewayError('GW_ERR_CONTROL_KAFKA', `read ${topic}: partition ${p} has no leader`);
      leaders.set(p, leader);
    }
    const prev = this.layout;
    if (prev && prev.topicId !== t.id) {
      this.o.logger.warn({ event: 'control_topic_recreated', topic }, 'control topic was recreated; reading it from the beginning');
      this.positions.clear();
      if (!this.isCaughtUp) this.targets = null;
    } else if (prev && prev.partitionCount !== count) {
      this.o.logger.warn(
        { event: 'control_topic_partitions_changed', topic, from: prev.partitionCount, to: count, partitions: read },
        'control topic partition count changed; partitions to read recomputed',
      );
    }
    for (const p of [...this.positions.keys()]) if (!leaders.has(p)) this.positions.delete(p);
    // Not caught up yet and the partitions moved: the targets are taken again for the new ones.
    if (!this.isCaughtUp && [...(this.targets?.keys() ?? [])].some((p) => !leaders.has(p))) this.targets = null;
    this.layout = { topicId: t.id, partitionCount: count, leaders, at: Date.now() };
    this.layoutStale = false;
  }

  private async ensurePositions(consumer: Consumer, layout: Layout): Promise<void> {
    const missing = [...layout.leaders.keys()].filter((p) => !this.positions.has(p));
    if (missing.length === 0) return;
    const { topic } = this.o;
    const earliest = await consumer.listOffsets({ topics: [topic], partitions: { [topic]: missing }, timestamp: ListOffsetTimestamps.EARLIEST });
    let latest: bigint[] | undefined;
    if (!this.targets) {
      const all = [...layout.leaders.keys()];
      latest = (await consumer.listOffsets({ topics: [topic], partitions: { [topic]: all }, timestamp: ListOffsetTimestamps.LATEST })).get(topic);
    }
    for (const p of missing) {
      const offset = earliest.get(topic)?.[p];
      if (offset === undefined) throw gatewayError('GW_ERR_CONTROL_KAFKA', `read ${topic}: no earliest offset for partition ${p}`);
      this.positions.set(p, offset);
    }
    if (latest) {
      const targets = new Map<number, bigint>();
      for (const p of layout.leaders.keys()) targets.set(p, latest[p] ?? 0n);
      this.targets = targets;
    }
  }

  private async fetchRound(consumer: Consumer, layout: Layout): Promise<void> {
    const byLeader = new Map<number, number[]>();
    for (const [p, leader] of layout.leaders) {
      const list = byLeader.get(leader);
      if (list) list.push(p);
      else byLeader.set(leader, [p]);
    }
    const answers = await Promise.all([...byLeader].map(([node, parts]) => this.fetchFrom(consumer, layout, node, parts)));
    const refused: string[] = [];
    let transportError: unknown;
    let throttleMs = 0;
    for (const a of answers) {
      if (this.closed) return;
      if (a.response) {
        refused.push(...(await this.handOver(a.response, layout, a.requested)));
        throttleMs = Math.max(throttleMs, a.response.throttleTimeMs);
      } else {
        transportError ??= a.error;
      }
    }
    if (transportError !== undefined) throw controlKafkaError(`fetch ${this.o.topic}`, transportError);
    if (refused.length > 0) throw gatewayError('GW_ERR_CONTROL_KAFKA', `fetch ${this.o.topic}: ${refused.join('; ')}`);
    // A quota-throttled client must wait before its next request (KIP-219).
    if (throttleMs > 0) await sleep(throttleMs, this.stop.signal);
  }

  private async fetchFrom(consumer: Consumer, layout: Layout, node: number, parts: number[]): Promise<FetchAnswer> {
    const requested = new Map<number, bigint>();
    for (const p of parts) requested.set(p, this.positions.get(p)!);
    try {
      const response = await consumer.fetch({
        node,
        topics: [
          {
            topicId: layout.topicId,
            // Leader epochs -1: no fencing checks; a moved leader answers NOT_LEADER_OR_FOLLOWER.
            partitions: parts.map((p) => ({ partition: p, fetchOffset: requested.get(p)!, currentLeaderEpoch: -1, lastFetchedEpoch: -1, partitionMaxBytes: this.o.fetchMaxBytes })),
          },
        ],
        maxWaitTime: this.o.maxWaitMs,
        minBytes: 1,
        maxBytes: this.o.fetchMaxBytes,
        isolationLevel: FetchIsolationLevels.READ_COMMITTED,
      });
      return { requested, response, error: undefined };
    } catch (error) {
      // A partition error fails the whole call; the answer of the other partitions is still in it.
      const response = error instanceof ResponseError ? (error as ResponseError & { response?: FetchResponse }).response : undefined;
      return { requested, response: response?.responses ? response : undefined, error };
    }
  }

  /** Hands over one fetch answer; returns the errors it holds that need a metadata refresh. */
  private async handOver(response: FetchResponse, layout: Layout, requested: Map<number, bigint>): Promise<string[]> {
    const { topic } = this.o;
    const refused: string[] = [];
    if (response.errorCode !== 0) {
      refused.push(protocolErrorsCodesById[response.errorCode] ?? `error ${response.errorCode}`);
      this.layoutStale = true;
    }
    const records: ControlRecord[] = [];
    const advances: Array<[number, bigint]> = [];
    const parts = response.responses.filter((t) => t.topicId === layout.topicId).flatMap((t) => t.partitions);
    // No batch at all in an answer that was neither throttled nor redirected to another replica:
    // no partition in it has anything readable below its last stable offset (the broker returns
    // at least one batch when one exists). That happens when compaction removed the tail of a
    // partition (an expired tombstone); the position steps over the hole.
    const emptyAnswer = response.errorCode === 0 && response.throttleTimeMs === 0 && parts.every((p) => (!p.records || p.records.length === 0) && p.preferredReadReplica < 0);
    for (const part of parts) {
      const p = part.partitionIndex;
      const from = requested.get(p);
      if (from === undefined) continue;
      if (part.errorCode === OFFSET_OUT_OF_RANGE) {
        this.o.logger.warn({ event: 'control_offset_out_of_range', topic, partition: p, offset: from.toString() }, 'control topic position no longer exists; restarting the partition from its earliest offset');
        this.positions.delete(p);
        continue;
      }
      if (part.errorCode !== 0) {
        refused.push(`partition ${p}: ${protocolErrorsCodesById[part.errorCode] ?? `error ${part.errorCode}`}`);
        this.layoutStale = true;
        continue;
      }
      const decoded = decodeFetchedPartition(topic, p, from, part.records, part.abortedTransactions);
      for (const r of decoded.records) records.push(r);
      const stable = part.lastStableOffset >= 0n ? part.lastStableOffset : part.highWatermark;
      let next = decoded.nextOffset;
      if (next === null && emptyAnswer && stable > from) {
        this.o.logger.debug({ event: 'control_offsets_skipped', topic, partition: p, from: from.toString(), to: stable.toString() }, 'nothing readable below the last stable offset; stepping over');
        next = stable;
      }
      if (next !== null) advances.push([p, next]);
    }
    if (records.length > 0) {
      try {
        await this.o.onRecords(records);
      } catch (err) {
        // The contract: logged, and these records are not handed over again.
        this.o.logger.error({ event: 'control_records_handler_failed', topic, count: records.length, err }, 'control topic records handler failed; moving on');
      }
    }
    for (const [p, next] of advances) if (this.positions.get(p) === requested.get(p)) this.positions.set(p, next);
    this.checkCaughtUp();
    return refused;
  }

  private checkCaughtUp(): void {
    if (this.isCaughtUp || !this.targets) return;
    for (const [p, target] of this.targets) {
      const at = this.positions.get(p);
      if (at === undefined || at < target) return;
    }
    this.isCaughtUp = true;
    this.o.logger.debug({ event: 'control_topic_caught_up', topic: this.o.topic }, 'control topic read up to its end at start');
    this.resolveCaughtUp();
  }

  /** Records and logs a failure; returns the delay before the next try. */
  private failed(err: unknown): number {
    const e = controlKafkaError(`read ${this.o.topic}`, err);
    const { delayMs, news } = this.health.failed(e);
    const fields = { event: 'control_kafka_down', topic: this.o.topic, code: e.code, reason: e.message, retryInMs: delayMs };
    if (news) this.o.logger.warn(fields, 'control topic cannot be read; retrying');
    else this.o.logger.debug(fields, 'control topic still cannot be read');
    return delayMs;
  }
}
