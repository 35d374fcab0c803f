import type { TupleImpl } from '../topology-api';

/**
 * An executor's inbox: tuples with the task each is for, in a ring.
 *
 * Overflow rule: `capacity` is the bound producers respect. A producer checks `isFull()` before it
 * runs a user callback (nextTuple/execute) and is parked while any queue it feeds is full; writes
 * made by a callback already running are accepted (the ring grows), so one callback's emits can
 * overshoot the bound, as Storm's per-executor pendingEmits do. Memory stays bounded by capacity
 * plus what one callback emits per producer. Nothing is dropped.
 */
export class TupleQueue {
  private items: Array<TupleImpl | undefined>;
  private tasks: Int32Array;
  private head = 0;
  private count = 0;
  private mask: number;

  constructor(readonly capacity: number) {
    const size = nextPow2(Math.max(16, capacity));
    this.items = new Array(size);
    this.tasks = new Int32Array(size);
    this.mask = size - 1;
  }

  get size(): number {
    return this.count;
  }

  isFull(): boolean {
    return this.count >= this.capacity;
  }

  isEmpty(): boolean {
    return this.count === 0;
  }

  push(task: number, tuple: TupleImpl): void {
    if (this.count === this.items.length) this.grow();
    const i = (this.head + this.count) & this.mask;
    this.items[i] = tuple;
    this.tasks[i] = task;
    this.count++;
  }

  /** Task of the head entry; call before `shift`. */
  peekTask(): number {
    return this.tasks[this.head];
  }

  shift(): TupleImpl {
    const i = this.head;
    const t = this.items[i]!;
    this.items[i] = undefined;
    this.head = (i + 1) & this.mask;
    this.count--;
    return t;
  }

  private grow(): void {
    const size = this.items.length * 2;
    const items = new Array<TupleImpl | undefined>(size);
    const tasks = new Int32Array(size);
    for (let k = 0; k < this.count; k++) {
      const i = (this.head + k) & this.mask;
      items[k] = this.items[i];
      tasks[k] = this.tasks[i];
    }
    this.items = items;
    this.tasks = tasks;
    this.head = 0;
    this.mask = size - 1;
  }
}

/** Kinds of acker-protocol messages (Storm's `__ack_*` streams, and the acker's answers). */
export const enum AckKind {
  Init = 1,
  Ack = 2,
  Fail = 3,
  Reset = 4,
  /** acker → spout task: tree complete */
  SpoutAck = 5,
  /** acker → spout task: tree failed */
  SpoutFail = 6,
  /** acker → spout task: restart its timeout */
  SpoutReset = 7,
}

export const ACK_RECORD = 6;

/**
 * Acker-protocol messages as numbers in a Float64Array ring: [kind, destTask, root, valHi, valLo,
 * spoutTask]. No object per message; a root id is < 2^53 and the halves are int32, all exact in a
 * double. Overflow rule: it grows; its consumer (an acker or a spout's ack handling) drains it
 * completely every loop turn and never parks, so it holds at most one turn's messages.
 */
export class AckQueue {
  private buf: Float64Array;
  private head = 0;
  private count = 0;
  private slots: number;

  constructor(initialRecords = 1024) {
    this.slots = nextPow2(initialRecords);
    this.buf = new Float64Array(this.slots * ACK_RECORD);
  }

  get size(): number {
    return this.count;
  }

  push(kind: number, destTask: number, root: number, hi: number, lo: number, spoutTask: number): void {
    if (this.count === this.slots) this.grow();
    const o = ((this.head + this.count) & (this.slots - 1)) * ACK_RECORD;
    const b = this.buf;
    b[o] = kind;
    b[o + 1] = destTask;
    b[o + 2] = root;
    b[o + 3] = hi;
    b[o + 4] = lo;
    b[o + 5] = spoutTask;
    this.count++;
  }

  /** Offset of the head record in `buffer()`; valid until the next `push`. */
  headOffset(): number {
    return this.head * ACK_RECORD;
  }

  buffer(): Float64Array {
    return this.buf;
  }

  drop(): void {
    this.head = (this.head + 1) & (this.slots - 1);
    this.count--;
  }

  private grow(): void {
    const slots = this.slots * 2;
    const buf = new Float64Array(slots * ACK_RECORD);
    for (let k = 0; k < this.count; k++) {
      const from = ((this.head + k) & (this.slots - 1)) * ACK_RECORD;
      buf.set(this.buf.subarray(from, from + ACK_RECORD), k * ACK_RECORD);
    }
    this.buf = buf;
    this.slots = slots;
    this.head = 0;
  }
}

function nextPow2(n: number): number {
  let p = 1;
  while (p < n) p *= 2;
  return p;
}
