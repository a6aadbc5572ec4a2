/**
 * A bounded cache with least-recently-used eviction, approximated by two generations (the scheme of several
 * production caches): hits in the young map cost one lookup; hits in the old map are promoted; when the young map
 * fills, the old generation is dropped and the young one becomes old. Entries unused for a whole generation are
 * evicted, recently used ones survive. This avoids the delete-and-reinsert per hit of an exact Map-based LRU,
 * which dominated tokenization time.
 */
export class LruCache<K, V> {
  private young = new Map<K, V>();
  private old = new Map<K, V>();
  /** capacity bounds the young generation; at most 2x capacity entries are held. */
  constructor(readonly capacity: number) {}

  get(key: K): V | undefined {
    const v = this.young.get(key);
    if (v !== undefined) return v;
    const o = this.old.get(key);
    if (o !== undefined) this.set(key, o);
    return o;
  }

  set(key: K, value: V): void {
    if (this.young.size >= this.capacity) {
      this.old = this.young;
      this.young = new Map();
    }
    this.young.set(key, value);
  }

  get size(): number {
    return this.young.size + this.old.size;
  }

  clear(): void {
    this.young.clear();
    this.old.clear();
  }
}
