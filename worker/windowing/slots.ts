/**
 * Keys interned to small integers, so per-key state lives in arrays indexed by slot: one Map
 * lookup per tuple, then array reads. Freed slots are reused; `capacity` grows by doubling and
 * `onGrow` lets owners grow their per-slot arrays.
 */
export class SlotTable {
  private readonly byKey = new Map<unknown, number>();
  keys: unknown[] = [];
  private readonly free: number[] = [];
  capacity = 0;

  constructor(
    initial: number,
    private readonly onGrow: (capacity: number) => void,
  ) {
    this.grow(initial);
  }

  get size(): number {
    return this.byKey.size;
  }

  /** The slot of `key`, interning it when new. */
  slot(key: unknown): number {
    const s = this.byKey.get(key);
    if (s !== undefined) return s;
    return this.intern(key);
  }

  find(key: unknown): number | undefined {
    return this.byKey.get(key);
  }

  private intern(key: unknown): number {
    let s = this.free.pop();
    if (s === undefined) {
      s = this.byKey.size;
      if (s >= this.capacity) this.grow(this.capacity * 2);
    }
    this.byKey.set(key, s);
    this.keys[s] = key;
    return s;
  }

  release(slot: number): void {
    this.byKey.delete(this.keys[slot]);
    this.keys[slot] = undefined;
    this.free.push(slot);
  }

  clear(): void {
    this.byKey.clear();
    this.keys.fill(undefined);
    this.free.length = 0;
  }

  private grow(n: number): void {
    for (let i = this.capacity; i < n; i++) this.keys.push(undefined);
    this.capacity = n;
    this.onGrow(n);
  }
}

/** A growable list of ints without a per-push allocation. */
export class IntList {
  items: Int32Array;
  length = 0;
  constructor(initial = 16) {
    this.items = new Int32Array(initial);
  }
  push(v: number): void {
    if (this.length === this.items.length) {
      const a = new Int32Array(this.items.length * 2);
      a.set(this.items);
      this.items = a;
    }
    this.items[this.length++] = v;
  }
  clear(): void {
    this.length = 0;
  }
}

/** `arr` padded with `fill` to length `n` (typed arrays are copied; plain arrays grow in place). */
export function growFloat64(arr: Float64Array, n: number, fill: number): Float64Array {
  const a = new Float64Array(n).fill(fill);
  a.set(arr);
  return a;
}
export function growInt32(arr: Int32Array, n: number, fill = 0): Int32Array {
  const a = new Int32Array(n).fill(fill);
  a.set(arr);
  return a;
}
