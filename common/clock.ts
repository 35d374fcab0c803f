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
    const timer = setTimeout(fn, Math.max(0, delayMs));
    if (this.options.unref) timer.unref();
    const handle: RealHandle = { id: this.nextId++, timer, interval: false };
    return handle;
  }
  setInterval(fn: () => void, periodMs: number): TimerHandle {
    const timer = setInterval(fn, Math.max(1, periodMs));
    if (this.options.unref) timer.unref();
    const handle: RealHandle = { id: this.nextId++, timer, interval: true };
    return handle;
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
