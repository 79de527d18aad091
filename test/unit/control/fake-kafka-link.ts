/**
 * An in-memory KafkaLink for unit tests of the control room (integration and system tests use the
 * real one against real Kafka). Topics are arrays of records per partition; a reader hands over
 * what exists from the beginning, then new records as they are appended, waiting for each
 * onRecords promise (the interface's backpressure). The producer fails while `down` is set.
 */
import { gatewayError } from '../../../gateway/src/errors.js';
import type { ControlProducer, ControlRecord, KafkaLink, TopicReader, TopicReaderOptions, TopicReaderState } from '../../../gateway/src/control/kafka-link.js';

export class FakeKafkaLink implements KafkaLink {
  readonly partitions: number;
  private readonly topics = new Map<string, ControlRecord[][]>();
  private readonly waiters = new Set<() => void>();
  /** Records written by producers, in order. */
  readonly produced: Array<{ topic: string; key: string; value: string }> = [];
  down = false;
  readersOpened = 0;
  readonly readerKeys: Array<string | null> = [];

  constructor(partitions = 3) {
    this.partitions = partitions;
  }

  partitionOf(key: string | null): number {
    if (key === null) return 0;
    let h = 0;
    for (const ch of key) h = (h * 31 + ch.charCodeAt(0)) >>> 0;
    return h % this.partitions;
  }

  private log(topic: string): ControlRecord[][] {
    let parts = this.topics.get(topic);
    if (!parts) this.topics.set(topic, (parts = Array.from({ length: this.partitions }, () => [])));
    return parts;
  }

  /** Appends a record (value null = tombstone; an object is JSON-encoded). */
  append(topic: string, key: string | null, value: unknown): ControlRecord {
    const partition = this.partitionOf(key);
    const list = this.log(topic)[partition]!;
    const bytes = value === null ? null : Buffer.isBuffer(value) ? value : Buffer.from(typeof value === 'string' ? value : JSON.stringify(value));
    const rec: ControlRecord = { topic, partition, offset: BigInt(list.length), key, value: bytes, timestamp: Date.now() };
    list.push(rec);
    for (const w of [...this.waiters]) w();
    return rec;
  }

  reader(opts: TopicReaderOptions): TopicReader {
    this.readersOpened++;
    this.readerKeys.push(opts.key);
    const link = this;
    const parts = opts.key === null ? Array.from({ length: this.partitions }, (_, i) => i) : [this.partitionOf(opts.key)];
    const positions = new Map<number, number>(parts.map((p) => [p, 0]));
    let closed = false;
    let started = false;
    let resolveCaughtUp!: () => void;
    const caughtUp = new Promise<void>((r) => (resolveCaughtUp = r));
    let wake: (() => void) | null = null;

    async function loop(): Promise<void> {
      const all = link.log(opts.topic);
      const endAtStart = new Map(parts.map((p) => [p, all[p]!.length]));
      let caught = false;
      while (!closed) {
        const batch: ControlRecord[] = [];
        for (const p of parts) {
          const from = positions.get(p)!;
          const recs = all[p]!.slice(from, from + 50);
          batch.push(...recs);
          positions.set(p, from + recs.length);
        }
        if (batch.length > 0) {
          try {
            await opts.onRecords(batch);
          } catch {
            // logged by the real one; not handed over again
          }
          continue;
        }
        if (!caught && parts.every((p) => positions.get(p)! >= endAtStart.get(p)!)) {
          caught = true;
          resolveCaughtUp();
        }
        await new Promise<void>((r) => {
          wake = r;
          link.waiters.add(r);
        });
        if (wake) link.waiters.delete(wake);
      }
    }

    return {
      start() {
        if (started) return;
        started = true;
        void loop();
      },
      caughtUp,
      state(): TopicReaderState {
        return { connected: !closed, positions: Object.fromEntries([...positions].map(([p, o]) => [p, String(o)])), lastError: null };
      },
      async close() {
        closed = true;
        if (wake) wake();
      },
    };
  }

  producer(): ControlProducer {
    return {
      send: async (topic, key, value) => {
        await new Promise((r) => setImmediate(r));
        if (this.down) throw gatewayError('GW_ERR_CONTROL_KAFKA', 'fake Kafka is down');
        this.produced.push({ topic, key, value: value.toString() });
      },
      close: async () => undefined,
    };
  }

  async close(): Promise<void> {
    for (const w of [...this.waiters]) w();
  }
}
