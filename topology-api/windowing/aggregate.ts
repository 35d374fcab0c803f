import type { Tuple } from '../tuple';

/**
 * Incremental aggregation (Flink's AggregateFunction): Squall keeps one accumulator per key and
 * open window instead of the window's tuples, so memory grows with keys × open windows.
 *
 * - `create()` returns an empty accumulator (never `undefined`).
 * - `add(acc, tuple)` folds one tuple in and returns the accumulator (it may change `acc` and
 *   return it: that avoids an allocation per tuple).
 * - `merge(a, b)` combines two accumulators and returns the result; it may change and return `a`,
 *   never `b` (sliding windows merge the accumulators of their slides; sessions merge when a tuple
 *   bridges two of them).
 * - `result(acc)` is what `executeAggregate` gets.
 */
export interface Aggregate<A = unknown, R = unknown> {
  create(): A;
  add(acc: A, tuple: Tuple): A;
  merge(a: A, b: A): A;
  result(acc: A): R;
}

/** The position of `field` in `tuple`, cached per Fields object (one lookup per stream, not per tuple). */
function fieldReader(field: string): (t: Tuple) => unknown {
  let fields: unknown = null;
  let index = -1;
  return (t) => {
    const f = t.getFields();
    if (f !== fields) {
      index = t.fieldIndex(field);
      fields = f;
    }
    return t.getValue(index);
  };
}

const EMPTY: unique symbol = Symbol('squall.aggregate.empty');
type Reduced<V> = V | typeof EMPTY;

/** Ready-made aggregates. */
export const Aggregates = {
  /** Tuples in the window. */
  count(): Aggregate<number, number> {
    return { create: () => 0, add: (a) => a + 1, merge: (a, b) => a + b, result: (a) => a };
  },
  /** Sum of a numeric field. */
  sum(field: string): Aggregate<number, number> {
    const read = fieldReader(field);
    return { create: () => 0, add: (a, t) => a + (read(t) as number), merge: (a, b) => a + b, result: (a) => a };
  },
  /** Smallest value of a numeric field (null for an empty window). */
  min(field: string): Aggregate<number, number | null> {
    const read = fieldReader(field);
    return {
      create: () => Infinity,
      add: (a, t) => Math.min(a, read(t) as number),
      merge: (a, b) => Math.min(a, b),
      result: (a) => (a === Infinity ? null : a),
    };
  },
  /** Largest value of a numeric field (null for an empty window). */
  max(field: string): Aggregate<number, number | null> {
    const read = fieldReader(field);
    return {
      create: () => -Infinity,
      add: (a, t) => Math.max(a, read(t) as number),
      merge: (a, b) => Math.max(a, b),
      result: (a) => (a === -Infinity ? null : a),
    };
  },
  /** Mean of a numeric field (null for an empty window). */
  average(field: string): Aggregate<{ sum: number; count: number }, number | null> {
    const read = fieldReader(field);
    return {
      create: () => ({ sum: 0, count: 0 }),
      add: (a, t) => {
        a.sum += read(t) as number;
        a.count++;
        return a;
      },
      merge: (a, b) => {
        a.sum += b.sum;
        a.count += b.count;
        return a;
      },
      result: (a) => (a.count === 0 ? null : a.sum / a.count),
    };
  },
  /**
   * Folds the values of `field` with `fn` (Flink's ReduceFunction): `fn` must be associative, as
   * it also combines partial results. The result is null for an empty window.
   */
  reduce<V>(field: string, fn: (a: V, b: V) => V): Aggregate<Reduced<V>, V | null> {
    const read = fieldReader(field);
    return {
      create: () => EMPTY,
      add: (a, t) => (a === EMPTY ? (read(t) as V) : fn(a, read(t) as V)),
      merge: (a, b) => (a === EMPTY ? b : b === EMPTY ? a : fn(a, b)),
      result: (a) => (a === EMPTY ? null : a),
    };
  },
} as const;
