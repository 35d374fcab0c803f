import { squallError } from '../errors';
import type { ComponentSummary, ExtraSummary, UserMetricSummary } from '../stats-summary';
import type { ExecutorStats, TopologyStatus } from '../cluster-state/types';
import type { CheckpointSummary } from '../checkpoint-stats';

/**
 * Nimbus's REST API (under /api/v1), mirroring Storm UI's paths and field names. Shared by the
 * REST app and the CLI. Documented with examples in docs/rest-api.md.
 */
export const API_PREFIX = '/api/v1';

export interface ErrorBody {
  error: string;
  code: string;
}

export interface ClusterSummary {
  squallVersion: string;
  nimbusUptime: string;
  nimbusUptimeSeconds: number;
  supervisors: number;
  topologies: number;
  slotsTotal: number;
  slotsUsed: number;
  slotsFree: number;
  executorsTotal: number;
  tasksTotal: number;
}

export interface SupervisorSummaryEntry {
  id: string;
  host: string;
  uptime: string;
  uptimeSeconds: number;
  slotsTotal: number;
  slotsUsed: number;
  slotsFree: number;
  usedPorts: number[];
  version: string;
}

export interface NimbusSummaryEntry {
  host: string;
  port: number;
  status: 'Leader';
  nimbusUpTime: string;
  nimbusUpTimeSeconds: number;
  version: string;
}

export interface TopologySummaryEntry {
  id: string;
  encodedId: string;
  name: string;
  status: TopologyStatus;
  uptime: string;
  uptimeSeconds: number;
  tasksTotal: number;
  workersTotal: number;
  executorsTotal: number;
  owner: string;
  /** Why it is not fully running, when it is not (e.g. workers failing to start). */
  schedulerDisplayResource?: string;
}

/** Storm UI's stats windows: `?window=` takes these; `:all-time` is the default. */
export type StatsWindowId = '600' | '10800' | '86400' | ':all-time';

export const STATS_WINDOWS: ReadonlyArray<{ window: StatsWindowId; windowPretty: string; secs: number | null }> = [
  { window: '600', windowPretty: '10m 0s', secs: 600 },
  { window: '10800', windowPretty: '3h 0m 0s', secs: 10800 },
  { window: '86400', windowPretty: '1d 0h 0m 0s', secs: 86400 },
  { window: ':all-time', windowPretty: 'All time', secs: null },
];

/** `?window=` → a window id (absent or empty: all time); anything else is ERR_BODY_INVALID. */
export function parseStatsWindow(raw: string | null): StatsWindowId {
  if (raw === null || raw === '') return ':all-time';
  const found = STATS_WINDOWS.find((w) => w.window === raw);
  if (!found) throw squallError('ERR_BODY_INVALID', `window must be one of ${STATS_WINDOWS.map((w) => w.window).join(', ')} (got ${JSON.stringify(raw.slice(0, 40))})`);
  return found.window;
}

/** Percentile fields beside a Storm mean latency field, in ms with 3 decimals (Storm's format). */
export interface CompletePercentileFields {
  completeLatencyP50: string;
  completeLatencyP90: string;
  completeLatencyP99: string;
  completeLatencyP999: string;
}

export interface ExecutePercentileFields {
  executeLatencyP50: string;
  executeLatencyP90: string;
  executeLatencyP99: string;
  executeLatencyP999: string;
}

export interface WindowStats extends CompletePercentileFields {
  window: StatsWindowId;
  windowPretty: string;
  emitted: number;
  transferred: number;
  completeLatency: string;
  acked: number;
  failed: number;
}

export interface SpoutEntry extends CompletePercentileFields {
  spoutId: string;
  encodedSpoutId: string;
  executors: number;
  tasks: number;
  emitted: number;
  transferred: number;
  acked: number;
  failed: number;
  completeLatency: string;
  lastError: string;
  errorHost: string;
  errorPort: number | null;
  errorTime: number | null;
  errorLapsedSecs: number | null;
}

/** Optional figures aggregated per component (async, windowed, stateful bolts; user metrics). */
export type ComponentExtras = ExtraSummary;

export interface BoltEntry extends ExecutePercentileFields, ComponentExtras {
  boltId: string;
  encodedBoltId: string;
  executors: number;
  tasks: number;
  emitted: number;
  transferred: number;
  executed: number;
  acked: number;
  failed: number;
  executeLatency: string;
  processLatency: string;
  capacity: string;
  /** Time its executors spent parked by backpressure in the window (ms, summed). */
  backpressureMs: number;
  lastError: string;
  errorHost: string;
  errorPort: number | null;
  errorTime: number | null;
  errorLapsedSecs: number | null;
}

export interface WorkerEntry {
  supervisorId: string;
  host: string;
  port: number;
  uptime: string;
  uptimeSeconds: number;
  executorsTotal: number;
  componentNumTasks: Record<string, number>;
  pid: number | null;
  rssBytes: number | null;
  /** 'running' once heartbeating, 'starting' before, 'dead' past the timeout. */
  state: 'starting' | 'running' | 'dead';
}

export interface TopologyPage {
  id: string;
  encodedId: string;
  name: string;
  status: TopologyStatus;
  uptime: string;
  uptimeSeconds: number;
  tasksTotal: number;
  workersTotal: number;
  executorsTotal: number;
  owner: string;
  msgTimeout: number;
  bundleHash: string;
  /** The window the spouts and bolts tables cover (`?window=`). */
  window: StatsWindowId;
  windowPretty: string;
  /** Every window: 10 m, 3 h, 1 d, all time (Storm's order). */
  topologyStats: WindowStats[];
  spouts: SpoutEntry[];
  bolts: BoltEntry[];
  workers: WorkerEntry[];
  configuration: Record<string, unknown>;
  schedulerDisplayResource?: string;
  /** Worker start failures (`/errors/<id>/__worker`), newest first. */
  workerErrors: Array<{ error: string; errorHost: string; errorPort: number; errorTime: number; errorLapsedSecs: number }>;
  /** Checkpointed topologies (docs/state.md): the last committed checkpoint and its figures. */
  checkpoint?: CheckpointSummary;
}

/** Component name under which supervisors report worker start failures. */
export const WORKER_ERRORS_COMPONENT = '__worker';

export interface ExecutorEntry extends CompletePercentileFields, ExecutePercentileFields, ComponentExtras {
  id: string;
  encodedId: string;
  host: string;
  port: number;
  supervisorId: string;
  uptime: string;
  uptimeSeconds: number;
  emitted: number;
  transferred: number;
  acked: number;
  failed: number;
  executed: number;
  executeLatency: string;
  processLatency: string;
  completeLatency: string;
  capacity: string;
  /** Checkpointed topologies: this executor's last checkpoint (ExecutorStats.checkpoint). */
  checkpoint?: NonNullable<ExecutorStats['checkpoint']>;
  backpressureMs: number;
  /** User metrics of this executor (its tasks), over the window. */
  metrics: UserMetricSummary[];
}

/** One row of Storm's `spoutSummary` / `boltStats`: the component over one window. */
export interface ComponentWindowStats extends CompletePercentileFields, ExecutePercentileFields {
  window: StatsWindowId;
  windowPretty: string;
  emitted: number;
  transferred: number;
  acked: number;
  failed: number;
  executed: number;
  completeLatency: string;
  executeLatency: string;
  processLatency: string;
  capacity: string;
}

/** A latency distribution for a chart: non-empty histogram buckets (upper bound ms, count). */
export interface LatencyDistribution {
  /** 'complete' for spouts, 'execute' for bolts (per-batch means). */
  kind: 'complete' | 'execute';
  count: number;
  buckets: Array<{ upperMs: number; count: number }>;
}

export interface ComponentPage extends ComponentExtras {
  id: string;
  encodedId: string;
  name: string;
  topologyId: string;
  componentType: 'spout' | 'bolt';
  executors: number;
  tasks: number;
  /** The window of `summary`, `executorStats`, the input/output stats, metrics and distribution. */
  window: StatsWindowId;
  windowPretty: string;
  summary: ComponentSummary;
  /** Storm's per-window rows: `spoutSummary` for spouts, `boltStats` for bolts (every window). */
  spoutSummary?: ComponentWindowStats[];
  boltStats?: ComponentWindowStats[];
  executorStats: ExecutorEntry[];
  componentErrors: Array<{ error: string; errorHost: string; errorPort: number; errorTime: number; errorLapsedSecs: number }>;
  inputStats?: Array<{ component: string; stream: string; grouping: string; executed: number; acked: number; failed: number }>;
  outputStats?: Array<{ stream: string; fields: string[]; direct: boolean; emitted: number; transferred: number }>;
  /** User metrics (context.register*), aggregated over tasks and workers. */
  metrics: UserMetricSummary[];
  latencyDistribution: LatencyDistribution;
}

/** An edge of the graph: a subscription, with its current rate. */
export interface VisualizationInput {
  component: string;
  stream: string;
  grouping: string;
  /** Tuples the subscriber executed from this input per second, over the recent rate span. */
  tuplesPerSec: number;
}

export interface VisualizationPage {
  /** Seconds the rates cover (the newest buckets of the 10-minute window). */
  rateWindowSecs: number;
  components: Record<
    string,
    {
      type: 'spout' | 'bolt';
      parallelism: number;
      inputs: VisualizationInput[];
      /** Emitted per second (all its streams), over the rate span. */
      emittedPerSec: number;
      /** Per output stream: emitted per second. */
      streams: Record<string, number>;
      /** Bolts: busiest executor's capacity (latest); spouts: '0.000'. */
      capacity: string;
      /** Spouts: complete latency; bolts: execute latency (ms, all time). */
      latency: string;
    }
  >;
}

export interface OperationResult {
  topologyOperation: 'activate' | 'deactivate' | 'rebalance' | 'kill';
  topologyId: string;
  status: 'success';
}

export interface SubmitResult {
  id: string;
  name: string;
  status: TopologyStatus;
  bundleHash: string;
}

/** Body of POST topology/:id/rebalance/:wait (Storm UI's shape). */
export interface RebalanceBody {
  rebalanceOptions?: { numWorkers?: number; executors?: Record<string, number> };
}

/** One of a worker's log files (`worker.log`, then rotated `worker.log.1` ...). */
export interface LogFileInfo {
  name: string;
  bytes: number;
  modifiedMs: number;
}

/**
 * GET topology/:id/log/:host/:port: whole lines of a worker's log between byte offsets `start`
 * and `end` (the tail when no `start` was asked for). The next page starts at `end`.
 */
export interface LogPage {
  topologyId: string;
  host: string;
  port: number;
  file: string;
  /** Every log file of this worker, the current one first. */
  files: LogFileInfo[];
  /** Bytes in `file` now. */
  size: number;
  /** Changes when the file is rotated (a follower then reads on from the rotated file). */
  fileId: string;
  start: number;
  end: number;
  text: string;
}

/** GET topology/:id/log/:host/:port/search: matching lines from `start`; `nextStart` continues (null: end reached). */
export interface LogSearchResult {
  topologyId: string;
  host: string;
  port: number;
  file: string;
  query: string;
  size: number;
  fileId: string;
  start: number;
  nextStart: number | null;
  matches: Array<{ offset: number; line: string }>;
}
