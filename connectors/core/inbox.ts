import { BoundedQueue } from './queues';

/**
 * Where a push-style client library (AMQP deliveries, MQTT publishes, a JetStream consume
 * iterator) leaves messages for an adapter's `poll`: a bounded ring plus one waiting poll.
 * Overflow rule: the producer must check `full()` first and stop the broker (AMQP prefetch, MQTT
 * by not reading the socket, JetStream by not pulling); a push into a full inbox is a bug and
 * throws (BoundedQueue).
 */
export class Inbox<T> {
  private readonly q: BoundedQueue<T>;
  private onData: (() => void) | null = null;
  private onRoom: (() => void) | null = null;
  private timer: NodeJS.Timeout | null = null;

  constructor(readonly capacity: number) {
    this.q = new BoundedQueue<T>(capacity);
  }

  get size(): number {
    return this.q.size;
  }

  full(): boolean {
    return this.q.room() === 0;
  }

  push(item: T): void {
    this.q.push(item);
    this.wakeData();
  }

  /** Moves up to `max` items into `out`; returns how many. */
  take(max: number, out: T[]): number {
    let n = 0;
    while (n < max) {
      const item = this.q.shift();
      if (item === undefined) break;
      out.push(item);
      n++;
    }
    if (n > 0 && this.onRoom !== null) {
      const room = this.onRoom;
      this.onRoom = null;
      room();
    }
    return n;
  }

  /**
   * An adapter's `poll`: what is here (up to `max`), else — unless `problem()` says the connection
   * is down, which is thrown — what arrives within `waitMs`.
   */
  async poll(max: number, waitMs: number, problem: () => Error | null): Promise<T[]> {
    const out: T[] = [];
    this.take(max, out);
    if (out.length > 0) return out;
    const p = problem();
    if (p !== null) throw p;
    await this.waitData(waitMs);
    this.take(max, out);
    return out;
  }

  /** Resolves when an item is pushed, `wake()` is called, or after `ms` (at once if not empty). */
  waitData(ms: number): Promise<void> {
    if (this.q.size > 0) return Promise.resolve();
    this.wakeData();
    return new Promise((resolve) => {
      this.onData = resolve;
      this.timer = setTimeout(() => this.wakeData(), ms);
    });
  }

  /** Resolves when `take` made room (at once if there is room), or `wake()` is called. */
  waitRoom(): Promise<void> {
    if (!this.full()) return Promise.resolve();
    return new Promise((resolve) => {
      const prev = this.onRoom;
      this.onRoom = () => {
        prev?.();
        resolve();
      };
    });
  }

  /** Ends every wait now (close, seek). */
  wake(): void {
    this.wakeData();
    const room = this.onRoom;
    this.onRoom = null;
    room?.();
  }

  /** Ends a waiting `waitData` now. */
  cancelWait(): void {
    this.wakeData();
  }

  /** Removes and returns everything (oldest first). */
  drain(): T[] {
    const out: T[] = [];
    this.q.drain((item) => out.push(item));
    this.wake();
    return out;
  }

  private wakeData(): void {
    if (this.timer !== null) clearTimeout(this.timer);
    this.timer = null;
    const w = this.onData;
    this.onData = null;
    w?.();
  }
}
