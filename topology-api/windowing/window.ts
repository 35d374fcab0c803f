import type { Tuple } from '../tuple';

/** What every fired window tells about itself (results of incremental aggregation get this). */
export interface WindowInfo {
  /**
   * Where the window starts (ms, inclusive): the aligned start of an event- or processing-time
   * window, the first tuple's time of a session; null when the length is a count (as in Storm).
   */
  getStartTimestamp(): number | null;
  /**
   * Where the window ends (ms, exclusive): the aligned end of a time window, the last tuple's time
   * plus the gap of a session; for count windows the time they fired (the watermark in event time).
   * Processing time is the worker's wall clock.
   */
  getEndTimestamp(): number;
  /** The key (withKeyField) this window is for; null without a key field. */
  getKey(): unknown;
  /**
   * True when the window fired before and fires again because a late tuple arrived within the
   * allowed lateness (withAllowedLateness): the result replaces the earlier one.
   */
  isUpdate(): boolean;
}

/** Storm's `Window<T>`: the tuples in the window, those new since the last one, those that left. */
export interface Window<T> extends WindowInfo {
  /** Every tuple in the window, oldest first. */
  get(): T[];
  /** Tuples that were not in the window the last time it was evaluated. */
  getNew(): T[];
  /** Tuples that were in the last window and are not in this one. */
  getExpired(): T[];
}

/** Storm's `TupleWindow`: what `BaseWindowedBolt.execute` gets. */
export type TupleWindow = Window<Tuple>;
