/**
 * The REST views of a topology (Storm UI's field names, common/protocol/rest.ts), built as pure
 * functions of what Nimbus read: the record, its layout and assignment, the stats store, errors and
 * worker liveness. Nimbus does the reading; these do the arithmetic.
 */
import type { Assignment, ComponentError, ExecutorStats, TopologyRecord } from '../common/cluster-state/types';
import { Histogram, bucketUpperUs } from '../common/histogram';
import type {
  BoltEntry,
  ComponentPage,
  ComponentWindowStats,
  CompletePercentileFields,
  ExecutePercentileFields,
  ExecutorEntry,
  LatencyDistribution,
  SpoutEntry,
  StatsWindowId,
  TopologyPage,
  TopologySummaryEntry,
  VisualizationPage,
  WindowStats,
  WorkerEntry,
} from '../common/protocol/rest';
import { STATS_WINDOWS, WORKER_ERRORS_COMPONENT } from '../common/protocol/rest';
import { percentiles, summarizeComponents, summarizeExtras, summarizeUserMetrics, topologyTotals, type ComponentSummary, type Percentiles } from '../common/stats-summary';
import { ACKER_COMPONENT_ID, CHECKPOINT_COMPONENT_ID, Config, getComponent } from '../common/topology';
import type { TopologyLayout } from '../common/topology-layout';
import { fixed3, prettyUptime, redactSecrets, secondsBetween } from './format';
import type { WorkerState } from './liveness';
import { slotKey } from './scheduler';
import { checkpointSummary } from '../common/checkpoint-stats';

/**
 * Where supervisors report worker start failures (bundle download or load, `open`/`prepare`
 * throwing, crashes): `/errors/<topologyId>/__worker`, one ComponentError each.
 */

/** A worker start failure, shown on the topology page (`workerErrors`), newest first. */
export interface WorkerErrorEntry {
  error: string;
  errorHost: string;
  errorPort: number;
  errorTime: number;
  errorLapsedSecs: number;
}

/** Storm's topology page plus the worker start failures (see docs/rest-api.md). */
export type NimbusTopologyPage = TopologyPage;

/** An executor's stats over some window, and the worker (`node:port`) that last reported it. */
export interface PlacedStats {
  stats: ExecutorStats;
  worker: string;
}

/** What Nimbus last heard from a worker (its heartbeat). */
export interface WorkerFacts {
  pid: number;
  uptimeSecs: number;
  rssBytes: number;
}

export interface TopologySnapshot {
  record: TopologyRecord;
  layout: TopologyLayout;
  assignment: Assignment | null;
  /** Liveness of each assigned worker (`node:port`). */
  workerStates: ReadonlyMap<string, WorkerState>;
  /** Every executor ever reported (current and past workers summed), over a window. */
  statsOf: (window: StatsWindowId) => readonly PlacedStats[];
  /** Worker facts by `node:port`. */
  workers: ReadonlyMap<string, WorkerFacts>;
  errors: Readonly<Record<string, ComponentError[]>>;
  /** Nimbus's wall clock (ms). */
  nowMs: number;
  /** The window the page shows (default all time). */
  window?: StatsWindowId;
}

type Described = { id: string; type: 'spout' | 'bolt'; executors: number; tasks: number };

/** Workers actually assigned. */
export function workerKeysOf(assignment: Assignment | null): string[] {
  return assignment ? [...new Set(assignment.executors.map((e) => slotKey(e.node, e.port)))].sort() : [];
}

/**
 * Why a topology is not fully running, or undefined when it is: no slot, fewer workers than asked,
 * workers not heartbeating, and then the newest worker start failure.
 */
export function schedulerNote(snap: Pick<TopologySnapshot, 'record' | 'assignment' | 'workerStates' | 'errors'>): string | undefined {
  const { record, assignment } = snap;
  if (record.status === 'KILLED') return undefined;
  const notes: string[] = [];
  const workers = workerKeysOf(assignment);
  if (workers.length === 0) notes.push('not scheduled: no free worker slot');
  else if (workers.length < record.numWorkers) notes.push(`${workers.length} of ${record.numWorkers} workers scheduled (not enough free slots)`);
  const silent = workers.filter((k) => snap.workerStates.get(k) !== 'running').length;
  if (silent > 0) notes.push(`workers not heartbeating: ${silent} of ${workers.length}`);
  const lastWorkerError = (snap.errors[WORKER_ERRORS_COMPONENT] ?? []).at(-1);
  if (lastWorkerError && notes.length > 0) notes.push(`last worker error (${lastWorkerError.host}:${lastWorkerError.port}): ${firstLine(lastWorkerError.error)}`);
  return notes.length > 0 ? notes.join('; ') : undefined;
}

export function topologySummaryEntry(snap: Pick<TopologySnapshot, 'record' | 'layout' | 'assignment' | 'workerStates' | 'errors' | 'nowMs'>): TopologySummaryEntry {
  const { record, layout } = snap;
  const uptimeSeconds = secondsBetween(record.launchTimeMs, snap.nowMs);
  const entry: TopologySummaryEntry = {
    id: record.id,
    encodedId: encodeURIComponent(record.id),
    name: record.name,
    status: record.status,
    uptime: prettyUptime(uptimeSeconds),
    uptimeSeconds,
    tasksTotal: layout.taskComponent.length - 1,
    workersTotal: workerKeysOf(snap.assignment).length,
    executorsTotal: layout.executors.length,
    owner: record.owner,
  };
  const note = schedulerNote(snap);
  if (note !== undefined) entry.schedulerDisplayResource = note;
  return entry;
}

function describeComponents(record: TopologyRecord, layout: TopologyLayout, includeSystem: boolean): Described[] {
  const executorsOf = (id: string): number => layout.executors.filter((e) => e.component === id).length;
  const describe = (id: string, type: 'spout' | 'bolt'): Described => ({ id, type, executors: executorsOf(id), tasks: layout.componentTasks[id]?.length ?? 0 });
  const out = [
    ...Object.keys(record.definition.spouts).sort().map((id) => describe(id, 'spout')),
    ...Object.keys(record.definition.bolts).sort().map((id) => describe(id, 'bolt')),
  ];
  if (includeSystem && layout.ackerTasks.length > 0) out.push(describe(ACKER_COMPONENT_ID, 'bolt'));
  if (includeSystem && layout.coordinatorTask > 0) out.push(describe(CHECKPOINT_COMPONENT_ID, 'spout'));
  return out;
}

function errorFields(c: ComponentSummary, nowMs: number) {
  return {
    lastError: c.lastError,
    errorHost: c.errorHost,
    errorPort: c.errorPort,
    errorTime: c.errorTime,
    errorLapsedSecs: c.errorTime === null ? null : secondsBetween(c.errorTime, nowMs),
  };
}

function completeFields(p: Percentiles): CompletePercentileFields {
  return { completeLatencyP50: fixed3(p.p50), completeLatencyP90: fixed3(p.p90), completeLatencyP99: fixed3(p.p99), completeLatencyP999: fixed3(p.p999) };
}

function executeFields(p: Percentiles): ExecutePercentileFields {
  return { executeLatencyP50: fixed3(p.p50), executeLatencyP90: fixed3(p.p90), executeLatencyP99: fixed3(p.p99), executeLatencyP999: fixed3(p.p999) };
}

function spoutEntry(c: ComponentSummary, nowMs: number): SpoutEntry {
  return {
    spoutId: c.componentId,
    encodedSpoutId: encodeURIComponent(c.componentId),
    executors: c.executors,
    tasks: c.tasks,
    emitted: c.emitted,
    transferred: c.transferred,
    acked: c.acked,
    failed: c.failed,
    completeLatency: fixed3(c.completeLatency),
    ...completeFields(c.completeLatencyPercentiles),
    ...errorFields(c, nowMs),
  };
}

function boltEntry(c: ComponentSummary, stats: readonly ExecutorStats[], nowMs: number): BoltEntry {
  return {
    boltId: c.componentId,
    encodedBoltId: encodeURIComponent(c.componentId),
    executors: c.executors,
    tasks: c.tasks,
    emitted: c.emitted,
    transferred: c.transferred,
    executed: c.executed,
    acked: c.acked,
    failed: c.failed,
    executeLatency: fixed3(c.executeLatency),
    ...executeFields(c.executeLatencyPercentiles),
    processLatency: fixed3(c.processLatency),
    capacity: fixed3(c.capacity),
    backpressureMs: c.backpressureMs,
    ...summarizeExtras(stats.filter((s) => s.component === c.componentId)),
    ...errorFields(c, nowMs),
  };
}

function workerEntries(snap: TopologySnapshot): WorkerEntry[] {
  const { assignment, layout } = snap;
  if (!assignment) return [];
  return workerKeysOf(assignment).map((key) => {
    const mine = assignment.executors.filter((e) => slotKey(e.node, e.port) === key);
    const { node, port } = mine[0];
    const facts = snap.workers.get(key);
    const componentNumTasks: Record<string, number> = {};
    for (const e of mine) for (let t = e.start; t <= e.end; t++) componentNumTasks[layout.taskComponent[t]] = (componentNumTasks[layout.taskComponent[t]] ?? 0) + 1;
    const uptimeSeconds = facts ? Math.floor(facts.uptimeSecs) : 0;
    return {
      supervisorId: node,
      host: assignment.nodeHost[node] ?? '',
      port,
      uptime: prettyUptime(uptimeSeconds),
      uptimeSeconds,
      executorsTotal: mine.length,
      componentNumTasks,
      pid: facts?.pid ?? null,
      rssBytes: facts?.rssBytes ?? null,
      state: snap.workerStates.get(key) ?? 'starting',
    };
  });
}

function errorList(errors: readonly ComponentError[] | undefined, nowMs: number): WorkerErrorEntry[] {
  return [...(errors ?? [])].reverse().map((e) => ({ error: e.error, errorHost: e.host, errorPort: e.port, errorTime: e.errorTimeMs, errorLapsedSecs: secondsBetween(e.errorTimeMs, nowMs) }));
}

function windowOf(id: StatsWindowId): (typeof STATS_WINDOWS)[number] {
  return STATS_WINDOWS.find((w) => w.window === id) ?? STATS_WINDOWS[STATS_WINDOWS.length - 1];
}

/** Storm's topologyStats row for one window: totals over every component, acks at the spouts. */
function windowStats(snap: TopologySnapshot, id: StatsWindowId): WindowStats {
  const stats = snap.statsOf(id).map((p) => p.stats);
  const totals = topologyTotals(summarizeComponents(stats, describeComponents(snap.record, snap.layout, true)));
  const spoutStats = stats.filter((s) => s.kind === 'spout' && !s.component.startsWith('__'));
  const hist = new Histogram();
  for (const s of spoutStats) if (s.completeHistogram) hist.merge(Histogram.fromSparse(s.completeHistogram));
  const w = windowOf(id);
  return {
    window: w.window,
    windowPretty: w.windowPretty,
    emitted: totals.emitted,
    transferred: totals.transferred,
    completeLatency: fixed3(totals.completeLatency),
    ...completeFields(percentiles(hist)),
    acked: totals.acked,
    failed: totals.failed,
  };
}

export function topologyPage(snap: TopologySnapshot, options: { includeSystem?: boolean } = {}): NimbusTopologyPage {
  const { record } = snap;
  const window = windowOf(snap.window ?? ':all-time');
  const summary = topologySummaryEntry(snap);
  const stats = snap.statsOf(window.window).map((s) => s.stats);
  const components = summarizeComponents(stats, describeComponents(record, snap.layout, true), snap.errors);
  const shown = components.filter((c) => options.includeSystem === true || !c.componentId.startsWith('__'));
  const page: NimbusTopologyPage = {
    id: summary.id,
    encodedId: summary.encodedId,
    name: summary.name,
    status: summary.status,
    uptime: summary.uptime,
    uptimeSeconds: summary.uptimeSeconds,
    tasksTotal: summary.tasksTotal,
    workersTotal: summary.workersTotal,
    executorsTotal: summary.executorsTotal,
    owner: summary.owner,
    msgTimeout: record.config[Config.TOPOLOGY_MESSAGE_TIMEOUT_SECS] as number,
    bundleHash: record.bundleHash,
    window: window.window,
    windowPretty: window.windowPretty,
    topologyStats: STATS_WINDOWS.map((w) => windowStats(snap, w.window)),
    spouts: shown.filter((c) => c.type === 'spout').map((c) => spoutEntry(c, snap.nowMs)),
    bolts: shown.filter((c) => c.type === 'bolt').map((c) => boltEntry(c, stats, snap.nowMs)),
    workers: workerEntries(snap),
    configuration: redactSecrets(record.config),
    workerErrors: errorList(snap.errors[WORKER_ERRORS_COMPONENT], snap.nowMs),
  };
  if (summary.schedulerDisplayResource !== undefined) page.schedulerDisplayResource = summary.schedulerDisplayResource;
  const checkpoint = checkpointSummary(stats);
  if (checkpoint !== null) page.checkpoint = checkpoint;
  return page;
}

function componentWindowRow(snap: TopologySnapshot, described: Described, id: StatsWindowId): ComponentWindowStats {
  const mine = snap.statsOf(id).filter((p) => p.stats.component === described.id).map((p) => p.stats);
  const [c] = summarizeComponents(mine, [described]);
  const w = windowOf(id);
  return {
    window: w.window,
    windowPretty: w.windowPretty,
    emitted: c.emitted,
    transferred: c.transferred,
    acked: c.acked,
    failed: c.failed,
    executed: c.executed,
    completeLatency: fixed3(c.completeLatency),
    ...completeFields(c.completeLatencyPercentiles),
    executeLatency: fixed3(c.executeLatency),
    ...executeFields(c.executeLatencyPercentiles),
    processLatency: fixed3(c.processLatency),
    capacity: fixed3(c.capacity),
  };
}

function latencyDistribution(type: 'spout' | 'bolt', stats: readonly ExecutorStats[]): LatencyDistribution {
  const counts = new Map<number, number>();
  for (const s of stats) {
    const pairs = (type === 'spout' ? s.completeHistogram : s.executeHistogram) ?? [];
    for (let i = 0; i + 1 < pairs.length; i += 2) counts.set(pairs[i], (counts.get(pairs[i]) ?? 0) + pairs[i + 1]);
  }
  const buckets = [...counts.entries()].sort((a, b) => a[0] - b[0]).map(([b, count]) => ({ upperMs: bucketUpperUs(b) / 1000, count }));
  return { kind: type === 'spout' ? 'complete' : 'execute', count: buckets.reduce((n, b) => n + b.count, 0), buckets };
}

function sumOf(stats: readonly ExecutorStats[], field: 'emitted' | 'transferred' | 'executed' | 'acked' | 'failed', key: string): number {
  let n = 0;
  for (const s of stats) n += s[field][key] ?? 0;
  return n;
}

/** Null when the topology has no such component (`__acker` counts when acking is on, `__checkpointspout` when it checkpoints). */
export function componentPage(snap: TopologySnapshot, componentId: string): ComponentPage | null {
  const { record, layout, assignment } = snap;
  const described = describeComponents(record, layout, true).find((c) => c.id === componentId);
  if (!described) return null;
  const window = windowOf(snap.window ?? ':all-time');
  const placed = snap.statsOf(window.window).filter((p) => p.stats.component === componentId);
  const mine = placed.map((p) => p.stats);
  const [summary] = summarizeComponents(mine, [described], snap.errors);
  const spanSecs = window.secs;
  const executorStats: ExecutorEntry[] = (assignment?.executors ?? [])
    .filter((e) => layout.taskComponent[e.start] === componentId)
    .map((e) => {
      const found = placed.find((p) => p.stats.start === e.start && p.stats.end === e.end);
      const one = summarizeComponents(found ? [found.stats] : [], [{ ...described, executors: 1, tasks: e.end - e.start + 1 }])[0];
      const id = `[${e.start}-${e.end}]`;
      const uptimeSeconds = found ? Math.floor(found.stats.uptimeSecs) : 0;
      const entry: ExecutorEntry = {
        id,
        encodedId: encodeURIComponent(id),
        host: assignment!.nodeHost[e.node] ?? '',
        port: e.port,
        supervisorId: e.node,
        uptime: prettyUptime(uptimeSeconds),
        uptimeSeconds,
        emitted: one.emitted,
        transferred: one.transferred,
        acked: one.acked,
        failed: one.failed,
        executed: one.executed,
        executeLatency: fixed3(one.executeLatency),
        ...executeFields(one.executeLatencyPercentiles),
        processLatency: fixed3(one.processLatency),
        completeLatency: fixed3(one.completeLatency),
        ...completeFields(one.completeLatencyPercentiles),
        capacity: fixed3(one.capacity),
        backpressureMs: one.backpressureMs,
        metrics: summarizeUserMetrics(found ? [found.stats] : [], spanSecs),
        ...summarizeExtras(found ? [found.stats] : []),
      };
      if (found?.stats.checkpoint !== undefined) entry.checkpoint = found.stats.checkpoint;
      return entry;
    });
  const component = getComponent(record.definition, componentId);
  const rows = STATS_WINDOWS.map((w) => componentWindowRow(snap, described, w.window));
  const page: ComponentPage = {
    id: componentId,
    encodedId: encodeURIComponent(componentId),
    name: record.name,
    topologyId: record.id,
    componentType: described.type,
    executors: described.executors,
    tasks: described.tasks,
    window: window.window,
    windowPretty: window.windowPretty,
    summary,
    ...(described.type === 'spout' ? { spoutSummary: rows } : { boltStats: rows }),
    executorStats,
    componentErrors: errorList(snap.errors[componentId], snap.nowMs),
    metrics: summarizeUserMetrics(mine, spanSecs),
    latencyDistribution: latencyDistribution(described.type, mine),
    ...summarizeExtras(mine),
  };
  if (component) {
    if (described.type === 'bolt') {
      page.inputStats = component.inputs.map((i) => {
        const key = `${i.component}:${i.stream}`;
        return { component: i.component, stream: i.stream, grouping: i.grouping.type, executed: sumOf(mine, 'executed', key), acked: sumOf(mine, 'acked', key), failed: sumOf(mine, 'failed', key) };
      });
    }
    page.outputStats = Object.keys(component.streams)
      .sort()
      .map((stream) => ({ stream, fields: [...component.streams[stream].fields], direct: component.streams[stream].direct, emitted: sumOf(mine, 'emitted', stream), transferred: sumOf(mine, 'transferred', stream) }));
  }
  return page;
}

/**
 * The graph: components, their subscriptions, and rates over the newest stretch of the 10-minute
 * window (`recent`: executor stats over `rateWindowSecs`).
 */
export function visualization(record: TopologyRecord, layout: TopologyLayout, recent: { stats: readonly ExecutorStats[]; secs: number }, allTime: readonly ExecutorStats[]): VisualizationPage {
  const components: VisualizationPage['components'] = {};
  const per = (n: number): number => (recent.secs > 0 ? Math.round((n / recent.secs) * 1000) / 1000 : 0);
  const described = describeComponents(record, layout, false);
  const summaries = summarizeComponents(allTime, described);
  for (const c of described) {
    const def = getComponent(record.definition, c.id)!;
    const mine = recent.stats.filter((s) => s.component === c.id);
    const streams: Record<string, number> = {};
    let emitted = 0;
    for (const stream of Object.keys(def.streams).sort()) {
      const n = sumOf(mine, 'emitted', stream);
      streams[stream] = per(n);
      emitted += n;
    }
    const summary = summaries.find((x) => x.componentId === c.id)!;
    components[c.id] = {
      type: c.type,
      parallelism: c.executors,
      inputs: def.inputs.map((i) => ({ component: i.component, stream: i.stream, grouping: i.grouping.type, tuplesPerSec: per(sumOf(mine, 'executed', `${i.component}:${i.stream}`)) })),
      emittedPerSec: per(emitted),
      streams,
      capacity: fixed3(c.type === 'bolt' ? summary.capacity : 0),
      latency: fixed3(c.type === 'spout' ? summary.completeLatency : summary.executeLatency),
    };
  }
  return { rateWindowSecs: Math.round(recent.secs), components };
}

function firstLine(s: string): string {
  const line = s.split('\n')[0];
  return line.length > 300 ? `${line.slice(0, 300)}…` : line;
}
