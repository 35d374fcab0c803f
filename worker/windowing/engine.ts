import type { TupleImpl, WindowInfo } from '../../topology-api';

/**
 * Where a window engine sends what it decides: fired windows (Storm's `execute(window)`), results
 * of incremental aggregation, and tuples that left their last window.
 */
export interface WindowOutput {
  /** A window of tuples fired; the executor runs the bolt's `execute` with emits anchored to them. False if it threw. */
  fireWindow(window: FiredWindow): boolean;
  /** One key's result of a fired window (incremental aggregation); false if `executeAggregate` threw. */
  fireResult(key: unknown, result: unknown, info: WindowInfo): boolean;
  /** A buffered tuple left the last window holding it: ack it. */
  expire(t: TupleImpl): void;
  /** A buffered tuple's window failed in user code: fail it (replay). */
  failTuple(t: TupleImpl): void;
}

/** One windowed task's windows: tuples in, fired windows and acks out. */
export interface WindowEngine {
  /**
   * A tuple with time `ts` (event time, or the processing time it was assigned) and its key (null
   * without a key field). False when no window can take it any more: a late tuple.
   */
  add(t: TupleImpl, ts: number, key: unknown): boolean;
  /** Time (the watermark, or the processing time of a tick) moved to `time`: fire and evict what is due. */
  advance(time: number): void;
  /** Windows holding state. */
  openWindows(): number;
  /** Tuples held (buffered, or tracked tuples whose ack waits in an aggregation). */
  heldTuples(): number;
  /** What a window's state costs: tuples buffered, or accumulators for incremental aggregation. */
  buffered(): number;
  /**
   * Processing-time sessions: the earliest time `advance` has something to do (null: nothing
   * pending), so the executor arms one timer instead of polling.
   */
  nextDue?(): number | null;
  /** The whole state as plain (msgpack-able) data, for checkpoints. */
  snapshot(): unknown;
  /** Replaces the state with a snapshot's. */
  restore(s: unknown): void;
}

/** Turns held tuples into plain data and back (values, stream, source task, acker ids). */
export interface TupleCodec {
  encode(t: TupleImpl): unknown;
  decode(x: unknown): TupleImpl;
}

/** The WindowInfo handed to `executeAggregate`: one object, re-set for each result (valid during the call). */
export class ResultInfo implements WindowInfo {
  start: number | null = null;
  end = 0;
  key: unknown = null;
  update = false;

  set(start: number | null, end: number, key: unknown, update: boolean): this {
    this.start = start;
    this.end = end;
    this.key = key;
    this.update = update;
    return this;
  }
  getStartTimestamp(): number | null {
    return this.start;
  }
  getEndTimestamp(): number {
    return this.end;
  }
  getKey(): unknown {
    return this.key;
  }
  isUpdate(): boolean {
    return this.update;
  }
}

/** A fired window of tuples (Storm's TupleWindow), with the key and whether it is an update. */
export class FiredWindow extends ResultInfo {
  constructor(
    readonly tuples: TupleImpl[],
    readonly newTuples: TupleImpl[],
    readonly expiredTuples: TupleImpl[],
    start: number | null,
    end: number,
    key: unknown,
    update: boolean,
  ) {
    super();
    this.set(start, end, key, update);
  }

  get(): TupleImpl[] {
    return this.tuples;
  }
  getNew(): TupleImpl[] {
    return this.newTuples;
  }
  getExpired(): TupleImpl[] {
    return this.expiredTuples;
  }
}

/** Splits a window's tuples by key, keeping first-seen key order and arrival order within a key. */
export function byKey(tuples: readonly TupleImpl[], keys: readonly unknown[]): Map<unknown, TupleImpl[]> {
  const out = new Map<unknown, TupleImpl[]>();
  for (let i = 0; i < tuples.length; i++) {
    let list = out.get(keys[i]);
    if (list === undefined) out.set(keys[i], (list = []));
    list.push(tuples[i]);
  }
  return out;
}
