/**
 * Figures of a measurement window from two snapshots of cumulative executor stats, one sample per
 * worker. Each worker's counts are divided by that worker's own elapsed time between its two
 * samples (heartbeats of different workers do not arrive together), then summed.
 */
import type { ExecutorStats } from '../common/cluster-state/types';
import { Histogram } from '../common/histogram';

/** One worker's cumulative stats at `atMs` (ms on that worker's clock). */
export interface WorkerSample {
  worker: string;
  atMs: number;
  stats: readonly ExecutorStats[];
}

export type Snapshot = readonly WorkerSample[];

function sumCounts(counts: Record<string, number>, skipSystem: boolean): number {
  let n = 0;
  for (const k in counts) if (!skipSystem || !k.startsWith('__')) n += counts[k];
  return n;
}

type Field = 'executed' | 'acked' | 'failed' | 'emitted' | 'transferred';

/** Cumulative count of `field` over executors of `component` (all spouts when it is '*spouts'). */
export function countOf(stats: readonly ExecutorStats[], component: string, field: Field): number {
  let n = 0;
  for (const s of stats) {
    if (component === '*spouts' ? s.kind !== 'spout' : s.component !== component) continue;
    // a bolt's executed counts include tick tuples and, for ackers, acker messages: user input only
    n += sumCounts(s[field], s.component !== '__acker');
  }
  return n;
}

/** Total of `field` over every worker of a snapshot. */
export function total(snap: Snapshot, component: string, field: Field): number {
  let n = 0;
  for (const w of snap) n += countOf(w.stats, component, field);
  return n;
}

/** Per-second rate of `field` of `component` between two snapshots of the same workers. */
export function rate(a: Snapshot, b: Snapshot, component: string, field: Field): number {
  let r = 0;
  for (const wb of b) {
    const wa = a.find((w) => w.worker === wb.worker);
    if (wa === undefined || wb.atMs <= wa.atMs) continue;
    r += ((countOf(wb.stats, component, field) - countOf(wa.stats, component, field)) / (wb.atMs - wa.atMs)) * 1000;
  }
  return r;
}

function completeHistogram(snap: Snapshot): Histogram {
  const h = new Histogram();
  for (const w of snap) for (const s of w.stats) if (s.completeHistogram) h.merge(Histogram.fromSparse(s.completeHistogram));
  return h;
}

/** Complete latency percentiles (ms) of the spout tuples acked between two snapshots. */
export function latencyBetween(a: Snapshot, b: Snapshot): { count: number; p50Ms: number; p99Ms: number; p999Ms: number } {
  const before = completeHistogram(a);
  const h = completeHistogram(b);
  // cumulative histograms: the window's is the difference (maxUs stays the run's, an upper bound)
  for (let i = 0; i < h.counts.length; i++) h.counts[i] -= before.counts[i];
  h.total -= before.total;
  return { count: h.total, p50Ms: h.percentileMs(50), p99Ms: h.percentileMs(99), p999Ms: h.percentileMs(99.9) };
}

export function median(xs: readonly number[]): number {
  const s = xs.filter((x) => !Number.isNaN(x)).sort((p, q) => p - q);
  if (s.length === 0) return NaN;
  const m = s.length >> 1;
  return s.length % 2 ? s[m] : (s[m - 1] + s[m]) / 2;
}

export const sleep = (ms: number): Promise<void> => new Promise((r) => setTimeout(r, ms));
