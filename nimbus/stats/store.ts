/**
 * Nimbus's stats of running topologies, from the cumulative reports workers send through their
 * supervisors (docs/metrics.md). Per executor it keeps the all-time counts and three rolling
 * windows (10 minutes, 3 hours, 1 day) of bucketed counts, fed with the difference between
 * consecutive reports of the same worker incarnation. A restarted or moved worker is a new
 * incarnation: its first report counts from zero and adds to what its predecessors counted, so a
 * restart no longer zeroes a topology's figures. A report seen twice, or out of order, adds
 * nothing (differences are clamped at zero), so a supervisor may resend freely.
 *
 * Memory is bounded: executors by the topology's tasks, buckets per window fixed, incarnations
 * remembered per executor capped (INCARNATIONS_MAX, least recently seen dropped), user metric
 * names per executor capped (METRICS_PER_EXECUTOR_MAX, the rest ignored), topologies forgotten
 * when removed.
 */
import type { ExecutorStats } from '../../common/cluster-state/types';
import type { WorkerStatsReport } from '../../common/protocol/heartbeats';
import { STATS_WINDOWS, type StatsWindowId } from '../../common/protocol/rest';
import { addCounts, countsToStats, diffStats, emptyCounts, type Counts } from './counts';
import { RollingWindow, type Summable } from './rolling';

export const INCARNATIONS_MAX = 4;
/** A worker's first report goes into the windows only if it has run at most this long. */
export const FIRST_REPORT_WINDOWED_SECS_MAX = 10;
/** Buckets of the 10-minute window that current rates are taken over. */
const RATE_BUCKETS = 2;
export const METRICS_PER_EXECUTOR_MAX = 100;

/** Buckets per window: 30 s in 10 min, 5 min in 3 h, 30 min in 1 day. */
const WINDOW_BUCKETS: Record<string, number> = { '600': 20, '10800': 36, '86400': 48 };

const COUNTS: Summable<Counts> = { empty: emptyCounts, add: addCounts };

type Meta = { component: string; start: number; end: number; kind: 'spout' | 'bolt' };

interface ExecutorHistory {
  meta: Meta;
  allTime: Counts;
  windows: Map<StatsWindowId, RollingWindow<Counts>>;
  latest: ExecutorStats | null;
  /** `node:port` of the worker that sent `latest`. */
  latestWorker: string;
  firstSeenMs: number;
  /** Incarnation → its last cumulative report (the base of the next difference). */
  bases: Map<string, { stats: ExecutorStats; seenMs: number }>;
}

/** What Nimbus last heard from a worker. */
export interface WorkerSeen extends Omit<WorkerStatsReport, 'topologyId' | 'executors'> {
  /** Nimbus clock when its last report arrived. */
  seenMs: number;
  /** Incarnations after the first one seen on this slot. */
  restarts: number;
}

interface TopologyStats {
  executors: Map<string, ExecutorHistory>;
  workers: Map<string, WorkerSeen>;
}

export const executorKey = (start: number, end: number): string => `${start}-${end}`;
const workerKeyOf = (node: string, port: number): string => `${node}:${port}`;

export class StatsStore {
  private readonly topologies = new Map<string, TopologyStats>();

  /**
   * Adds a report. `accept` says whether an executor (component and task range) belongs to the
   * topology; others are ignored.
   */
  ingest(report: WorkerStatsReport, nowMs: number, accept: (s: ExecutorStats) => boolean = () => true): void {
    const topo = this.topology(report.topologyId);
    const wk = workerKeyOf(report.node, report.port);
    const prev = topo.workers.get(wk);
    const restarted = prev !== undefined && prev.incarnation !== report.incarnation;
    const { topologyId: _t, executors: _e, ...facts } = report;
    topo.workers.set(wk, {
      ...facts,
      seenMs: nowMs,
      restarts: (prev?.restarts ?? 0) + (restarted ? 1 : 0),
    });
    const incarnation = `${wk}/${report.incarnation}`;
    for (const stats of report.executors) {
      if (!accept(stats)) continue;
      const key = executorKey(stats.start, stats.end);
      let h = topo.executors.get(key);
      if (!h) {
        h = newHistory({ component: stats.component, start: stats.start, end: stats.end, kind: stats.kind === 'spout' ? 'spout' : 'bolt' }, nowMs);
        topo.executors.set(key, h);
      }
      const base = h.bases.get(incarnation);
      const delta = diffStats(capMetrics(stats, base?.stats ?? null), base?.stats ?? null);
      h.bases.delete(incarnation);
      h.bases.set(incarnation, { stats: capMetrics(stats, base?.stats ?? null), seenMs: nowMs });
      while (h.bases.size > INCARNATIONS_MAX) h.bases.delete(h.bases.keys().next().value as string);
      addCounts(h.allTime, delta);
      // A first report from a worker that has run a while (Nimbus restarted, or heard of it late)
      // holds counts from before any window's newest bucket: all time only.
      if (base !== undefined || report.uptimeSecs <= FIRST_REPORT_WINDOWED_SECS_MAX) for (const w of h.windows.values()) w.add(nowMs, delta);
      h.latest = stats;
      h.latestWorker = wk;
    }
  }

  /**
   * Every executor ever reported for the topology, as ExecutorStats over `window` (counts in the
   * window; capacity over the window, or the latest one for all time), with the worker that last
   * reported it.
   */
  executorStats(topologyId: string, window: StatsWindowId, nowMs: number): Array<{ stats: ExecutorStats; worker: string }> {
    const topo = this.topologies.get(topologyId);
    if (!topo) return [];
    const out: Array<{ stats: ExecutorStats; worker: string }> = [];
    for (const h of topo.executors.values()) {
      const rolling = h.windows.get(window);
      if (!rolling) {
        out.push({ stats: countsToStats(h.meta, h.allTime, h.latest), worker: h.latestWorker });
        continue;
      }
      const { value, coveredMs } = rolling.sum(nowMs);
      const spanMs = Math.min(coveredMs, Math.max(0, nowMs - h.firstSeenMs));
      const capacity = spanMs >= 1000 ? value.executeMsTotal / spanMs : (h.latest?.capacity ?? 0);
      out.push({ stats: countsToStats(h.meta, value, h.latest, capacity), worker: h.latestWorker });
    }
    return out;
  }

  /**
   * Executor stats over the newest RATE_BUCKETS buckets of the 10-minute window (30-60 s), for
   * current rates, and the seconds they cover (bounded by how long Nimbus has heard of them).
   */
  recentStats(topologyId: string, nowMs: number): { stats: ExecutorStats[]; secs: number } {
    const topo = this.topologies.get(topologyId);
    if (!topo) return { stats: [], secs: 0 };
    const stats: ExecutorStats[] = [];
    let coveredMs = 0;
    for (const h of topo.executors.values()) {
      const rolling = h.windows.get('600')!;
      const { value, coveredMs: c } = rolling.sumRecent(nowMs, RATE_BUCKETS);
      coveredMs = Math.max(coveredMs, Math.min(c, nowMs - h.firstSeenMs));
      stats.push(countsToStats(h.meta, value, h.latest));
    }
    return { stats, secs: coveredMs / 1000 };
  }

  /** The workers that reported for a topology, by `node:port`. */
  workers(topologyId: string): ReadonlyMap<string, WorkerSeen> {
    return this.topologies.get(topologyId)?.workers ?? new Map();
  }

  topologyIds(): string[] {
    return [...this.topologies.keys()];
  }

  forget(topologyId: string): void {
    this.topologies.delete(topologyId);
  }

  private topology(topologyId: string): TopologyStats {
    let t = this.topologies.get(topologyId);
    if (!t) {
      t = { executors: new Map(), workers: new Map() };
      this.topologies.set(topologyId, t);
    }
    return t;
  }
}

function newHistory(meta: Meta, nowMs: number): ExecutorHistory {
  const windows = new Map<StatsWindowId, RollingWindow<Counts>>();
  for (const w of STATS_WINDOWS) if (w.secs !== null) windows.set(w.window, new RollingWindow(w.secs * 1000, WINDOW_BUCKETS[w.window], COUNTS));
  return { meta, allTime: emptyCounts(), windows, latest: null, latestWorker: '', firstSeenMs: nowMs, bases: new Map() };
}

/** At most METRICS_PER_EXECUTOR_MAX user metrics: those already known first, then by name. */
function capMetrics(stats: ExecutorStats, base: ExecutorStats | null): ExecutorStats {
  const m = stats.metrics;
  if (!m || typeof m !== 'object') return stats;
  const names = Object.keys(m);
  if (names.length <= METRICS_PER_EXECUTOR_MAX) return stats;
  const known = names.filter((n) => base?.metrics?.[n] !== undefined);
  const rest = names.filter((n) => base?.metrics?.[n] === undefined).sort();
  const kept: ExecutorStats['metrics'] = {};
  for (const n of [...known, ...rest].slice(0, METRICS_PER_EXECUTOR_MAX)) kept[n] = m[n];
  return { ...stats, metrics: kept };
}
