/**
 * A Map with a size bound that forgets its least recently used key first. Insertion order of a
 * JS Map is the recency order: a touch is delete + set, eviction takes the first key.
 */
export class LruMap<K, V> {
  private readonly map = new Map<K, V>();
  private evicted = 0;

  constructor(readonly maxEntries: number) {
    if (!Number.isInteger(maxEntries) || maxEntries < 1) throw new RangeError(`LruMap maxEntries must be a positive integer, got ${maxEntries}`);
  }

  /** Value of `key`, which becomes the most recently used. */
  get(key: K): V | undefined {
    const value = this.map.get(key);
    if (value === undefined) return undefined;
    this.map.delete(key);
    this.map.set(key, value);
    return value;
  }

  /** Value of `key` without changing its recency. */
  peek(key: K): V | undefined {
    return this.map.get(key);
  }

  /** Sets `key` as the most recently used; evicts the least recently used keys beyond the bound. */
  set(key: K, value: V): void {
    this.map.delete(key);
    this.map.set(key, value);
    while (this.map.size > this.maxEntries) {
      this.map.delete(this.map.keys().next().value as K);
      this.evicted++;
    }
  }

  delete(key: K): boolean {
    return this.map.delete(key);
  }

  clear(): void {
    this.map.clear();
  }

  get size(): number {
    return this.map.size;
  }

  /** Keys dropped because the map was full (not deletes). */
  get evictedTotal(): number {
    return this.evicted;
  }

  /** Keys from least to most recently used. */
  keys(): IterableIterator<K> {
    return this.map.keys();
  }
}
