import type { TopologyConfig, TopologyDefinition } from '../../topology-api';
import type { WindowingStats } from '../window-stats';

/** Storm's topology states. */
export type TopologyStatus = 'ACTIVE' | 'INACTIVE' | 'REBALANCING' | 'KILLED';

/** A kill or rebalance waiting out its `-w` seconds (spouts deactivated meanwhile). */
export interface PendingAction {
  action: 'kill' | 'rebalance';
  /** When the action takes effect (ms, Nimbus's clock). */
  dueMs: number;
  /** Status to return to after a rebalance. */
  resumeStatus?: 'ACTIVE' | 'INACTIVE';
  numWorkers?: number;
  componentExecutors?: Record<string, number>;
}

/** `/topologies/<id>`: everything Nimbus knows about a submitted topology. */
export interface TopologyRecord {
  v: 1;
  id: string;
  name: string;
  status: TopologyStatus;
  launchTimeMs: number;
  owner: string;
  /** sha256 (hex) of the bundle, also its file name in the bundle store. */
  bundleHash: string;
  bundleBytes: number;
  definition: TopologyDefinition;
  /** Resolved topology configuration (defaults filled in, frozen at submit). */
  config: TopologyConfig;
  numWorkers: number;
  /** Executors per component, including `__acker` (changes with rebalance). */
  componentExecutors: Record<string, number>;
  /**
   * Tasks of rescaled keyed stateful bolts, overriding the definition's `numTasks` (docs/state.md,
   * "Rescaling"): a rebalance of such a bolt changes its tasks with its executors. Every other
   * component's tasks never change.
   */
  componentTasks?: Record<string, number>;
  pending: PendingAction | null;
  /** Secret (hex) of this topology's worker-link HMAC handshake; never served over REST. */
  linkSecret: string;
}

/** One executor (a contiguous task range) placed on a supervisor's slot. */
export interface ExecutorAssignment {
  start: number;
  end: number;
  node: string;
  port: number;
}

/** `/assignments/<id>`: where every executor of a topology runs. */
export interface Assignment {
  v: 1;
  topologyId: string;
  executors: ExecutorAssignment[];
  /** Supervisor id → host. */
  nodeHost: Record<string, string>;
  /** `node:port` → when that worker's assignment was made (ms). */
  workerStartMs: Record<string, number>;
  /** Bumped on every change so supervisors and workers can tell assignments apart. */
  seq: number;
}

/** `/supervisors/<id>` (ephemeral). */
export interface SupervisorInfo {
  v: 1;
  id: string;
  host: string;
  ports: number[];
  usedPorts: number[];
  startTimeMs: number;
  timeMs: number;
  version: string;
  /** Port of its log server (supervisor/logviewer.ts) on `host`; absent when it runs none. */
  logviewerPort?: number;
}

/** Counters and latencies of one executor since its worker started (exact counts). */
export interface ExecutorStats {
  component: string;
  start: number;
  end: number;
  kind: 'spout' | 'bolt';
  /** Per stream. */
  emitted: Record<string, number>;
  transferred: Record<string, number>;
  /** Bolts: per input `component:stream`. */
  executed: Record<string, number>;
  acked: Record<string, number>;
  failed: Record<string, number>;
  /** Sums in ms, divided by the matching count to get averages. */
  executeMsTotal: number;
  processMsTotal: number;
  processCount: number;
  /** Spouts: sum of complete latencies (ms) over acked tuples. */
  completeMsTotal: number;
  /** Spouts: complete-latency histogram, sparse [bucket, count] pairs (common/histogram.ts). */
  completeHistogram?: number[];
  /**
   * Bolts: execute-latency histogram, sparse pairs; one entry per tuple at its batch's mean
   * execute time (measured per batch, never per tuple).
   */
  executeHistogram?: number[];
  /** Time (ms) the executor spent parked by backpressure: it had work but a queue it feeds was full. */
  backpressureMs?: number;
  /** Fraction of the last window the executor spent executing (0..1+). */
  capacity: number;
  uptimeSecs: number;
  /**
   * Windowed bolts (docs/windowing.md), summed over the executor's tasks: windows holding state,
   * tuples buffered (accumulators with incremental aggregation), the lowest event-time watermark
   * (null in processing time or before one), tuples too late for any window, and of those the
   * ones dropped for want of a late tuple stream.
   */
  windows?: WindowingStats;
  /** Async bolts (set once a task's execute returned a promise): calls unfinished now. */
  inflight?: number;
  /** Async bolts: calls failed because their promise outlived topology.async.timeout.secs. */
  asyncTimedOut?: number;
  /**
   * Checkpointed topologies (docs/state.md): the last txid this executor's tasks prepared, how
   * long its snapshot took to become durable, the bytes it wrote (when the backend says), how
   * long the barriers took to align, tuples held right now while aligning, checkpoints failed
   * here. The coordinator's executor reports the last committed txid, the duration of the last
   * checkpoint and the checkpoints aborted.
   */
  checkpoint?: { txid: number; durationMs: number; sizeBytes: number; alignmentMs: number; heldTuples: number; failed: number };
  /** User metrics (Storm metrics v2: context.register*), summed over the executor's tasks. */
  metrics?: Record<string, UserMetricStats>;
}

/**
 * One user metric of an executor, cumulative since its worker started. Counters and meters count;
 * histograms keep a sparse log-linear histogram (common/histogram.ts, values in the metric's own
 * unit) with their count and sum; gauges keep each task's latest value.
 */
export type UserMetricStats =
  | { type: 'counter'; count: number }
  | { type: 'meter'; count: number }
  | { type: 'histogram'; count: number; sum: number; hist: number[] }
  | { type: 'gauge'; values: Record<string, number> };

/**
 * `/workerbeats/<topologyId>/<node>-<port>`: a worker's small liveness record, written by its
 * supervisor a few times per `nimbus.task.timeout.secs` (stats go to Nimbus directly:
 * common/protocol/heartbeats.ts).
 */
export interface WorkerBeat {
  v: 1;
  topologyId: string;
  node: string;
  port: number;
  pid: number;
  timeMs: number;
  uptimeSecs: number;
  rssBytes: number;
}

/** `/errors/<topologyId>/<component>`: newest last, at most `topology.error.history.size`. */
export interface ComponentError {
  error: string;
  errorTimeMs: number;
  host: string;
  port: number;
  task?: number;
}

/** `/nimbus` (ephemeral). */
export interface NimbusInfo {
  v: 1;
  host: string;
  port: number;
  startTimeMs: number;
  version: string;
}
