import {
  ACKER_COMPONENT_ID,
  CHECKPOINT_COMPONENT_ID,
  CHECKPOINT_STREAM_ID,
  Config,
  WATERMARK_STREAM_ID,
  type TopologyConfig,
  type TopologyDefinition,
  componentIds,
  getComponent,
  type ProcessingGuarantee,
} from '../topology-api';

/** One executor: a contiguous range of a component's tasks, run together. */
export interface ExecutorRange {
  component: string;
  start: number;
  end: number;
}

/** One declared stream, numbered the same way in every process. */
export interface StreamInfo {
  index: number;
  component: string;
  stream: string;
  fields: string[];
  direct: boolean;
  /** A system stream (SYSTEM_STREAMS): never declared by user code, never seen by `execute`. */
  system?: boolean;
}

/**
 * System streams every component's tasks may send on, with their fields. They are numbered after
 * every user stream (from `systemStreamStart`), one entry per component, so system tuples travel
 * through the same inboxes, batches and links as data (and stay in order behind it), and the codec
 * and stats treat them like any stream. The runtime hands them to the handler registered for the
 * stream id (WorkerRuntime.onSystemStream), never to the bolt's `execute`.
 */
export const SYSTEM_STREAMS: Readonly<Record<string, readonly string[]>> = Object.freeze({
  // barrier: ['barrier', txid, epoch, tuples sent on this channel since the last barrier, committed txid]
  // rollback marker: ['rollback', restored txid, new epoch, 0, restored txid] (docs/state.md)
  [CHECKPOINT_STREAM_ID]: Object.freeze(['action', 'txid', 'epoch', 'count', 'committed']),
  [WATERMARK_STREAM_ID]: Object.freeze(['watermark']),
});

/**
 * Task ids, executors and stream numbers of a topology: a pure function of its definition and
 * configuration, so Nimbus and every worker compute the same table without talking.
 * Task ids start at 1 and are laid out over component ids in sorted order (`__acker` included),
 * as Storm does. Tasks never change after submission; executors change with rebalance.
 */
export interface TopologyLayout {
  /** Component of each task id; index 0 is unused. */
  taskComponent: string[];
  componentTasks: Record<string, number[]>;
  executors: ExecutorRange[];
  ackerTasks: number[];
  /** The checkpoint coordinator's task (`__checkpointspout`), 0 when the topology has none. */
  coordinatorTask: number;
  /** User streams, then system streams (from `systemStreamStart`). */
  streams: StreamInfo[];
  /** Index of the first system stream. */
  systemStreamStart: number;
  /** `component\u0000stream` → stream index. */
  streamIndex: Map<string, number>;
}

/** `topology.processing.guarantee` (at-least-once when unset). */
export function processingGuarantee(conf: TopologyConfig): ProcessingGuarantee {
  const g = conf[Config.TOPOLOGY_PROCESSING_GUARANTEE];
  return g === 'at-most-once' || g === 'exactly-once' ? g : 'at-least-once';
}

/**
 * Whether the topology runs checkpoints (a coordinator and barriers): it has a stateful bolt, or
 * it promises exactly-once (spout offsets and transactional sinks are checkpointed too).
 */
export function checkpointing(def: TopologyDefinition, conf: TopologyConfig): boolean {
  if (processingGuarantee(conf) === 'exactly-once') return true;
  return Object.values(def.bolts).some((b) => b.stateful === true);
}

/** Acker tasks: only at-least-once tracks tuple trees (the others never replay one tuple). */
export function ackerCount(conf: TopologyConfig): number {
  if (processingGuarantee(conf) !== 'at-least-once') return 0;
  const ackers = conf[Config.TOPOLOGY_ACKER_EXECUTORS];
  if (typeof ackers === 'number') return ackers;
  const workers = conf[Config.TOPOLOGY_WORKERS];
  return typeof workers === 'number' ? workers : 1;
}

/** Executors each component starts with: its parallelism (capped by tasks and max parallelism). */
export function initialExecutors(def: TopologyDefinition, conf: TopologyConfig): Record<string, number> {
  const cap = typeof conf[Config.TOPOLOGY_MAX_TASK_PARALLELISM] === 'number' ? (conf[Config.TOPOLOGY_MAX_TASK_PARALLELISM] as number) : Infinity;
  const out: Record<string, number> = {};
  for (const id of componentIds(def)) {
    const c = getComponent(def, id)!;
    out[id] = Math.max(1, Math.min(c.parallelism, c.numTasks, cap));
  }
  const ackers = ackerCount(conf);
  if (ackers > 0) out[ACKER_COMPONENT_ID] = ackers;
  if (checkpointing(def, conf)) out[CHECKPOINT_COMPONENT_ID] = 1;
  return out;
}

export function streamKey(component: string, stream: string): string {
  return `${component}\u0000${stream}`;
}

/** Splits `count` tasks into `parts` contiguous, near-equal ranges (Storm's partitionFixed). */
export function partitionTasks(first: number, count: number, parts: number): Array<[number, number]> {
  const n = Math.max(1, Math.min(parts, count));
  const base = Math.floor(count / n);
  const extra = count % n;
  const out: Array<[number, number]> = [];
  let next = first;
  for (let i = 0; i < n; i++) {
    const size = base + (i < extra ? 1 : 0);
    out.push([next, next + size - 1]);
    next += size;
  }
  return out;
}

/**
 * Tasks of each component: its `numTasks`, unless `componentTasks` overrides it (a rescaled
 * stateful bolt, docs/state.md), `ackerCount` ackers, one coordinator.
 */
function taskCount(def: TopologyDefinition, id: string, ackers: number, overrides: Readonly<Record<string, number>> | undefined): number {
  if (id === ACKER_COMPONENT_ID) return ackers;
  if (id === CHECKPOINT_COMPONENT_ID) return 1;
  return overrides?.[id] ?? getComponent(def, id)!.numTasks;
}

export function computeLayout(
  def: TopologyDefinition,
  conf: TopologyConfig,
  componentExecutors?: Record<string, number>,
  taskOverrides?: Readonly<Record<string, number>>,
): TopologyLayout {
  const ackers = ackerCount(conf);
  const executorsWanted = componentExecutors ?? initialExecutors(def, conf);
  const ids = componentIds(def);
  if (ackers > 0) ids.push(ACKER_COMPONENT_ID);
  if (checkpointing(def, conf)) ids.push(CHECKPOINT_COMPONENT_ID);
  ids.sort();
  const taskComponent: string[] = [''];
  const componentTasks: Record<string, number[]> = {};
  const executors: ExecutorRange[] = [];
  for (const id of ids) {
    const numTasks = taskCount(def, id, ackers, taskOverrides);
    const first = taskComponent.length;
    const tasks: number[] = [];
    for (let i = 0; i < numTasks; i++) {
      tasks.push(first + i);
      taskComponent.push(id);
    }
    componentTasks[id] = tasks;
    for (const [start, end] of partitionTasks(first, numTasks, executorsWanted[id] ?? 1)) executors.push({ component: id, start, end });
  }
  const streams: StreamInfo[] = [];
  const streamIndex = new Map<string, number>();
  for (const id of componentIds(def)) {
    const c = getComponent(def, id)!;
    for (const stream of Object.keys(c.streams).sort()) {
      const info: StreamInfo = { index: streams.length, component: id, stream, fields: c.streams[stream].fields, direct: c.streams[stream].direct };
      streams.push(info);
      streamIndex.set(streamKey(id, stream), info.index);
    }
  }
  const systemStreamStart = streams.length;
  for (const id of componentIds(def)) {
    for (const stream of Object.keys(SYSTEM_STREAMS).sort()) {
      const info: StreamInfo = { index: streams.length, component: id, stream, fields: [...SYSTEM_STREAMS[stream]], direct: false, system: true };
      streams.push(info);
      streamIndex.set(streamKey(id, stream), info.index);
    }
  }
  return {
    taskComponent,
    componentTasks,
    executors,
    ackerTasks: componentTasks[ACKER_COMPONENT_ID] ?? [],
    coordinatorTask: componentTasks[CHECKPOINT_COMPONENT_ID]?.[0] ?? 0,
    streams,
    systemStreamStart,
    streamIndex,
  };
}
