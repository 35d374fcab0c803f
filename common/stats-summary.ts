import type { ComponentError, ExecutorStats } from './cluster-state/types';
import { Histogram } from './histogram';
import { sumWindowStats, type WindowingStats } from './window-stats';

/** Latency percentiles (ms) from the exact histograms (each value within ~6%). */
export interface Percentiles {
  p50: number;
  p90: number;
  p99: number;
  p999: number;
}

/** A user metric (context.register*) aggregated over executors: tasks and workers. */
export type UserMetricSummary =
  | { name: string; type: 'counter'; count: number }
  | { name: string; type: 'meter'; count: number; ratePerSec: number | null }
  | { name: string; type: 'histogram'; count: number; mean: number; max: number; p50: number; p90: number; p99: number; p999: number }
  | { name: string; type: 'gauge'; value: number; min: number; max: number; mean: number; tasks: number };

/** Optional per-executor figures of async, windowed and stateful bolts, aggregated per component. */
export interface ExtraSummary {
  inflight?: number;
  asyncTimedOut?: number;
  windows?: WindowingStats;
  checkpoint?: { txid: number; durationMs: number; sizeBytes: number; alignmentMs: number; heldTuples: number; failed: number };
}

/** Totals of one component over its executors, in Storm UI's field names. */
export interface ComponentSummary {
  componentId: string;
  type: 'spout' | 'bolt';
  executors: number;
  tasks: number;
  emitted: number;
  transferred: number;
  acked: number;
  failed: number;
  /** Bolts. */
  executed: number;
  /** Averages in ms. */
  executeLatency: number;
  processLatency: number;
  completeLatency: number;
  /** Highest capacity of its executors (Storm shows the busiest). */
  capacity: number;
  /** Spouts: complete latency; bolts: execute latency (per-batch means). */
  completeLatencyPercentiles: Percentiles;
  executeLatencyPercentiles: Percentiles;
  /** Time its executors spent parked by backpressure (ms, summed). */
  backpressureMs: number;
  lastError: string;
  errorHost: string;
  errorPort: number | null;
  errorTime: number | null;
  /** Windowed bolts: their window figures over every executor (docs/windowing.md). */
  windows?: WindowingStats;
  /** Async bolts (once a task had an async call): execute promises unsettled now, over every executor. */
  inflight?: number;
  /** Async bolts: inputs failed because their promise outlived topology.async.timeout.secs. */
  asyncTimedOut?: number;
}

export interface TopologyTotals {
  emitted: number;
  transferred: number;
  acked: number;
  failed: number;
  completeLatency: number;
}

function total(counts: Record<string, number>, skip?: (key: string) => boolean): number {
  let n = 0;
  for (const k in counts) if (!skip || !skip(k)) n += counts[k];
  return n;
}

const isSystemStream = (k: string): boolean => k.startsWith('__');

/**
 * Aggregates executor stats by component. Process latency charges tuples acked inside their own
 * execute with that execute's mean latency, and later acks with their measured time (see
 * worker/tasks.ts).
 */
export function summarizeComponents(
  stats: readonly ExecutorStats[],
  components: ReadonlyArray<{ id: string; type: 'spout' | 'bolt'; executors: number; tasks: number }>,
  errors: Readonly<Record<string, ComponentError[]>> = {},
): ComponentSummary[] {
  return components.map(({ id, type, executors, tasks }) => {
    const mine = stats.filter((s) => s.component === id);
    let emitted = 0, transferred = 0, acked = 0, failed = 0, executed = 0;
    let executeMs = 0, processMs = 0, processCount = 0, completeMs = 0, capacity = 0, busyExecuted = 0, backpressureMs = 0;
    const completeHist = new Histogram();
    const executeHist = new Histogram();
    for (const s of mine) {
      if (s.completeHistogram) completeHist.merge(Histogram.fromSparse(s.completeHistogram));
      if (s.executeHistogram) executeHist.merge(Histogram.fromSparse(s.executeHistogram));
      backpressureMs += typeof s.backpressureMs === 'number' ? s.backpressureMs : 0;
      emitted += total(s.emitted, isSystemStream);
      transferred += total(s.transferred, isSystemStream);
      acked += total(s.acked);
      failed += total(s.failed);
      const ex = total(s.executed);
      executed += ex;
      busyExecuted += type === 'spout' ? total(s.emitted) : ex;
      executeMs += s.executeMsTotal;
      processMs += s.processMsTotal;
      processCount += s.processCount;
      completeMs += s.completeMsTotal;
      capacity = Math.max(capacity, s.capacity);
    }
    const executeLatency = busyExecuted > 0 ? executeMs / busyExecuted : 0;
    const immediate = Math.max(0, acked - processCount);
    const processLatency = acked > 0 ? (processMs + immediate * executeLatency) / acked : 0;
    const errs = errors[id] ?? [];
    const last = errs[errs.length - 1];
    const windows = sumWindowStats(mine.map((s) => s.windows));
    const { inflight, asyncTimedOut } = summarizeExtras(mine);
    return {
      componentId: id,
      type,
      executors,
      tasks,
      emitted,
      transferred,
      acked,
      failed,
      executed,
      executeLatency: round3(type === 'bolt' ? executeLatency : 0),
      processLatency: round3(type === 'bolt' ? processLatency : 0),
      completeLatency: round3(type === 'spout' && acked > 0 ? completeMs / acked : 0),
      capacity: round3(capacity),
      completeLatencyPercentiles: percentiles(type === 'spout' ? completeHist : new Histogram()),
      executeLatencyPercentiles: percentiles(type === 'bolt' ? executeHist : new Histogram()),
      backpressureMs: Math.round(backpressureMs),
      lastError: last ? last.error : '',
      errorHost: last ? last.host : '',
      errorPort: last ? last.port : null,
      errorTime: last ? last.errorTimeMs : null,
      ...(windows !== undefined ? { windows } : {}),
      ...(inflight !== undefined ? { inflight, asyncTimedOut: asyncTimedOut ?? 0 } : {}),
    };
  });
}

/** Topology totals the way Storm counts them: emitted/transferred over all components, acks at the spouts. */
export function topologyTotals(summaries: readonly ComponentSummary[]): TopologyTotals {
  let emitted = 0, transferred = 0, acked = 0, failed = 0, completeWeighted = 0;
  for (const c of summaries) {
    emitted += c.emitted;
    transferred += c.transferred;
    if (c.type === 'spout') {
      acked += c.acked;
      failed += c.failed;
      completeWeighted += c.completeLatency * c.acked;
    }
  }
  return { emitted, transferred, acked, failed, completeLatency: round3(acked > 0 ? completeWeighted / acked : 0) };
}

/** Complete-latency distribution over every spout executor given. */
export function completeLatencyHistogram(stats: readonly ExecutorStats[]): Histogram {
  const h = new Histogram();
  for (const s of stats) if (s.completeHistogram) h.merge(Histogram.fromSparse(s.completeHistogram));
  return h;
}

export function percentiles(h: Histogram): Percentiles {
  return { p50: round3(h.percentileMs(50)), p90: round3(h.percentileMs(90)), p99: round3(h.percentileMs(99)), p999: round3(h.percentileMs(99.9)) };
}

/**
 * The optional figures of async, windowed and stateful bolts over executors: counts and sizes
 * summed, durations and the txid the highest, the watermark the lowest (the component's progress).
 * Undefined where no executor reports them.
 */
export function summarizeExtras(stats: readonly ExecutorStats[]): ExtraSummary {
  const out: ExtraSummary = {};
  const windows = sumWindowStats(stats.map((s) => s.windows));
  if (windows !== undefined) out.windows = windows;
  for (const s of stats) {
    if (typeof s.inflight === 'number') out.inflight = (out.inflight ?? 0) + s.inflight;
    if (typeof s.asyncTimedOut === 'number') out.asyncTimedOut = (out.asyncTimedOut ?? 0) + s.asyncTimedOut;
    const c = s.checkpoint;
    if (c && typeof c === 'object') {
      const o = (out.checkpoint ??= { txid: 0, durationMs: 0, sizeBytes: 0, alignmentMs: 0, heldTuples: 0, failed: 0 });
      o.txid = Math.max(o.txid, c.txid);
      o.durationMs = Math.max(o.durationMs, c.durationMs);
      o.alignmentMs = Math.max(o.alignmentMs, c.alignmentMs);
      o.sizeBytes += c.sizeBytes;
      o.heldTuples += c.heldTuples;
      o.failed += c.failed;
    }
  }
  return out;
}

/**
 * User metrics over executors (tasks and workers): counters, meters and histograms summed, gauges
 * over every task's latest value. `spanSecs` (a window's length) gives meters their rate.
 */
export function summarizeUserMetrics(stats: readonly ExecutorStats[], spanSecs: number | null): UserMetricSummary[] {
  const counts = new Map<string, { type: 'counter' | 'meter'; count: number }>();
  const hists = new Map<string, { h: Histogram; sum: number; count: number }>();
  const gauges = new Map<string, number[]>();
  for (const s of stats) {
    for (const [name, m] of Object.entries(s.metrics ?? {})) {
      if (m.type === 'counter' || m.type === 'meter') {
        const c = counts.get(name) ?? { type: m.type, count: 0 };
        c.count += m.count;
        counts.set(name, c);
      } else if (m.type === 'histogram') {
        const h = hists.get(name) ?? { h: new Histogram(), sum: 0, count: 0 };
        h.h.merge(Histogram.fromSparse(m.hist));
        h.sum += m.sum;
        h.count += m.count;
        hists.set(name, h);
      } else if (m.type === 'gauge') {
        const list = gauges.get(name) ?? [];
        for (const v of Object.values(m.values)) if (typeof v === 'number' && Number.isFinite(v)) list.push(v);
        gauges.set(name, list);
      }
    }
  }
  const out: UserMetricSummary[] = [];
  for (const [name, c] of counts) {
    out.push(c.type === 'counter' ? { name, type: 'counter', count: c.count } : { name, type: 'meter', count: c.count, ratePerSec: spanSecs && spanSecs > 0 ? round3(c.count / spanSecs) : null });
  }
  for (const [name, { h, sum, count }] of hists) {
    // Values are recorded in the metric's own unit through the µs-scaled histogram.
    const at = (p: number): number => round3(h.percentileMs(p) * 1000);
    out.push({ name, type: 'histogram', count, mean: count > 0 ? round3(sum / count) : 0, max: round3(h.maxUs), p50: at(50), p90: at(90), p99: at(99), p999: at(99.9) });
  }
  for (const [name, values] of gauges) {
    const total = values.reduce((a, b) => a + b, 0);
    out.push({ name, type: 'gauge', value: round3(total), min: values.length ? Math.min(...values) : 0, max: values.length ? Math.max(...values) : 0, mean: values.length ? round3(total / values.length) : 0, tasks: values.length });
  }
  return out.sort((a, b) => (a.name < b.name ? -1 : a.name > b.name ? 1 : 0));
}

function round3(x: number): number {
  return Math.round(x * 1000) / 1000;
}
