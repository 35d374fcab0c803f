import { Config, TOPOLOGY_CONFIG_SPEC, type TopologyConfig, type TupleImpl } from '../topology-api';
import { RotatingMap } from '../common/rotating-map';

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
 * async timeout (Storm's RotatingMap: one timer per worker rotates every task's map, no timer
 * per call).
 */
export class AsyncCalls {
  private seq = 0;
  private readonly byTuple = new Map<TupleImpl, AsyncCall>();
  private readonly timeouts: RotatingMap<AsyncCall, AsyncCall>;
  /** Ordered mode: unreleased calls, oldest first, from `head`. Bounded by the in-flight limit. */
  private order: AsyncCall[] = [];
  private head = 0;

  constructor(onTimeout: (call: AsyncCall) => void) {
    this.timeouts = new RotatingMap(ASYNC_TIMEOUT_BUCKETS, (call) => onTimeout(call));
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

  /** Starts (or restarts) the timeout of a pending call. */
  time(call: AsyncCall): void {
    this.timeouts.put(call, call);
  }

  untime(call: AsyncCall): void {
    this.timeouts.remove(call);
  }

  /** Expires the oldest bucket: `onTimeout` runs for each call in it. */
  rotate(): void {
    this.timeouts.rotate();
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
