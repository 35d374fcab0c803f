import type { Assignment, ComponentError, ExecutorStats, TopologyStatus } from '../cluster-state/types';
import type { TopologyConfig, TopologyDefinition } from '../../topology-api';

/**
 * The supervisor ↔ worker control channel (Node's child-process IPC for real workers, direct calls
 * for in-process ones). Data never goes this way: tuples travel between workers over websockets.
 */

/** Everything a worker needs to start; the first message a supervisor sends. */
export interface WorkerStartSpec {
  topologyId: string;
  supervisorId: string;
  host: string;
  port: number;
  /** Absolute path of the verified bundle (process workers). */
  bundlePath: string;
  bundleHash: string;
  definition: TopologyDefinition;
  config: TopologyConfig;
  componentExecutors: Record<string, number>;
  /** Task counts of rescaled keyed stateful bolts (TopologyRecord.componentTasks). */
  componentTasks?: Record<string, number>;
  /** Secret for the HMAC handshake of this topology's worker links. */
  linkSecret: string;
  assignment: Assignment;
  active: boolean;
  logLevel: string;
  heartbeatMs: number;
  frameMaxBytes: number;
  /**
   * Absolute directory of the embedded (sqlite) state backend on this machine: the supervisor's
   * `squall.state.dir`, by default `<storm.local.dir>/state`. Absent from older supervisors.
   */
  stateDir?: string;
}

export type SupervisorToWorker =
  | { type: 'start'; spec: WorkerStartSpec }
  | { type: 'assignment'; assignment: Assignment }
  | { type: 'status'; status: TopologyStatus }
  | { type: 'shutdown' };

export interface WorkerHeartbeat {
  /** Chosen by the worker when it starts: its cumulative stats count from zero under it. */
  incarnation: string;
  timeMs: number;
  uptimeSecs: number;
  rssBytes: number;
  executors: ExecutorStats[];
}

export type WorkerToSupervisor =
  | { type: 'ready'; pid: number }
  | { type: 'heartbeat'; beat: WorkerHeartbeat }
  | { type: 'error'; component: string; error: ComponentError }
  | { type: 'fatal'; code: string; message: string };

/** Executors (task ranges) a worker on `node:port` runs, per the assignment. */
export function executorsOf(assignment: Assignment, node: string, port: number): Array<{ start: number; end: number }> {
  return assignment.executors.filter((e) => e.node === node && e.port === port).map((e) => ({ start: e.start, end: e.end }));
}

/** `node:port` of every worker in an assignment. */
export function workerKeys(assignment: Assignment): string[] {
  return [...new Set(assignment.executors.map((e) => `${e.node}:${e.port}`))].sort();
}

export function workerKey(node: string, port: number): string {
  return `${node}:${port}`;
}
