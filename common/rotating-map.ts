/**
 * Storm's RotatingMap: entries expire in buckets, so timeouts cost one timer per map, not one per
 * entry. `put` goes to the newest bucket; `rotate()` drops the oldest bucket, handing its entries
 * to `onExpire`. With N buckets rotated every P ms an entry lives between (N-1)·P and N·P ms, so
 * callers rotate every timeout/(N-1).
 */
export class RotatingMap<K, V> {
  private readonly buckets: Map<K, V>[] = [];

  constructor(
    readonly numBuckets: number,
    private readonly onExpire?: (key: K, value: V) => void,
  ) {
    if (numBuckets < 2) throw new RangeError('RotatingMap needs at least 2 buckets');
    for (let i = 0; i < numBuckets; i++) this.buckets.push(new Map());
  }

  get(key: K): V | undefined {
    for (let i = 0; i < this.buckets.length; i++) {
      const v = this.buckets[i].get(key);
      if (v !== undefined) return v;
    }
    return undefined;
  }

  has(key: K): boolean {
    return this.get(key) !== undefined;
  }

  /** Puts into the newest bucket, taking the key out of older ones (which restarts its timeout). */
  put(key: K, value: V): void {
    this.buckets[0].set(key, value);
    for (let i = 1; i < this.buckets.length; i++) this.buckets[i].delete(key);
  }

  remove(key: K): V | undefined {
    for (let i = 0; i < this.buckets.length; i++) {
      const b = this.buckets[i];
      const v = b.get(key);
      if (v !== undefined) {
        b.delete(key);
        return v;
      }
    }
    return undefined;
  }

  size(): number {
    let n = 0;
    for (const b of this.buckets) n += b.size;
    return n;
  }

  /** Expires the oldest bucket; returns how many entries expired. */
  rotate(): number {
    const dead = this.buckets.pop()!;
    this.buckets.unshift(new Map());
    if (this.onExpire) for (const [k, v] of dead) this.onExpire(k, v);
    return dead.size;
  }

  clear(): void {
    for (const b of this.buckets) b.clear();
  }

  *entries(): IterableIterator<[K, V]> {
    for (const b of this.buckets) yield* b;
  }
}
