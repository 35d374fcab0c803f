import type { ComponentSummary } from '../stats-summary';
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

export interface WindowStats {
  window: ':all-time';
  windowPretty: 'All time';
  emitted: number;
  transferred: number;
  completeLatency: string;
  acked: number;
  failed: number;
}

export interface SpoutEntry {
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

export interface BoltEntry {
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

export interface ExecutorEntry {
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
}

export interface ComponentPage {
  id: string;
  encodedId: string;
  name: string;
  topologyId: string;
  componentType: 'spout' | 'bolt';
  executors: number;
  tasks: number;
  summary: ComponentSummary;
  executorStats: ExecutorEntry[];
  componentErrors: Array<{ error: string; errorHost: string; errorPort: number; errorTime: number; errorLapsedSecs: number }>;
  inputStats?: Array<{ component: string; stream: string; grouping: string }>;
  outputStats?: Array<{ stream: string; fields: string[]; direct: boolean }>;
}

export interface VisualizationPage {
  components: Record<string, { type: 'spout' | 'bolt'; parallelism: number; inputs: Array<{ component: string; stream: string; grouping: string }> }>;
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
