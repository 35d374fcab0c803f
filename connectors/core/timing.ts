/**
 * Time and randomness for connectors, injected so unit tests drive them with a manual clock and a
 * seeded generator (connectors import only the topology API, so they bring their own small
 * interfaces; `common/clock.ts`'s Clock satisfies this one).
 */
export interface ConnectorClock {
  /** Milliseconds on a monotonic timeline. */
  now(): number;
  setTimeout(fn: () => void, delayMs: number): unknown;
  clear(handle: unknown): void;
}

/** A number in [0, 1). */
export type Rng = () => number;

/** Real time: `performance.now()` and Node's timers. */
export const SYSTEM_CLOCK: ConnectorClock = {
  now: () => performance.now(),
  setTimeout: (fn, delayMs) => setTimeout(fn, Math.max(0, delayMs)),
  clear: (handle) => clearTimeout(handle as NodeJS.Timeout),
};

/** A small seeded generator (mulberry32): reproducible jitter in tests. */
export function seededRng(seed: number): Rng {
  let a = seed >>> 0;
  return () => {
    a = (a + 0x6d2b79f5) | 0;
    let t = Math.imul(a ^ (a >>> 15), 1 | a);
    t = (t + Math.imul(t ^ (t >>> 7), 61 | t)) ^ t;
    return ((t ^ (t >>> 14)) >>> 0) / 4294967296;
  };
}

/** Backoff waits on a clock that a close cuts short, all at once (no timer outlives its owner). */
export class Pauses {
  private readonly cuts = new Set<() => void>();
  private closed = false;

  constructor(private readonly clock: ConnectorClock) {}

  /** Resolves after `ms`, or at once after `cutAll()`. */
  wait(ms: number): Promise<void> {
    if (this.closed) return Promise.resolve();
    return new Promise<void>((resolve) => {
      const done = (): void => {
        this.cuts.delete(cut);
        resolve();
      };
      const t = this.clock.setTimeout(done, ms);
      const cut = (): void => {
        this.clock.clear(t);
        done();
      };
      this.cuts.add(cut);
    });
  }

  /** Ends every wait now, and every later one at once. */
  cutAll(): void {
    this.closed = true;
    for (const cut of [...this.cuts]) cut();
  }
}
