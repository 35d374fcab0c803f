/**
 * What Nimbus adds up from worker stats: the counters of one executor over some span (a window
 * bucket, or all time), kept as a mergeable value. Workers report cumulative ExecutorStats;
 * `diffStats` turns two reports of one worker incarnation into the counts in between, `addCounts`
 * sums, and `countsToStats` gives an ExecutorStats again so the REST views aggregate any span the
 * same way. Histograms are sparse maps (bucket → count) so an idle span costs nothing.
 */
import type { ExecutorStats, UserMetricStats } from '../../common/cluster-state/types';

export type SparseHistogram = Map<number, number>;

export type MetricCounts =
  | { type: 'counter' | 'meter'; count: number }
  | { type: 'histogram'; count: number; sum: number; hist: SparseHistogram };

export interface Counts {
  emitted: Record<string, number>;
  transferred: Record<string, number>;
  executed: Record<string, number>;
  acked: Record<string, number>;
  failed: Record<string, number>;
  executeMsTotal: number;
  processMsTotal: number;
  processCount: number;
  completeMsTotal: number;
  backpressureMs: number;
  completeHist: SparseHistogram;
  executeHist: SparseHistogram;
  metrics: Map<string, MetricCounts>;
}

const RECORDS = ['emitted', 'transferred', 'executed', 'acked', 'failed'] as const;
const NUMBERS = ['executeMsTotal', 'processMsTotal', 'processCount', 'completeMsTotal'] as const;

export function emptyCounts(): Counts {
  return {
    emitted: {},
    transferred: {},
    executed: {},
    acked: {},
    failed: {},
    executeMsTotal: 0,
    processMsTotal: 0,
    processCount: 0,
    completeMsTotal: 0,
    backpressureMs: 0,
    completeHist: new Map(),
    executeHist: new Map(),
    metrics: new Map(),
  };
}

/** A finite, non-negative number or 0 (reports come over the network). */
function num(v: unknown): number {
  return typeof v === 'number' && Number.isFinite(v) && v > 0 ? v : 0;
}

function diffRecord(cur: Record<string, number> | undefined, base: Record<string, number> | undefined): Record<string, number> {
  const out: Record<string, number> = {};
  if (!cur || typeof cur !== 'object') return out;
  for (const k of Object.keys(cur)) {
    const d = num(cur[k]) - num(base?.[k]);
    if (d > 0) out[k] = d;
  }
  return out;
}

function sparseMap(pairs: readonly number[] | undefined): SparseHistogram {
  const m: SparseHistogram = new Map();
  if (!Array.isArray(pairs)) return m;
  for (let i = 0; i + 1 < pairs.length; i += 2) {
    const b = pairs[i];
    if (Number.isInteger(b) && b >= 0) m.set(b, (m.get(b) ?? 0) + num(pairs[i + 1]));
  }
  return m;
}

function diffSparse(cur: readonly number[] | undefined, base: readonly number[] | undefined): SparseHistogram {
  const out = sparseMap(cur);
  for (const [b, n] of sparseMap(base)) {
    const left = (out.get(b) ?? 0) - n;
    if (left > 0) out.set(b, left);
    else out.delete(b);
  }
  return out;
}

function diffMetric(cur: UserMetricStats, base: UserMetricStats | undefined): MetricCounts | null {
  const same = base && base.type === cur.type ? base : undefined;
  switch (cur.type) {
    case 'counter':
    case 'meter':
      return { type: cur.type, count: Math.max(0, num(cur.count) - num((same as { count?: number } | undefined)?.count)) };
    case 'histogram': {
      const b = same as Extract<UserMetricStats, { type: 'histogram' }> | undefined;
      return { type: 'histogram', count: Math.max(0, num(cur.count) - num(b?.count)), sum: Math.max(0, num(cur.sum) - num(b?.sum)), hist: diffSparse(cur.hist, b?.hist) };
    }
    default:
      return null; // gauges are not counts: the latest report holds them
  }
}

/** The counts between two cumulative reports of one worker incarnation (`base` null: since it started). */
export function diffStats(cur: ExecutorStats, base: ExecutorStats | null): Counts {
  const c = emptyCounts();
  for (const k of RECORDS) c[k] = diffRecord(cur[k], base?.[k]);
  for (const k of NUMBERS) c[k] = Math.max(0, num(cur[k]) - num(base?.[k]));
  c.backpressureMs = Math.max(0, num(cur.backpressureMs) - num(base?.backpressureMs));
  c.completeHist = diffSparse(cur.completeHistogram, base?.completeHistogram);
  c.executeHist = diffSparse(cur.executeHistogram, base?.executeHistogram);
  if (cur.metrics && typeof cur.metrics === 'object') {
    for (const [name, m] of Object.entries(cur.metrics)) {
      if (!m || typeof m !== 'object') continue;
      const d = diffMetric(m, base?.metrics?.[name]);
      if (d) c.metrics.set(name, d);
    }
  }
  return c;
}

function addSparse(into: SparseHistogram, from: SparseHistogram): void {
  for (const [b, n] of from) into.set(b, (into.get(b) ?? 0) + n);
}

function addRecord(into: Record<string, number>, from: Record<string, number>): void {
  for (const k in from) into[k] = (into[k] ?? 0) + from[k];
}

/** `into += from`. */
export function addCounts(into: Counts, from: Counts): void {
  for (const k of RECORDS) addRecord(into[k], from[k]);
  for (const k of NUMBERS) into[k] += from[k];
  into.backpressureMs += from.backpressureMs;
  addSparse(into.completeHist, from.completeHist);
  addSparse(into.executeHist, from.executeHist);
  for (const [name, m] of from.metrics) {
    const have = into.metrics.get(name);
    if (!have) {
      into.metrics.set(name, m.type === 'histogram' ? { type: 'histogram', count: m.count, sum: m.sum, hist: new Map(m.hist) } : { ...m });
    } else if (have.type === 'histogram' && m.type === 'histogram') {
      have.count += m.count;
      have.sum += m.sum;
      addSparse(have.hist, m.hist);
    } else if (have.type !== 'histogram' && m.type !== 'histogram') {
      have.count += m.count;
    }
  }
}

export function isEmptyCounts(c: Counts): boolean {
  for (const k of RECORDS) for (const key in c[k]) if (c[k][key] > 0) return false;
  return c.executeMsTotal === 0 && c.processCount === 0 && c.completeMsTotal === 0 && c.backpressureMs === 0 && c.completeHist.size === 0 && c.executeHist.size === 0 && c.metrics.size === 0;
}

export function toSparse(h: SparseHistogram): number[] {
  const out: number[] = [];
  for (const b of [...h.keys()].sort((x, y) => x - y)) out.push(b, h.get(b)!);
  return out;
}

/**
 * Counts as ExecutorStats (for the views). `latest` is the executor's newest report: it gives
 * what is not a count (capacity unless given, uptime, gauges and the optional fields of async,
 * windowed and stateful bolts).
 */
export function countsToStats(meta: { component: string; start: number; end: number; kind: 'spout' | 'bolt' }, c: Counts, latest: ExecutorStats | null, capacity?: number): ExecutorStats {
  const out: ExecutorStats = {
    component: meta.component,
    start: meta.start,
    end: meta.end,
    kind: meta.kind,
    emitted: { ...c.emitted },
    transferred: { ...c.transferred },
    executed: { ...c.executed },
    acked: { ...c.acked },
    failed: { ...c.failed },
    executeMsTotal: c.executeMsTotal,
    processMsTotal: c.processMsTotal,
    processCount: c.processCount,
    completeMsTotal: c.completeMsTotal,
    backpressureMs: c.backpressureMs,
    capacity: capacity ?? num(latest?.capacity),
    uptimeSecs: num(latest?.uptimeSecs),
  };
  if (c.completeHist.size > 0 || meta.kind === 'spout') out.completeHistogram = toSparse(c.completeHist);
  if (c.executeHist.size > 0) out.executeHistogram = toSparse(c.executeHist);
  const metrics: Record<string, UserMetricStats> = {};
  for (const [name, m] of c.metrics) metrics[name] = m.type === 'histogram' ? { type: 'histogram', count: m.count, sum: m.sum, hist: toSparse(m.hist) } : { type: m.type, count: m.count };
  for (const [name, m] of Object.entries(latest?.metrics ?? {})) if (m?.type === 'gauge') metrics[name] = m;
  if (Object.keys(metrics).length > 0) out.metrics = metrics;
  if (latest) {
    if (latest.inflight !== undefined) out.inflight = latest.inflight;
    if (latest.asyncTimedOut !== undefined) out.asyncTimedOut = latest.asyncTimedOut;
    if (latest.windows !== undefined) out.windows = latest.windows;
    if (latest.checkpoint !== undefined) out.checkpoint = latest.checkpoint;
  }
  return out;
}
