import {
  Config,
  type TopologyBuilder,
  isStormTopology,
  problemsError,
  resolveTopologyConfig,
  squallError,
  topologyProblems,
  type StormTopology,
  type TopologyConfig,
} from '../topology-api';
import { SystemClock, type Clock, type TimerHandle } from '../common/clock';
import type { ComponentError, TopologyStatus } from '../common/cluster-state/types';
import { silentLogger, type Logger } from '../common/logging';
import { WorkerRuntime } from '../worker/runtime';
import { buildTopologyInfo, type TopologyInfo } from './topology-info';

export interface LocalClusterOptions {
  /** Time for timeouts, ticks and kill waits; a ManualClock in tests. */
  clock?: Clock;
  logger?: Logger;
  /** Seeds shuffle and tuple ids (deterministic tests). */
  seed?: number;
}

interface LocalTopology {
  id: string;
  name: string;
  status: TopologyStatus;
  launchMs: number;
  runtime: WorkerRuntime;
  topology: StormTopology;
  config: Readonly<TopologyConfig>;
  errors: Record<string, ComponentError[]>;
  killTimer: TimerHandle | null;
  /** Completes a pending kill (close() calls it so no kill promise is left hanging). */
  finishKill: (() => void) | null;
}

/** Duck-typed: a topology module carries its own copy of the API, so instanceof would lie. */
export function toStormTopology(topology: StormTopology | TopologyBuilder): StormTopology {
  const t = topology as unknown as { createTopology?: () => StormTopology };
  return typeof t.createTopology === 'function' ? t.createTopology() : (topology as StormTopology);
}

const NAME_PATTERN = /^[^/.:\\]+$/;

/**
 * Storm's LocalCluster: run topologies inside this process. Several can live in one process;
 * each is independent. `close()` kills everything.
 */
export class LocalCluster {
  private readonly clock: Clock;
  private readonly logger: Logger;
  private readonly topologies = new Map<string, LocalTopology>();
  private nextId = 1;
  private closed = false;

  constructor(private readonly options: LocalClusterOptions = {}) {
    this.clock = options.clock ?? new SystemClock();
    this.logger = options.logger ?? silentLogger();
  }

  async submitTopology(name: string, conf: TopologyConfig, topology: StormTopology | TopologyBuilder): Promise<void> {
    if (this.closed) throw squallError('ERR_CLOSED', 'this LocalCluster is closed');
    if (typeof name !== 'string' || !NAME_PATTERN.test(name)) throw squallError('ERR_TOPOLOGY_INVALID', `topology name ${JSON.stringify(name)} must be non-empty and contain none of / . : \\`);
    const existing = this.topologies.get(name);
    if (existing) throw squallError('ERR_TOPOLOGY_EXISTS', `a topology named "${name}" is ${existing.status === 'KILLED' ? 'being killed' : 'already running'}`);
    const built = toStormTopology(topology);
    if (!isStormTopology(built)) throw squallError('ERR_TOPOLOGY_INVALID', 'expected a TopologyBuilder or the result of createTopology()');
    const problems = topologyProblems(built.definition);
    if (problems.length > 0) throw problemsError('ERR_TOPOLOGY_INVALID', 'topology', problems);
    const config = resolveTopologyConfig(built.config, conf, { [Config.TOPOLOGY_NAME]: name });
    const id = `${name}-${this.nextId++}-${Math.floor(this.clock.wallNow() / 1000)}`;
    const errors: Record<string, ComponentError[]> = {};
    const historySize = config[Config.TOPOLOGY_ERROR_HISTORY_SIZE] as number;
    const runtime = new WorkerRuntime({
      topologyId: id,
      definition: built.definition,
      factories: built.factories,
      config,
      clock: this.clock,
      logger: this.logger.child({ topologyId: id }),
      seed: this.options.seed,
      onError: (e) => {
        const list = (errors[e.component] ??= []);
        list.push({ error: e.error, errorTimeMs: e.timeMs, host: 'localhost', port: 0, task: e.task });
        if (list.length > historySize) list.shift();
      },
    });
    runtime.start();
    this.topologies.set(name, { id, name, status: 'ACTIVE', launchMs: this.clock.now(), runtime, topology: built, config, errors, killTimer: null, finishKill: null });
  }

  private get(name: string): LocalTopology {
    const t = this.topologies.get(name);
    if (!t || t.status === 'KILLED') throw squallError('ERR_TOPOLOGY_NOT_FOUND', `no topology named "${name}"`);
    return t;
  }

  async activate(name: string): Promise<void> {
    const t = this.get(name);
    if (t.killTimer) throw squallError('ERR_INVALID_TRANSITION', `"${name}" is being killed`);
    t.status = 'ACTIVE';
    t.runtime.setActive(true);
  }

  async deactivate(name: string): Promise<void> {
    const t = this.get(name);
    if (t.killTimer) throw squallError('ERR_INVALID_TRANSITION', `"${name}" is being killed`);
    t.status = 'INACTIVE';
    t.runtime.setActive(false);
  }

  /**
   * Storm's killTopologyWithOpts: spouts are deactivated at once; after `waitSecs` (default the
   * message timeout) the topology is shut down. Resolves when it is gone.
   */
  async killTopology(name: string, opts: { waitSecs?: number } = {}): Promise<void> {
    const t = this.get(name);
    const waitSecs = opts.waitSecs ?? (t.config[Config.TOPOLOGY_MESSAGE_TIMEOUT_SECS] as number);
    t.runtime.setActive(false);
    t.status = 'KILLED';
    await new Promise<void>((resolve) => {
      const finish = (): void => {
        if (t.killTimer) this.clock.clear(t.killTimer);
        t.finishKill = null;
        t.runtime.close();
        if (this.topologies.get(name) === t) this.topologies.delete(name);
        resolve();
      };
      t.finishKill = finish;
      if (waitSecs <= 0) finish();
      else t.killTimer = this.clock.setTimeout(finish, waitSecs * 1000);
    });
  }

  async getTopologyInfo(name: string): Promise<TopologyInfo> {
    const t = this.get(name);
    return buildTopologyInfo({
      id: t.id,
      name: t.name,
      status: t.status,
      uptimeSecs: Math.floor((this.clock.now() - t.launchMs) / 1000),
      numWorkers: 1,
      definition: t.topology.definition,
      layout: t.runtime.layout,
      stats: t.runtime.stats(),
      errors: t.errors,
    });
  }

  getTopologyNames(): string[] {
    return [...this.topologies.values()].filter((t) => t.status !== 'KILLED').map((t) => t.name);
  }

  /** The running runtime of a topology (testing helpers use it to wait for quiescence). */
  runtimeOf(name: string): WorkerRuntime {
    return this.get(name).runtime;
  }

  /** Kills every topology at once (no wait); idempotent. */
  async close(): Promise<void> {
    if (this.closed) return;
    this.closed = true;
    for (const t of [...this.topologies.values()]) {
      try {
        if (t.finishKill) t.finishKill();
        else t.runtime.close();
      } catch (err) {
        this.logger.warn({ err, topology: t.name }, 'close failed');
      }
    }
    this.topologies.clear();
  }
}
