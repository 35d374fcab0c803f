import { squallError } from '../../topology-api';

/**
 * A bounded FIFO ring: the prefetch buffer between a connector's poll loop and `nextTuple`.
 * Overflow rule: refused. The poll loop asks the broker for at most `room()` messages, so a push
 * beyond the capacity is a bug (ERR_INTERNAL), never a silent drop or growth.
 */
export class BoundedQueue<T> {
  private readonly items: (T | undefined)[];
  private head = 0;
  private count = 0;

  constructor(readonly capacity: number) {
    if (!Number.isInteger(capacity) || capacity < 1) throw squallError('ERR_INTERNAL', `queue capacity must be a positive integer (got ${capacity})`);
    this.items = new Array<T | undefined>(capacity).fill(undefined);
  }

  get size(): number {
    return this.count;
  }

  room(): number {
    return this.capacity - this.count;
  }

  push(item: T): void {
    if (this.count === this.capacity) throw squallError('ERR_INTERNAL', `bounded queue of ${this.capacity} is full`);
    this.items[(this.head + this.count) % this.capacity] = item;
    this.count++;
  }

  shift(): T | undefined {
    if (this.count === 0) return undefined;
    const item = this.items[this.head];
    this.items[this.head] = undefined;
    this.head = (this.head + 1) % this.capacity;
    this.count--;
    return item;
  }

  /** Removes everything, handing each item to `each` (oldest first). */
  drain(each?: (item: T) => void): void {
    while (this.count > 0) {
      const item = this.shift() as T;
      each?.(item);
    }
  }
}

/**
 * Items due at a time, earliest first (a binary min-heap): retries waiting out their backoff.
 * Bounded by its owner (a spout's in-flight limit counts the retries waiting here).
 */
export class DueQueue<T> {
  private readonly due: number[] = [];
  private readonly items: T[] = [];

  get size(): number {
    return this.items.length;
  }

  /** When the earliest item is due (Infinity when empty). */
  peekDueMs(): number {
    return this.due.length === 0 ? Infinity : this.due[0];
  }

  push(item: T, dueMs: number): void {
    const due = this.due;
    const items = this.items;
    let i = due.length;
    due.push(dueMs);
    items.push(item);
    while (i > 0) {
      const parent = (i - 1) >> 1;
      if (due[parent] <= dueMs) break;
      due[i] = due[parent];
      items[i] = items[parent];
      i = parent;
    }
    due[i] = dueMs;
    items[i] = item;
  }

  /** The earliest item if it is due at `nowMs`. */
  popDue(nowMs: number): T | undefined {
    if (this.due.length === 0 || this.due[0] > nowMs) return undefined;
    return this.pop();
  }

  pop(): T | undefined {
    const due = this.due;
    const items = this.items;
    if (due.length === 0) return undefined;
    const top = items[0];
    const lastDue = due.pop() as number;
    const lastItem = items.pop() as T;
    const n = due.length;
    if (n > 0) {
      let i = 0;
      for (;;) {
        const l = 2 * i + 1;
        if (l >= n) break;
        const r = l + 1;
        const c = r < n && due[r] < due[l] ? r : l;
        if (due[c] >= lastDue) break;
        due[i] = due[c];
        items[i] = items[c];
        i = c;
      }
      due[i] = lastDue;
      items[i] = lastItem;
    }
    return top;
  }

  clear(): void {
    this.due.length = 0;
    this.items.length = 0;
  }
}
