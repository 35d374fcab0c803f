/**
 * The registry behind `context.registerCounter/Meter/Histogram/Gauge` (topology-api/metrics.ts):
 * one per executor, metrics kept per task, summed per executor into its stats
 * (ExecutorStats.metrics) at each heartbeat; Nimbus sums executors into components.
 */
import type { UserMetricStats } from '../common/cluster-state/types';
import { squallError } from '../common/errors';
import { Histogram } from '../common/histogram';
import type { Counter, Gauge, Meter, MetricHistogram, MetricRegistrar } from '../topology-api/metrics';

/** Distinct metric names per executor; more are refused (Nimbus keeps as many). */
export const USER_METRICS_PER_EXECUTOR_MAX = 100;
const NAME = /^[A-Za-z_][A-Za-z0-9_.:-]{0,199}$/;

class CountImpl implements Counter, Meter {
  count = 0;
  inc(n = 1): void {
    if (n > 0) this.count += n;
  }
  mark(n = 1): void {
    if (n > 0) this.count += n;
  }
  getCount(): number {
    return this.count;
  }
}

class HistogramImpl implements MetricHistogram {
  readonly h = new Histogram();
  update(value: number): void {
    this.h.recordUs(Number.isFinite(value) ? value : 0);
  }
  getCount(): number {
    return this.h.total;
  }
}

class GaugeImpl implements Gauge {
  constructor(private readonly fn: () => number) {}
  getValue(): number {
    return this.fn();
  }
}

type Kind = UserMetricStats['type'];
type Impl = CountImpl | HistogramImpl | GaugeImpl;

export class UserMetricsRegistry {
  /** name → its type and each task's metric. */
  private readonly metrics = new Map<string, { type: Kind; tasks: Map<number, Impl> }>();

  /** The registrar a task's context hands out. */
  forTask(task: number): MetricRegistrar {
    return {
      registerCounter: (name) => this.register(name, 'counter', task, () => new CountImpl()) as CountImpl,
      registerMeter: (name) => this.register(name, 'meter', task, () => new CountImpl()) as CountImpl,
      registerHistogram: (name) => this.register(name, 'histogram', task, () => new HistogramImpl()) as HistogramImpl,
      registerGauge: (name, fn) => {
        if (typeof fn !== 'function') throw squallError('ERR_METRIC_INVALID', `gauge "${name}" needs a function`);
        return this.register(name, 'gauge', task, () => new GaugeImpl(fn)) as GaugeImpl;
      },
    };
  }

  get size(): number {
    return this.metrics.size;
  }

  /** Every metric summed over tasks; gauges read now (a throwing or non-numeric gauge is left out). */
  snapshot(): Record<string, UserMetricStats> | undefined {
    if (this.metrics.size === 0) return undefined;
    const out: Record<string, UserMetricStats> = {};
    for (const [name, { type, tasks }] of this.metrics) {
      if (type === 'counter' || type === 'meter') {
        let count = 0;
        for (const m of tasks.values()) count += (m as CountImpl).count;
        out[name] = { type, count };
      } else if (type === 'histogram') {
        const h = new Histogram();
        for (const m of tasks.values()) h.merge((m as HistogramImpl).h);
        out[name] = { type, count: h.total, sum: h.sumUs, hist: h.toSparse() };
      } else {
        const values: Record<string, number> = {};
        for (const [task, m] of tasks) {
          try {
            const v = (m as GaugeImpl).getValue();
            if (typeof v === 'number' && Number.isFinite(v)) values[String(task)] = v;
          } catch {
            // a gauge that throws reads as absent; the component's own errors are its to report
          }
        }
        out[name] = { type, values };
      }
    }
    return out;
  }

  private register(name: string, type: Kind, task: number, make: () => Impl): Impl {
    if (typeof name !== 'string' || !NAME.test(name)) {
      throw squallError('ERR_METRIC_INVALID', `metric name ${JSON.stringify(name)}: letters, digits, '_', '.', ':' and '-', starting with a letter or '_', at most 200 characters`);
    }
    let entry = this.metrics.get(name);
    if (entry && entry.type !== type) throw squallError('ERR_METRIC_INVALID', `metric "${name}" is already a ${entry.type}, not a ${type}`);
    if (!entry) {
      if (this.metrics.size >= USER_METRICS_PER_EXECUTOR_MAX) throw squallError('ERR_METRIC_INVALID', `at most ${USER_METRICS_PER_EXECUTOR_MAX} metrics per executor`);
      entry = { type, tasks: new Map() };
      this.metrics.set(name, entry);
    }
    let m = entry.tasks.get(task);
    if (!m) {
      m = make();
      entry.tasks.set(task, m);
    }
    return m;
  }
}
