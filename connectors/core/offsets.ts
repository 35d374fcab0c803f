/** What the offset tracker needs of a message record. */
export interface Tracked {
  readonly partition: string;
  readonly offset: string | number;
  /** Set when the record may be committed (its tree completed, or it was dead-lettered). */
  done: boolean;
}

/** One partition's records in the order they were received (the broker's order). */
class PartitionLog<T extends Tracked> {
  private ring: (T | undefined)[] = [];
  private head = 0;
  private count = 0;
  /** The last offset of the committed prefix, once there is one. */
  committed: string | number | undefined = undefined;

  get size(): number {
    return this.count;
  }

  append(record: T): void {
    if (this.count === this.ring.length) this.grow();
    this.ring[(this.head + this.count) % this.ring.length] = record;
    this.count++;
  }

  /** Drops the done records at the head; returns the last offset dropped, if any. */
  advance(): string | number | undefined {
    let last: string | number | undefined;
    const ring = this.ring;
    while (this.count > 0) {
      const r = ring[this.head] as T;
      if (!r.done) break;
      last = r.offset;
      ring[this.head] = undefined;
      this.head = (this.head + 1) % ring.length;
      this.count--;
    }
    if (last !== undefined) this.committed = last;
    return last;
  }

  private grow(): void {
    const old = this.ring;
    const n = Math.max(16, old.length * 2);
    const next = new Array<T | undefined>(n).fill(undefined);
    for (let i = 0; i < this.count; i++) next[i] = old[(this.head + i) % old.length];
    this.ring = next;
    this.head = 0;
  }
}

/**
 * Storm's KafkaSpout offset management: per partition, the records received, in the broker's
 * order; a record is marked done when its tuple tree completes (or it is dead-lettered), and the
 * partition's commit point moves only over the contiguous done prefix. So a commit never covers a
 * record still in flight, whatever order the acks arrive in, and after a crash everything from the
 * commit point on is delivered again (at-least-once). Brokers that acknowledge each message on its
 * own (Redis Streams, JetStream, AMQP) need no prefix; offset-committing brokers (Kafka, RabbitMQ
 * streams' stored offsets) commit what `advance()` returns.
 *
 * Memory: one ring slot per record received and not yet in the done prefix. A record that never
 * completes holds its partition's commit point (as in Storm); its owner bounds the in-flight
 * records (`maxPending`) and fails or dead-letters them, so the prefix always moves eventually.
 */
export class OffsetTracker<T extends Tracked> {
  private readonly logs = new Map<string, PartitionLog<T>>();
  private readonly dirty = new Set<string>();

  /** Records a received record (call in the broker's order within each partition). */
  received(record: T): void {
    let log = this.logs.get(record.partition);
    if (log === undefined) {
      log = new PartitionLog<T>();
      this.logs.set(record.partition, log);
    }
    log.append(record);
  }

  /** Marks a record done (its tree completed or it was dead-lettered). */
  done(record: T): void {
    record.done = true;
    this.dirty.add(record.partition);
  }

  /** Moves every partition's commit point over its done prefix; returns the partitions that moved. */
  advance(): Map<string, string | number> {
    const moved = new Map<string, string | number>();
    for (const p of this.dirty) {
      const at = this.logs.get(p)?.advance();
      if (at !== undefined) moved.set(p, at);
    }
    this.dirty.clear();
    return moved;
  }

  /** The last committed offset of each partition that has one. */
  committed(): Map<string, string | number> {
    const out = new Map<string, string | number>();
    for (const [p, log] of this.logs) if (log.committed !== undefined) out.set(p, log.committed);
    return out;
  }

  /** Records received and not yet in a done prefix. */
  size(): number {
    let n = 0;
    for (const log of this.logs.values()) n += log.size;
    return n;
  }

  clear(): void {
    this.logs.clear();
    this.dirty.clear();
  }
}
