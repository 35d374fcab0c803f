/**
 * User metrics, Storm's metrics v2 names (docs/metrics.md): a component registers them on its
 * TopologyContext in `open`/`prepare` and updates them from `nextTuple`/`execute`. Squall sums them
 * over the component's tasks and workers, shows them on the REST component page and exports them
 * at Nimbus's `GET /metrics`. Updating one is a field increment (no allocation, no I/O).
 */

/** A count that only goes up (Storm's Counter, without `dec`: Prometheus counters never fall). */
export interface Counter {
  inc(n?: number): void;
  getCount(): number;
}

/** Events whose rate matters (Storm's Meter): Nimbus gives rates over its windows. */
export interface Meter {
  mark(n?: number): void;
  getCount(): number;
}

/**
 * A distribution of values (Storm's Histogram): kept as an exact log-linear histogram (each value
 * within ~6%), values from 0 to 4e9 in the metric's own unit (negative values count as 0).
 */
export interface MetricHistogram {
  update(value: number): void;
  getCount(): number;
}

/** A value read when stats are sent (once a heartbeat, ~1 s): `fn` must be cheap and not throw. */
export interface Gauge {
  getValue(): number;
}

/** What TopologyContext offers for user metrics. */
export interface MetricRegistrar {
  /** Registering the same name again on a task returns the same metric; another type under a name is ERR_METRIC_INVALID. */
  registerCounter(name: string): Counter;
  registerMeter(name: string): Meter;
  registerHistogram(name: string): MetricHistogram;
  registerGauge(name: string, fn: () => number): Gauge;
}
