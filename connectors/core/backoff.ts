import type { Rng } from './timing';

export interface BackoffOptions {
  /** First delay's upper bound (ms). */
  initialMs: number;
  /** No delay is longer than this (ms). */
  maxMs: number;
  /** Growth per attempt (default 2). */
  factor?: number;
}

/**
 * Capped exponential backoff with "equal jitter": attempt n waits a random time in [d/2, d] where
 * d = min(maxMs, initialMs * factor^n). Half the delay is fixed, so a herd of reconnecting tasks
 * never retries at once, and half is random, so they spread out (AWS architecture blog,
 * "Exponential Backoff And Jitter").
 */
export class Backoff {
  private attempt = 0;
  private readonly factor: number;

  constructor(
    private readonly options: BackoffOptions,
    private readonly random: Rng,
  ) {
    this.factor = options.factor ?? 2;
  }

  /** The ceiling of attempt `n` (0-based), before jitter. */
  ceilingMs(n: number): number {
    return Math.min(this.options.maxMs, this.options.initialMs * Math.pow(this.factor, Math.min(n, 64)));
  }

  /** The delay of attempt `n`, jittered. */
  delayFor(n: number): number {
    const d = this.ceilingMs(n);
    return d / 2 + this.random() * (d / 2);
  }

  /** The next delay of this sequence. */
  next(): number {
    return this.delayFor(this.attempt++);
  }

  /** Attempts made since the last reset. */
  attempts(): number {
    return this.attempt;
  }

  reset(): void {
    this.attempt = 0;
  }
}
