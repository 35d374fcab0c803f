import type { ComponentError, ExecutorStats } from './cluster-state/types';
import { Histogram } from './histogram';

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
  lastError: string;
  errorHost: string;
  errorPort: number | null;
  errorTime: number | null;
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
    let executeMs = 0, processMs = 0, processCount = 0, completeMs = 0, capacity = 0, busyExecuted = 0;
    for (const s of mine) {
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
      lastError: last ? last.error : '',
      errorHost: last ? last.host : '',
      errorPort: last ? last.port : null,
      errorTime: last ? last.errorTimeMs : null,
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

function round3(x: number): number {
  return Math.round(x * 1000) / 1000;
}
