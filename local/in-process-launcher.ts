import type { Clock } from '../common/clock';
import { describeError, errorCode } from '../common/errors';
import type { Logger } from '../common/logging';
import type { SupervisorToWorker, WorkerStartSpec, WorkerToSupervisor } from '../common/protocol/ipc';
import type { WorkerEvents, WorkerHandle, WorkerLauncher } from '../supervisor/launcher';
import { MemoryHub, MemoryTransport } from '../worker/transport/memory-transport';
import { MemoryStateStorage } from '../worker/state/memory-backend';
import { Worker } from '../worker/worker';
import type { LocalBundles } from './local-bundles';

/**
 * Local mode's WorkerLauncher: the same Worker a worker process runs, started inside this process
 * on the in-memory transport. Messages in both directions are delivered asynchronously, as over
 * IPC, so the supervisor sees exactly what it sees from a process.
 */
export class InProcessLauncher implements WorkerLauncher {
  readonly hub = new MemoryHub();
  /** Live workers by topology id. */
  private readonly live = new Map<string, Set<Worker>>();
  /** Errors workers reported, by topology id (newest last), as the supervisor got them. */
  readonly errorTaps = new Set<(topologyId: string, message: WorkerToSupervisor) => void>();

  /** Rows of the memory state backend: they outlive a worker, as a durable backend's do. */
  readonly memoryState = new MemoryStateStorage();

  constructor(
    private readonly bundles: LocalBundles,
    private readonly clock: Clock,
    private readonly logger: Logger,
  ) {}

  workersOf(topologyId: string): Worker[] {
    return [...(this.live.get(topologyId) ?? [])];
  }

  launch(spec: WorkerStartSpec, events: WorkerEvents): WorkerHandle {
    const logger = this.logger.child({ topologyId: spec.topologyId, port: spec.port });
    let exited = false;
    let worker: Worker | null = null;
    const toSupervisor = (msg: WorkerToSupervisor): void => {
      for (const tap of this.errorTaps) tap(spec.topologyId, msg);
      setImmediate(() => {
        if (!exited) events.onMessage(msg);
      });
    };
    const exit = (code: number | null, signal: string | null): void => {
      if (exited) return;
      const set = this.live.get(spec.topologyId);
      if (worker && set) {
        set.delete(worker);
        if (set.size === 0) this.live.delete(spec.topologyId);
      }
      // after every message already sent, as a process's exit follows its last IPC message
      setImmediate(() => {
        exited = true;
        events.onExit(code, signal);
      });
    };
    const stop = (code: number, signal: string | null): void => {
      if (!worker) return exit(code, signal);
      worker.close().then(
        () => exit(code, signal),
        (err: unknown) => {
          logger.warn({ err }, 'in-process worker close failed');
          exit(code, signal);
        },
      );
    };
    try {
      worker = new Worker({
        spec,
        loaded: this.bundles.forHash(spec.bundleHash),
        transport: new MemoryTransport(this.hub, { workerKey: `${spec.supervisorId}:${spec.port}`, config: spec.config, clock: this.clock, logger }),
        supervisor: { send: toSupervisor },
        clock: this.clock,
        logger,
        memoryState: this.memoryState,
      });
    } catch (err) {
      toSupervisor({ type: 'fatal', code: errorCode(err) ?? 'ERR_WORKER_START_FAILED', message: describeError(err) });
      exit(1, null);
      return { pid: null, send: () => undefined, kill: () => undefined };
    }
    const w = worker;
    let set = this.live.get(spec.topologyId);
    if (!set) this.live.set(spec.topologyId, (set = new Set()));
    set.add(w);
    w.start().catch((err: unknown) => {
      toSupervisor({ type: 'fatal', code: errorCode(err) ?? 'ERR_WORKER_START_FAILED', message: describeError(err) });
      stop(1, null);
    });
    return {
      pid: null,
      send: (msg: SupervisorToWorker) => {
        setImmediate(() => {
          if (exited) return;
          if (msg.type === 'assignment') w.onAssignment(msg.assignment);
          else if (msg.type === 'status') w.onStatus(msg.status);
          else if (msg.type === 'shutdown') stop(0, null);
        });
      },
      kill: (signal) => stop(0, signal),
    };
  }
}
