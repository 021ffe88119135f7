/**
 * A Map that keeps its `limit` most recently used entries (read or written), handing each one it
 * drops to `dropped`; a limit of Infinity keeps every entry.
 */
export class RecentMap<K, V> extends Map<K, V> {
  constructor(private readonly limit: number, private readonly dropped: (value: V) => void) {
    super();
  }

  override get(key: K): V | undefined {
    const value = super.get(key);
    if (value !== undefined) {
      super.delete(key);
      super.set(key, value);
    }
    return value;
  }

  override set(key: K, value: V): this {
    super.delete(key);
    super.set(key, value);
    for (const [oldest, v] of this) {
      if (this.size <= this.limit) break;
      super.delete(oldest);
      this.dropped(v);
    }
    return this;
  }
}
