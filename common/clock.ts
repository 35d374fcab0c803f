/**
 * Time, injected. Timeouts, heartbeats, tick tuples and acker rotation read a Clock, so unit tests
 * drive them with a ManualClock instead of sleeping.
 */
export interface Clock {
  /** Milliseconds on a monotonic timeline (not wall-clock). */
  now(): number;
  /** Wall-clock milliseconds since the epoch, for display and records. */
  wallNow(): number;
  setTimeout(fn: () => void, delayMs: number): TimerHandle;
  setInterval(fn: () => void, periodMs: number): TimerHandle;
  clear(handle: TimerHandle): void;
}

export interface TimerHandle {
  readonly id: number;
}

interface RealHandle extends TimerHandle {
  timer: NodeJS.Timeout;
  interval: boolean;
}

/**
 * Node's timers hold at most 2^31-1 ms (~24.8 days); a longer delay silently becomes 1 ms, which
 * turns a "practically never" timeout into a timer storm. Longer delays are chained instead.
 */
const NODE_TIMER_MAX_MS = 2_147_483_647;

/** Real time: `performance.now()` for intervals, Node timers (unref'd only when asked). */
export class SystemClock implements Clock {
  private nextId = 1;
  private readonly origin = Date.now() - performance.now();

  constructor(private readonly options: { unref?: boolean } = {}) {}

  now(): number {
    return performance.now();
  }
  wallNow(): number {
    return this.origin + performance.now();
  }
  setTimeout(fn: () => void, delayMs: number): TimerHandle {
    const handle: RealHandle = { id: this.nextId++, timer: undefined as unknown as NodeJS.Timeout, interval: false };
    this.arm(handle, Math.max(0, delayMs), fn);
    return handle;
  }
  setInterval(fn: () => void, periodMs: number): TimerHandle {
    const period = Math.max(1, periodMs);
    if (period > NODE_TIMER_MAX_MS) {
      // a period of weeks: a chain of timeouts re-armed after each firing
      const handle: RealHandle = { id: this.nextId++, timer: undefined as unknown as NodeJS.Timeout, interval: false };
      const fire = (): void => {
        this.arm(handle, period, fire);
        fn();
      };
      this.arm(handle, period, fire);
      return handle;
    }
    const timer = setInterval(fn, period);
    if (this.options.unref) timer.unref();
    return { id: this.nextId++, timer, interval: true } as RealHandle;
  }
  /** Arms `handle` to call `fn` after `delayMs`, in steps Node's timers can hold. */
  private arm(handle: RealHandle, delayMs: number, fn: () => void): void {
    const step = Math.min(delayMs, NODE_TIMER_MAX_MS);
    handle.timer = setTimeout(() => (delayMs > step ? this.arm(handle, delayMs - step, fn) : fn()), step);
    if (this.options.unref) handle.timer.unref();
  }
  clear(handle: TimerHandle): void {
    const h = handle as RealHandle;
    if (h.interval) clearInterval(h.timer);
    else clearTimeout(h.timer);
  }
}

interface ManualTimer {
  id: number;
  dueMs: number;
  periodMs: number;
  fn: () => void;
}

/** Time that moves only when a test calls `advance`; due timers fire in order, synchronously. */
export class ManualClock implements Clock {
  private current: number;
  private readonly wallOrigin: number;
  private nextId = 1;
  private readonly timers = new Map<number, ManualTimer>();

  constructor(startMs = 0, wallOriginMs = 1_700_000_000_000) {
    this.current = startMs;
    this.wallOrigin = wallOriginMs;
  }

  now(): number {
    return this.current;
  }
  wallNow(): number {
    return this.wallOrigin + this.current;
  }
  setTimeout(fn: () => void, delayMs: number): TimerHandle {
    return this.add(fn, Math.max(0, delayMs), 0);
  }
  setInterval(fn: () => void, periodMs: number): TimerHandle {
    return this.add(fn, Math.max(1, periodMs), Math.max(1, periodMs));
  }
  clear(handle: TimerHandle): void {
    this.timers.delete(handle.id);
  }
  /** Timers not yet fired or cleared. */
  pendingTimers(): number {
    return this.timers.size;
  }

  /** Moves time forward, firing every timer that falls due, earliest first. */
  advance(ms: number): void {
    const target = this.current + ms;
    for (;;) {
      let next: ManualTimer | undefined;
      for (const t of this.timers.values()) if (t.dueMs <= target && (!next || t.dueMs < next.dueMs || (t.dueMs === next.dueMs && t.id < next.id))) next = t;
      if (!next) break;
      this.current = Math.max(this.current, next.dueMs);
      if (next.periodMs > 0) next.dueMs += next.periodMs;
      else this.timers.delete(next.id);
      next.fn();
    }
    this.current = target;
  }

  private add(fn: () => void, delayMs: number, periodMs: number): TimerHandle {
    const id = this.nextId++;
    this.timers.set(id, { id, dueMs: this.current + delayMs, periodMs, fn });
    return { id };
  }
}
