import { Config, TOPOLOGY_CONFIG_SPEC, type TopologyConfig, type TupleImpl } from '../topology-api';

/**
 * Buckets of the async-timeout rotating map: rotated every timeout / (buckets - 1), an unsettled
 * call fails between 1 and 1.5 timeouts after execute returned its promise (the message timeout's
 * rule, docs/architecture.md).
 */
export const ASYNC_TIMEOUT_BUCKETS = 3;

export interface AsyncSettings {
  /** `topology.bolt.max.inflight`. */
  maxInflight: number;
  /** `topology.async.timeout.secs`, or the message timeout when it is null, in ms. */
  timeoutMs: number;
  /** `topology.bolt.async.ordered`. */
  ordered: boolean;
}

/** A component's async settings from its (resolved) configuration. */
export function asyncSettings(conf: Readonly<TopologyConfig>): AsyncSettings {
  const num = (key: string): number => {
    const v = conf[key];
    return typeof v === 'number' ? v : (TOPOLOGY_CONFIG_SPEC[key].default as number);
  };
  const timeout = conf[Config.TOPOLOGY_ASYNC_TIMEOUT_SECS];
  return {
    maxInflight: num(Config.TOPOLOGY_BOLT_MAX_INFLIGHT),
    timeoutMs: (typeof timeout === 'number' ? timeout : num(Config.TOPOLOGY_MESSAGE_TIMEOUT_SECS)) * 1000,
    ordered: conf[Config.TOPOLOGY_BOLT_ASYNC_ORDERED] === true,
  };
}

export const enum CallState {
  /** Its promise has not settled. */
  Pending = 0,
  Settled = 1,
  TimedOut = 2,
}

/**
 * One execute whose outcome is not final yet: its promise is pending, or (ordered mode) an earlier
 * input's is, so what it produced is held back. Allocated only for executes that return a promise
 * (or, in ordered mode, that run while earlier ones are unreleased): never on the synchronous path.
 */
export class AsyncCall {
  state = CallState.Pending;
  /**
   * Ordered mode: what this input produced while an earlier input was unreleased, in the order it
   * was made: (target task, tuple) pairs for emits, (HELD_ACK | HELD_FAIL, input) for acks and fails.
   */
  held: unknown[] | null = null;
  /** hrNow() when execute returned the promise: latency to settlement adds from there. */
  returnedMs = 0;
  /** The timeout bucket holding it while its promise is pending. */
  bucket: Set<AsyncCall> | null = null;

  constructor(
    readonly tuple: TupleImpl,
    /** Increasing per task: tells which of several anchors' calls came last. */
    readonly seq: number,
  ) {}

  hold(a: number, b: TupleImpl): void {
    (this.held ??= []).push(a, b);
  }
}

export const HELD_ACK = -1;
export const HELD_FAIL = -2;

/**
 * A task's unfinished calls: by input tuple, in input order (ordered mode), and by age for the
 * async timeout: Storm's RotatingMap semantics (one timer per worker rotates every task's buckets,
 * no timer per call), with each pending call pointing at its bucket, so putting and removing it
 * is one Set operation each (common/rotating-map.ts probes every bucket: its 3 to 6 Map operations
 * per call were measurable at 200k calls/s).
 */
export class AsyncCalls {
  private seq = 0;
  private readonly byTuple = new Map<TupleImpl, AsyncCall>();
  /** Pending calls by age, newest bucket first. */
  private readonly buckets: Array<Set<AsyncCall>> = [];
  /** Ordered mode: unreleased calls, oldest first, from `head`. Bounded by the in-flight limit. */
  private order: AsyncCall[] = [];
  private head = 0;

  constructor(private readonly onTimeout: (call: AsyncCall) => void) {
    for (let i = 0; i < ASYNC_TIMEOUT_BUCKETS; i++) this.buckets.push(new Set());
  }

  open(tuple: TupleImpl, ordered: boolean): AsyncCall {
    const call = new AsyncCall(tuple, this.seq++);
    this.byTuple.set(tuple, call);
    if (ordered) this.order.push(call);
    return call;
  }

  /** The unfinished call of `tuple`, if any. */
  of(tuple: TupleImpl): AsyncCall | undefined {
    return this.byTuple.get(tuple);
  }

  /** Starts (or restarts) the timeout of a pending call: it goes to the newest bucket. */
  time(call: AsyncCall): void {
    call.bucket?.delete(call);
    const newest = this.buckets[0];
    newest.add(call);
    call.bucket = newest;
  }

  untime(call: AsyncCall): void {
    call.bucket?.delete(call);
    call.bucket = null;
  }

  /** Expires the oldest bucket: `onTimeout` runs for each call in it (it was put there ASYNC_TIMEOUT_BUCKETS rotations ago). */
  rotate(): void {
    const expired = this.buckets.pop()!;
    this.buckets.unshift(new Set());
    for (const call of expired) {
      call.bucket = null;
      this.onTimeout(call);
    }
  }

  forget(call: AsyncCall): void {
    this.byTuple.delete(call.tuple);
  }

  /** Ordered mode: the oldest unreleased call. */
  first(): AsyncCall | undefined {
    return this.head < this.order.length ? this.order[this.head] : undefined;
  }

  /** Ordered mode: removes the oldest unreleased call. */
  shift(): void {
    this.order[this.head++] = undefined as unknown as AsyncCall;
    if (this.head === this.order.length) {
      this.order.length = 0;
      this.head = 0;
    } else if (this.head >= 1024 && this.head * 2 >= this.order.length) {
      this.order = this.order.slice(this.head);
      this.head = 0;
    }
  }
}
