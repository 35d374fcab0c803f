/**
 * The REST views of a topology (Storm UI's field names, common/protocol/rest.ts), built as pure
 * functions of what Nimbus read: the record, its layout and assignment, worker beats, errors and
 * worker liveness. Nimbus does the reading; these do the arithmetic.
 */
import type { Assignment, ComponentError, ExecutorStats, TopologyRecord, WorkerBeat } from '../common/cluster-state/types';
import type {
  BoltEntry,
  ComponentPage,
  ExecutorEntry,
  SpoutEntry,
  TopologyPage,
  TopologySummaryEntry,
  VisualizationPage,
  WorkerEntry,
} from '../common/protocol/rest';
import { WORKER_ERRORS_COMPONENT } from '../common/protocol/rest';
import { summarizeComponents, topologyTotals, type ComponentSummary } from '../common/stats-summary';
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

export interface TopologySnapshot {
  record: TopologyRecord;
  layout: TopologyLayout;
  assignment: Assignment | null;
  /** Liveness of each assigned worker (`node:port`). */
  workerStates: ReadonlyMap<string, WorkerState>;
  beats: readonly WorkerBeat[];
  errors: Readonly<Record<string, ComponentError[]>>;
  /** Nimbus's wall clock (ms). */
  nowMs: number;
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

/** Executor stats from beats of currently assigned workers, for the executors they run now. */
export function assignedStats(assignment: Assignment | null, beats: readonly WorkerBeat[]): Array<{ stats: ExecutorStats; beat: WorkerBeat }> {
  if (!assignment) return [];
  const placed = new Set(assignment.executors.map((e) => `${slotKey(e.node, e.port)}#${e.start}-${e.end}`));
  const out: Array<{ stats: ExecutorStats; beat: WorkerBeat }> = [];
  for (const beat of beats) {
    for (const stats of beat.executors) if (placed.has(`${slotKey(beat.node, beat.port)}#${stats.start}-${stats.end}`)) out.push({ stats, beat });
  }
  return out;
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
    ...errorFields(c, nowMs),
  };
}

function boltEntry(c: ComponentSummary, nowMs: number): BoltEntry {
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
    processLatency: fixed3(c.processLatency),
    capacity: fixed3(c.capacity),
    ...errorFields(c, nowMs),
  };
}

function workerEntries(snap: TopologySnapshot): WorkerEntry[] {
  const { assignment, layout } = snap;
  if (!assignment) return [];
  return workerKeysOf(assignment).map((key) => {
    const mine = assignment.executors.filter((e) => slotKey(e.node, e.port) === key);
    const { node, port } = mine[0];
    const beat = snap.beats.find((b) => b.node === node && b.port === port);
    const componentNumTasks: Record<string, number> = {};
    for (const e of mine) for (let t = e.start; t <= e.end; t++) componentNumTasks[layout.taskComponent[t]] = (componentNumTasks[layout.taskComponent[t]] ?? 0) + 1;
    const uptimeSeconds = beat ? Math.floor(beat.uptimeSecs) : 0;
    return {
      supervisorId: node,
      host: assignment.nodeHost[node] ?? '',
      port,
      uptime: prettyUptime(uptimeSeconds),
      uptimeSeconds,
      executorsTotal: mine.length,
      componentNumTasks,
      pid: beat?.pid ?? null,
      rssBytes: beat?.rssBytes ?? null,
      state: snap.workerStates.get(key) ?? 'starting',
    };
  });
}

function errorList(errors: readonly ComponentError[] | undefined, nowMs: number): WorkerErrorEntry[] {
  return [...(errors ?? [])].reverse().map((e) => ({ error: e.error, errorHost: e.host, errorPort: e.port, errorTime: e.errorTimeMs, errorLapsedSecs: secondsBetween(e.errorTimeMs, nowMs) }));
}

export function topologyPage(snap: TopologySnapshot, options: { includeSystem?: boolean } = {}): NimbusTopologyPage {
  const { record } = snap;
  const summary = topologySummaryEntry(snap);
  const stats = assignedStats(snap.assignment, snap.beats).map((s) => s.stats);
  const components = summarizeComponents(stats, describeComponents(record, snap.layout, true), snap.errors);
  const totals = topologyTotals(components);
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
    topologyStats: [
      {
        window: ':all-time',
        windowPretty: 'All time',
        emitted: totals.emitted,
        transferred: totals.transferred,
        completeLatency: fixed3(totals.completeLatency),
        acked: totals.acked,
        failed: totals.failed,
      },
    ],
    spouts: shown.filter((c) => c.type === 'spout').map((c) => spoutEntry(c, snap.nowMs)),
    bolts: shown.filter((c) => c.type === 'bolt').map((c) => boltEntry(c, snap.nowMs)),
    workers: workerEntries(snap),
    configuration: redactSecrets(record.config),
    workerErrors: errorList(snap.errors[WORKER_ERRORS_COMPONENT], snap.nowMs),
  };
  if (summary.schedulerDisplayResource !== undefined) page.schedulerDisplayResource = summary.schedulerDisplayResource;
  const checkpoint = checkpointSummary(stats);
  if (checkpoint !== null) page.checkpoint = checkpoint;
  return page;
}

/** Null when the topology has no such component (`__acker` counts when acking is on, `__checkpointspout` when it checkpoints). */
export function componentPage(snap: TopologySnapshot, componentId: string): ComponentPage | null {
  const { record, layout, assignment } = snap;
  const described = describeComponents(record, layout, true).find((c) => c.id === componentId);
  if (!described) return null;
  const placed = assignedStats(assignment, snap.beats).filter((s) => s.stats.component === componentId);
  const [summary] = summarizeComponents(
    placed.map((s) => s.stats),
    [described],
    snap.errors,
  );
  const executorStats: ExecutorEntry[] = (assignment?.executors ?? [])
    .filter((e) => layout.taskComponent[e.start] === componentId)
    .map((e) => {
      const found = placed.find((s) => s.beat.node === e.node && s.beat.port === e.port && s.stats.start === e.start && s.stats.end === e.end);
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
        processLatency: fixed3(one.processLatency),
        completeLatency: fixed3(one.completeLatency),
        capacity: fixed3(one.capacity),
      };
      if (found?.stats.checkpoint !== undefined) entry.checkpoint = found.stats.checkpoint;
      return entry;
    });
  const component = getComponent(record.definition, componentId);
  const page: ComponentPage = {
    id: componentId,
    encodedId: encodeURIComponent(componentId),
    name: record.name,
    topologyId: record.id,
    componentType: described.type,
    executors: described.executors,
    tasks: described.tasks,
    summary,
    executorStats,
    componentErrors: errorList(snap.errors[componentId], snap.nowMs),
  };
  if (component) {
    if (described.type === 'bolt') page.inputStats = component.inputs.map((i) => ({ component: i.component, stream: i.stream, grouping: i.grouping.type }));
    page.outputStats = Object.keys(component.streams)
      .sort()
      .map((stream) => ({ stream, fields: [...component.streams[stream].fields], direct: component.streams[stream].direct }));
  }
  return page;
}

export function visualization(record: TopologyRecord, layout: TopologyLayout): VisualizationPage {
  const components: VisualizationPage['components'] = {};
  for (const c of describeComponents(record, layout, false)) {
    const def = getComponent(record.definition, c.id)!;
    components[c.id] = { type: c.type, parallelism: c.executors, inputs: def.inputs.map((i) => ({ component: i.component, stream: i.stream, grouping: i.grouping.type })) };
  }
  return { components };
}

function firstLine(s: string): string {
  const line = s.split('\n')[0];
  return line.length > 300 ? `${line.slice(0, 300)}…` : line;
}
