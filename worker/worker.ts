import { randomBytes } from 'node:crypto';
import type { TopologyDefinition } from '../topology-api';
import type { Assignment, TopologyStatus } from '../common/cluster-state/types';
import type { Clock, TimerHandle } from '../common/clock';
import { squallError } from '../common/errors';
import type { Logger } from '../common/logging';
import { executorsOf, workerKey, type WorkerHeartbeat, type WorkerStartSpec, type WorkerToSupervisor } from '../common/protocol/ipc';
import { computeLayout, type ExecutorRange } from '../common/topology-layout';
import type { LoadedTopology } from '../common/topology-module';
import { RemoteRouter } from './remote';
import { WorkerRuntime } from './runtime';
import type { MemoryStateStorage } from './state/memory-backend';
import type { PeerAddress, Transport, TransportStats } from './transport/types';

/** How a worker talks to its supervisor (IPC for a process, a direct call in local mode). */
export interface SupervisorPort {
  send(message: WorkerToSupervisor): void;
}

export interface WorkerOptions {
  spec: WorkerStartSpec;
  loaded: LoadedTopology;
  transport: Transport;
  supervisor: SupervisorPort;
  clock: Clock;
  logger: Logger;
  /** Resident memory for heartbeats (process.memoryUsage.rss for a process). */
  rss?: () => number;
  /** Local mode: the memory state backend's rows, kept across in-process worker restarts. */
  memoryState?: MemoryStateStorage;
}

/** JSON with sorted keys: two definitions built by the same code compare equal. */
function canonical(value: unknown): string {
  return JSON.stringify(value, (_k, v: unknown) =>
    v && typeof v === 'object' && !Array.isArray(v) ? Object.fromEntries(Object.entries(v as Record<string, unknown>).sort(([a], [b]) => (a < b ? -1 : a > b ? 1 : 0))) : v,
  );
}

/** Peers and the task → worker map of an assignment. */
export function routesOf(assignment: Assignment): { peers: Map<string, PeerAddress>; workerOfTask: Map<number, string> } {
  const peers = new Map<string, PeerAddress>();
  const workerOfTask = new Map<number, string>();
  for (const e of assignment.executors) {
    const key = workerKey(e.node, e.port);
    peers.set(key, { host: assignment.nodeHost[e.node] ?? '127.0.0.1', port: e.port });
    for (let t = e.start; t <= e.end; t++) workerOfTask.set(t, key);
  }
  return { peers, workerOfTask };
}

/**
 * One worker: a topology's share of executors on one slot. Builds the runtime and its links from
 * the start spec, follows assignment and status changes, and heartbeats its stats to the
 * supervisor from the event loop (between batches), so a loop blocked by user code goes quiet and
 * is noticed.
 */
export class Worker {
  readonly key: string;
  readonly runtime: WorkerRuntime;
  private readonly router: RemoteRouter;
  private readonly startedMs: number;
  /** Identity of this run of the worker for Nimbus's stats (never reused, unlike pids and ports). */
  private readonly incarnation = randomBytes(8).toString('hex');
  private heartbeat: TimerHandle | null = null;
  private closing: Promise<void> | null = null;
  /** True once listening, linked and running its executors. */
  started = false;

  constructor(private readonly opts: WorkerOptions) {
    const { spec, loaded } = opts;
    this.key = workerKey(spec.supervisorId, spec.port);
    if (canonical(loaded.topology.definition) !== canonical(spec.definition)) {
      throw squallError('ERR_WORKER_START_FAILED', `the bundle's topology differs from the one Nimbus accepted for ${spec.topologyId}`);
    }
    this.startedMs = opts.clock.now();
    this.router = new RemoteRouter({ transport: opts.transport, logger: opts.logger });
    // this slot's share of the assignment
    const layout = computeLayout(spec.definition, spec.config, spec.componentExecutors, spec.componentTasks);
    const executors = executorsOf(spec.assignment, spec.supervisorId, spec.port).map(
      (r): ExecutorRange => ({ component: layout.taskComponent[r.start], start: r.start, end: r.end }),
    );
    this.runtime = new WorkerRuntime({
      topologyId: spec.topologyId,
      definition: spec.definition as TopologyDefinition,
      factories: loaded.topology.factories,
      config: spec.config,
      componentExecutors: spec.componentExecutors,
      componentTasks: spec.componentTasks,
      executors,
      port: spec.port,
      clock: opts.clock,
      logger: opts.logger,
      remote: this.router,
      active: spec.active,
      stateEnv: {
        topology: typeof spec.config['topology.name'] === 'string' ? spec.config['topology.name'] : spec.topologyId,
        dir: spec.stateDir ?? null,
        memory: opts.memoryState,
      },
      onError: (e) =>
        opts.supervisor.send({
          type: 'error',
          component: e.component,
          error: { error: e.error, errorTimeMs: e.timeMs, host: spec.host, port: spec.port, task: e.task },
        }),
    });
    this.router.attach(this.runtime);
  }

  /** Listens on the slot port, connects to peers, starts executors, reports ready, heartbeats. */
  async start(): Promise<void> {
    await this.opts.transport.listen();
    this.onAssignment(this.opts.spec.assignment);
    this.runtime.start();
    this.started = true;
    this.opts.supervisor.send({ type: 'ready', pid: process.pid });
    this.heartbeat = this.opts.clock.setInterval(() => this.sendHeartbeat(), this.opts.spec.heartbeatMs);
    this.sendHeartbeat();
  }

  /** Peers moved (or this worker's own executors, which the supervisor handles by restarting us). */
  onAssignment(assignment: Assignment): void {
    const { peers, workerOfTask } = routesOf(assignment);
    this.router.updateAssignment((task) => workerOfTask.get(task), peers);
    this.runtime.wake();
  }

  onStatus(status: TopologyStatus): void {
    this.runtime.setActive(status === 'ACTIVE');
  }

  beat(): WorkerHeartbeat {
    return {
      incarnation: this.incarnation,
      timeMs: this.opts.clock.wallNow(),
      uptimeSecs: Math.floor((this.opts.clock.now() - this.startedMs) / 1000),
      rssBytes: this.opts.rss ? this.opts.rss() : 0,
      executors: this.runtime.stats(),
    };
  }

  /** Traffic counters of this worker's links. */
  linkStats(): TransportStats {
    return this.opts.transport.stats();
  }

  sendHeartbeat(): void {
    this.opts.supervisor.send({ type: 'heartbeat', beat: this.beat() });
  }

  /**
   * Stops cleanly: spouts deactivated and closed, what was batched for other workers sent, links
   * closed. Tuples still in flight are not acked, so their spouts replay them (at-least-once).
   */
  close(): Promise<void> {
    this.closing ??= (async () => {
      if (this.heartbeat) this.opts.clock.clear(this.heartbeat);
      this.heartbeat = null;
      try {
        this.runtime.close();
      } catch (err) {
        this.opts.logger.warn({ err }, 'runtime close failed');
      }
      this.router.close();
      await this.opts.transport.close();
    })();
    return this.closing;
  }
}
