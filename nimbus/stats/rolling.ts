/**
 * A rolling time window of counts in fixed buckets (Storm's rolling windows): `buckets` slots of
 * `spanMs / buckets` each, indexed by time, so memory is fixed per window and nothing ever
 * shifts. A slot remembers which bucket period it holds; one from an older period is stale and
 * is reset when reused or skipped when summed. A sum covers the current (partial) bucket and the
 * `buckets - 1` before it: between (buckets-1)/buckets of the span and the whole span. Times come
 * from the caller (Nimbus's clock), so tests drive it with a ManualClock.
 */
export interface Summable<T> {
  empty(): T;
  add(into: T, from: T): void;
}

export class RollingWindow<T> {
  readonly bucketMs: number;
  private readonly slots: Array<{ period: number; value: T } | null>;

  constructor(
    readonly spanMs: number,
    readonly buckets: number,
    private readonly ops: Summable<T>,
  ) {
    if (!(spanMs > 0) || !Number.isInteger(buckets) || buckets < 1) throw new RangeError('a rolling window needs a span > 0 and at least one bucket');
    this.bucketMs = spanMs / buckets;
    this.slots = new Array(buckets).fill(null);
  }

  private period(nowMs: number): number {
    return Math.floor(nowMs / this.bucketMs);
  }

  /** Adds `value` to the bucket of `nowMs`. */
  add(nowMs: number, value: T): void {
    const period = this.period(nowMs);
    const i = ((period % this.buckets) + this.buckets) % this.buckets;
    let slot = this.slots[i];
    if (slot === null || slot.period !== period) {
      if (slot !== null && slot.period > period) return; // a late value for a bucket already rolled over: drop
      slot = { period, value: this.ops.empty() };
      this.slots[i] = slot;
    }
    this.ops.add(slot.value, value);
  }

  /** The sum over the window ending at `nowMs`, and the time it covers (ms). */
  sum(nowMs: number): { value: T; coveredMs: number } {
    const period = this.period(nowMs);
    const oldest = period - this.buckets + 1;
    const value = this.ops.empty();
    for (const slot of this.slots) if (slot !== null && slot.period >= oldest && slot.period <= period) this.ops.add(value, slot.value);
    return { value, coveredMs: nowMs - oldest * this.bucketMs };
  }

  /** The sum of the newest `k` buckets (the current one partial) and the time they cover (ms). */
  sumRecent(nowMs: number, k: number): { value: T; coveredMs: number } {
    const period = this.period(nowMs);
    const oldest = period - Math.min(k, this.buckets) + 1;
    const value = this.ops.empty();
    for (const slot of this.slots) if (slot !== null && slot.period >= oldest && slot.period <= period) this.ops.add(value, slot.value);
    return { value, coveredMs: nowMs - oldest * this.bucketMs };
  }

  /** True when no bucket of the window ending at `nowMs` holds anything (the window can be dropped). */
  isIdle(nowMs: number): boolean {
    const oldest = this.period(nowMs) - this.buckets + 1;
    return this.slots.every((s) => s === null || s.period < oldest);
  }
}
