/**
 * @module store/sql/row-cache
 * A bounded (first-in, first-out) read-through cache of hot rows, used only by engines whose database this process owns
 * exclusively (SQLite in exclusive locking mode): there, every write passes through this process
 * and invalidates the entry, so a cached row is never stale. A generation counter keeps a read that
 * raced a write from caching the row it read before the write.
 */
export class RowCache<T> {
  readonly #map = new Map<string, T>()
  #generation = 0

  constructor(readonly maxEntries: number) {}

  get(key: string): T | undefined {
    return this.#map.get(key)
  }

  /** The generation to hand back to `set` after the read completes. */
  generation(): number {
    return this.#generation
  }

  set(key: string, value: T, readAtGeneration: number): void {
    if (readAtGeneration !== this.#generation) return
    // First in, first out: the oldest entry goes (cheaper on the hot path than true LRU).
    if (this.#map.size >= this.maxEntries) {
      const oldest = this.#map.keys().next().value
      if (oldest !== undefined) this.#map.delete(oldest)
    }
    this.#map.set(key, value)
  }

  invalidate(key: string): void {
    this.#generation++
    this.#map.delete(key)
  }
}
