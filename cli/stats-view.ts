import type { ExecutorStats } from '../common/cluster-state/types';
import { summarizeUserMetrics, type ComponentSummary, type UserMetricSummary } from '../common/stats-summary';
import type { BoltEntry, SpoutEntry } from '../common/protocol/rest';
import type { WindowingStats } from '../common/window-stats';
import { formatNumber, formatRate, table } from './format';

export interface ComponentsView {
  spouts: ComponentSummary[];
  bolts: ComponentSummary[];
}

/** The final per-component table. */
export function componentTable(view: ComponentsView): string {
  const rows = [...view.spouts, ...view.bolts].map((c) => [
    c.componentId,
    c.type,
    c.executors,
    c.emitted,
    c.transferred,
    c.type === 'bolt' ? c.executed : '-',
    c.acked,
    c.failed,
    c.type === 'spout' ? `${c.completeLatency.toFixed(3)} (complete)` : `${c.executeLatency.toFixed(3)} (execute)`,
    c.type === 'bolt' ? c.capacity.toFixed(3) : '-',
    inflightCell(c),
    c.lastError ? c.lastError.split('\n')[0].slice(0, 60) : '',
  ]);
  const main = table(['component', 'type', 'executors', 'emitted', 'transferred', 'executed', 'acked', 'failed', 'latency ms', 'capacity', 'in flight', 'last error'], rows);
  const windowed = view.bolts.filter((b) => b.windows !== undefined);
  if (windowed.length === 0) return main;
  const wrows = windowed.map((b) => {
    const w = b.windows!;
    return [b.componentId, w.open, w.buffered, formatWatermark(w.watermarkMs), w.late, w.lateDropped];
  });
  return `${main}\n\n${table(['windowed bolt', 'open windows', 'buffered', 'watermark', 'late', 'late dropped'], wrows)}`;
}

/** Async bolts: execute promises unsettled now, and how many timed out (when any did); '-' for the others. */
function inflightCell(c: ComponentSummary): string {
  if (c.inflight === undefined) return '-';
  return c.asyncTimedOut ? `${c.inflight} (${c.asyncTimedOut} timed out)` : String(c.inflight);
}

/** An event-time watermark: a UTC time when it looks like epoch ms, else the number. */
export function formatWatermark(ms: number | null): string {
  if (ms === null) return '-';
  return ms >= 1e12 && ms < 1e14 ? new Date(ms).toISOString().replace('T', ' ').replace('Z', '') : String(ms);
}

/** A windowed bolt's figures in a progress line. */
function windowsNote(w: WindowingStats): string {
  const parts = [`${w.open} open`, `${formatNumber(w.buffered)} buffered`];
  if (w.watermarkMs !== null) parts.push(`watermark ${formatWatermark(w.watermarkMs)}`);
  if (w.late > 0) parts.push(`late ${w.late}${w.lateDropped > 0 ? ` (${w.lateDropped} dropped)` : ''}`);
  return ` [${parts.join(', ')}]`;
}

/** Work done per component: emitted for spouts, executed for bolts. */
export function workCounts(view: ComponentsView): Map<string, number> {
  const out = new Map<string, number>();
  for (const s of view.spouts) out.set(s.componentId, s.emitted);
  for (const b of view.bolts) out.set(b.componentId, b.executed);
  return out;
}

/** One progress line: rates since the previous sample. */
export function progressLine(prev: ComponentsView, cur: ComponentsView, seconds: number, elapsedSecs: number): string {
  const before = workCounts(prev);
  const parts: string[] = [];
  const windows = new Map(cur.bolts.filter((b) => b.windows !== undefined).map((b) => [b.componentId, b.windows!]));
  const inflight = new Map(cur.bolts.filter((b) => (b.inflight ?? 0) > 0).map((b) => [b.componentId, b.inflight!]));
  for (const [id, n] of workCounts(cur)) {
    if (id.startsWith('__')) continue;
    const w = windows.get(id);
    const async = inflight.has(id) ? ` (${inflight.get(id)} in flight)` : '';
    parts.push(`${id} ${formatRate((n - (before.get(id) ?? 0)) / seconds)}${async}${w !== undefined ? windowsNote(w) : ''}`);
  }
  const acked = (v: ComponentsView): number => v.spouts.reduce((a, s) => a + s.acked, 0);
  const failed = (v: ComponentsView): number => v.spouts.reduce((a, s) => a + s.failed, 0);
  parts.push(`acked ${formatRate((acked(cur) - acked(prev)) / seconds)}`);
  const f = failed(cur) - failed(prev);
  if (f > 0) parts.push(`failed ${formatRate(f / seconds)}`);
  return `[${elapsedSecs.toFixed(0).padStart(4)}s] ${parts.join(' | ')}`;
}

const num = (s: string | number): number => (typeof s === 'number' ? s : Number(s) || 0);

/** Nimbus's topology page (Storm UI fields) as the CLI's component view. */
export function pageToView(page: { spouts: SpoutEntry[]; bolts: BoltEntry[] }): ComponentsView {
  const none = { p50: 0, p90: 0, p99: 0, p999: 0 };
  const pct = (p50: string, p90: string, p99: string, p999: string) => ({ p50: num(p50), p90: num(p90), p99: num(p99), p999: num(p999) });
  const base = { errorHost: '', errorPort: null, errorTime: null };
  return {
    spouts: page.spouts.map((s) => ({
      ...base,
      componentId: s.spoutId,
      type: 'spout' as const,
      executors: s.executors,
      tasks: s.tasks,
      emitted: s.emitted,
      transferred: s.transferred,
      acked: s.acked,
      failed: s.failed,
      executed: 0,
      executeLatency: 0,
      processLatency: 0,
      completeLatency: num(s.completeLatency),
      capacity: 0,
      completeLatencyPercentiles: pct(s.completeLatencyP50, s.completeLatencyP90, s.completeLatencyP99, s.completeLatencyP999),
      executeLatencyPercentiles: none,
      backpressureMs: 0,
      lastError: s.lastError,
    })),
    bolts: page.bolts.map((b) => ({
      ...base,
      componentId: b.boltId,
      type: 'bolt' as const,
      executors: b.executors,
      tasks: b.tasks,
      emitted: b.emitted,
      transferred: b.transferred,
      acked: b.acked,
      failed: b.failed,
      executed: b.executed,
      executeLatency: num(b.executeLatency),
      processLatency: num(b.processLatency),
      completeLatency: 0,
      capacity: num(b.capacity),
      completeLatencyPercentiles: none,
      executeLatencyPercentiles: pct(b.executeLatencyP50, b.executeLatencyP90, b.executeLatencyP99, b.executeLatencyP999),
      backpressureMs: b.backpressureMs,
      lastError: b.lastError,
      ...(b.windows !== undefined ? { windows: b.windows } : {}),
      ...(b.inflight !== undefined ? { inflight: b.inflight, asyncTimedOut: b.asyncTimedOut ?? 0 } : {}),
    })),
  };
}

function metricValue(m: UserMetricSummary): string {
  switch (m.type) {
    case 'counter':
    case 'meter':
      return String(m.count);
    case 'gauge':
      return `${m.value} (${m.tasks} tasks, min ${m.min}, max ${m.max})`;
    default:
      return `n ${m.count}, mean ${m.mean}, p50 ${m.p50}, p99 ${m.p99}, max ${m.max}`;
  }
}

/** User metrics (context.register*) per component, summed over tasks; '' when there are none. */
export function userMetricsTable(executors: readonly ExecutorStats[]): string {
  const rows: Array<Array<string | number>> = [];
  for (const component of [...new Set(executors.map((e) => e.component))].sort()) {
    for (const m of summarizeUserMetrics(executors.filter((e) => e.component === component), null)) rows.push([component, m.name, m.type, metricValue(m)]);
  }
  return rows.length === 0 ? '' : table(['component', 'metric', 'type', 'value'], rows);
}
