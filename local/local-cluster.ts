import * as fs from 'node:fs';
import * as os from 'node:os';
import * as path from 'node:path';
import { Config, squallError, type StormTopology, type TopologyBuilder, type TopologyConfig } from '../topology-api';
import { ClusterState } from '../common/cluster-state/cluster-state';
import { MemoryStateServer, type MemoryStateStore } from '../common/cluster-state/memory-store';
import type { ComponentError, TopologyRecord } from '../common/cluster-state/types';
import { SystemClock, type Clock } from '../common/clock';
import { resolveDaemonConfig, type DaemonConfig } from '../common/config';
import { errorCode } from '../common/errors';
import { silentLogger, type Logger } from '../common/logging';
import { Random, randomSeed } from '../common/random';
import { computeLayout } from '../common/topology-layout';
import { BundleStore } from '../nimbus/bundle-store';
import { Nimbus } from '../nimbus/nimbus';
import { Supervisor } from '../supervisor/supervisor';
import type { Worker } from '../worker/worker';
import type { WorkerRuntime } from '../worker/runtime';
import { InProcessLauncher } from './in-process-launcher';
import { LocalBundles } from './local-bundles';
import { buildTopologyInfo, type TopologyInfo } from './topology-info';

export interface LocalClusterOptions {
  /** Time for timeouts, ticks and kill waits; a ManualClock in tests. */
  clock?: Clock;
  logger?: Logger;
  /** Seeds shuffle and tuple ids of every topology submitted (deterministic tests). */
  seed?: number;
  /** Supervisors (default 1) and worker slots on each (default 4). */
  supervisors?: number;
  slotsPerSupervisor?: number;
  /** Daemon configuration overrides (nimbus.*, supervisor.*). */
  daemonConfig?: Record<string, unknown>;
  /** Real-time bound on waiting for workers to start, stop or change state (default 10 s). */
  waitMs?: number;
}

/** Duck-typed: a topology module carries its own copy of the API, so instanceof would lie. */
export function toStormTopology(topology: StormTopology | TopologyBuilder): StormTopology {
  const t = topology as unknown as { createTopology?: () => StormTopology };
  return typeof t.createTopology === 'function' ? t.createTopology() : (topology as StormTopology);
}

/**
 * In-process workers cannot hang apart from the process that hosts them, and a ManualClock jumps
 * many heartbeats at once: local mode does not time workers out.
 */
const NEVER_SECS = 365 * 86400;
const LOCAL_DAEMON_DEFAULTS = {
  'nimbus.task.timeout.secs': NEVER_SECS,
  'nimbus.task.launch.secs': NEVER_SECS,
  'supervisor.worker.timeout.secs': NEVER_SECS,
  'supervisor.worker.start.timeout.secs': NEVER_SECS,
  'nimbus.port': 0,
};

/**
 * Storm's LocalCluster: the real Nimbus and supervisors, over the in-memory cluster state, with
 * workers started inside this process (in-process launcher, in-memory links) instead of as
 * processes. Several LocalClusters can live in one process; each topology in one is independent.
 */
export class LocalCluster {
  private readonly clock: Clock;
  private readonly logger: Logger;
  private readonly server = new MemoryStateServer();
  private readonly bundles = new LocalBundles();
  private readonly launcher: InProcessLauncher;
  private readonly stores: MemoryStateStore[] = [];
  private readonly supervisors: Supervisor[] = [];
  private readonly errors = new Map<string, Record<string, ComponentError[]>>();
  private readonly dir: string;
  private readonly config: DaemonConfig;
  private nimbus: Nimbus | null = null;
  private starting: Promise<Nimbus> | null = null;
  private closing: Promise<void> | null = null;

  constructor(private readonly options: LocalClusterOptions = {}) {
    this.clock = options.clock ?? new SystemClock();
    this.logger = options.logger ?? silentLogger();
    this.dir = fs.mkdtempSync(path.join(os.tmpdir(), 'squall-local-'));
    // one state directory for every supervisor: they stand for one machine
    this.config = resolveDaemonConfig(LOCAL_DAEMON_DEFAULTS, { 'squall.state.dir': path.join(this.dir, 'state') }, options.daemonConfig, { 'storm.local.dir': this.dir });
    this.launcher = new InProcessLauncher(this.bundles, this.clock, this.logger);
    this.launcher.errorTaps.add((topologyId, msg) => {
      if (msg.type !== 'error') return;
      const byComponent = this.errors.get(topologyId) ?? {};
      this.errors.set(topologyId, byComponent);
      const list = (byComponent[msg.component] ??= []);
      list.push({ ...msg.error, host: 'localhost' });
      if (list.length > 10) list.shift();
    });
  }

  /** Starts Nimbus and the supervisors on first use (a constructor cannot wait). */
  private ready(): Promise<Nimbus> {
    if (this.closing) return Promise.reject(squallError('ERR_CLOSED', 'this LocalCluster is closed'));
    this.starting ??= (async () => {
      const connect = (): ClusterState => {
        const store = this.server.connect();
        this.stores.push(store);
        return new ClusterState(store);
      };
      const nimbus = new Nimbus({ state: connect(), bundles: BundleStore.fromConfig(this.config), probe: this.bundles.probe, clock: this.clock, logger: this.logger.child({ daemon: 'nimbus' }), config: this.config });
      await nimbus.start({ host: 'localhost', port: 0 });
      this.nimbus = nimbus;
      const slots = this.options.slotsPerSupervisor ?? 4;
      for (let i = 0; i < (this.options.supervisors ?? 1); i++) {
        const config = resolveDaemonConfig(this.config, {
          'supervisor.id': `local-supervisor-${i + 1}`,
          'supervisor.host': 'localhost',
          'supervisor.slots.ports': Array.from({ length: slots }, (_, k) => 1024 + i * slots + k),
          'storm.local.dir': path.join(this.dir, `supervisor-${i + 1}`),
        });
        const supervisor = new Supervisor({
          state: connect(),
          launcher: this.launcher,
          bundles: this.bundles.provider,
          clock: this.clock,
          random: new Random(this.options.seed ?? randomSeed()),
          logger: this.logger.child({ daemon: 'supervisor', supervisor: i + 1 }),
          config,
          version: 'local',
          // The same signed reports as over REST, handed to Nimbus directly.
          heartbeats: { send: async (batch) => nimbus.receiveHeartbeats(batch.supervisorId, batch) },
        });
        await supervisor.start();
        this.supervisors.push(supervisor);
      }
      return nimbus;
    })();
    return this.starting;
  }

  /** Waits (real time, bounded) for a condition the daemons reach asynchronously. */
  private async settle(what: string, cond: () => boolean | Promise<boolean>, boundMs = this.options.waitMs ?? 10_000): Promise<void> {
    const deadline = performance.now() + boundMs;
    while (!(await cond())) {
      if (performance.now() > deadline) throw squallError('ERR_TIMEOUT', `local cluster: ${what} did not happen within ${boundMs} ms`);
      await new Promise((r) => setTimeout(r, 1));
    }
  }

  private async record(name: string): Promise<TopologyRecord> {
    const record = await this.find(name);
    if (!record) throw squallError('ERR_TOPOLOGY_NOT_FOUND', `no topology named "${name}"`);
    return record;
  }

  /** The record, or null once it is gone. */
  private async find(nameOrId: string): Promise<TopologyRecord | null> {
    const nimbus = await this.ready();
    try {
      return await nimbus.getTopology(nameOrId);
    } catch (err) {
      if (errorCode(err) === 'ERR_TOPOLOGY_NOT_FOUND') return null;
      throw err;
    }
  }

  /** Submits and returns once every worker of the topology is running. */
  async submitTopology(name: string, conf: TopologyConfig, topology: StormTopology | TopologyBuilder): Promise<void> {
    const nimbus = await this.ready();
    const built = toStormTopology(topology);
    const seed = this.options.seed === undefined ? {} : { [Config.TOPOLOGY_RANDOM_SEED]: this.options.seed };
    const bytes = this.bundles.register({ topology: built, config: {} });
    const result = await nimbus.submit(name, bytes, { ...seed, ...conf });
    await this.settle(`workers of "${name}" starting`, () => this.allRunning(result.id));
  }

  private async allRunning(topologyId: string): Promise<boolean> {
    const assignment = await this.nimbus!.getAssignment(topologyId);
    if (!assignment || assignment.executors.length === 0) return false;
    const expected = new Set(assignment.executors.map((e) => `${e.node}:${e.port}`));
    const workers = this.launcher.workersOf(topologyId).filter((w) => w.started);
    return workers.length === expected.size && workers.every((w) => expected.has(w.key));
  }

  private workers(topologyId: string): Worker[] {
    return this.launcher.workersOf(topologyId);
  }

  /**
   * Nimbus of this cluster: the REST API's views (`topologyPage`, `componentPage` with `?window=`,
   * `visualization`, ...), fed by the workers' heartbeats as on a real cluster.
   */
  async nimbusApi(): Promise<Nimbus> {
    return this.ready();
  }

  /** The runtimes of a topology's in-process workers, for tests of runtime features. */
  async workerRuntimes(name: string): Promise<WorkerRuntime[]> {
    return this.workers((await this.record(name)).id).map((w) => w.runtime);
  }

  async activate(name: string): Promise<void> {
    const record = await this.record(name);
    await this.nimbus!.activate(record.id);
    await this.settle(`"${name}" activating`, () => this.workers(record.id).every((w) => w.runtime.isActive()));
  }

  async deactivate(name: string): Promise<void> {
    const record = await this.record(name);
    await this.nimbus!.deactivate(record.id);
    await this.settle(`"${name}" deactivating`, () => this.workers(record.id).every((w) => !w.runtime.isActive()));
  }

  /** Storm's rebalance: resolves once the new workers are running. */
  async rebalance(name: string, opts: { waitSecs?: number; numWorkers?: number; executors?: Record<string, number> } = {}): Promise<void> {
    const record = await this.record(name);
    await this.nimbus!.rebalance(record.id, opts.waitSecs, { numWorkers: opts.numWorkers, executors: opts.executors });
    const waitMs = (opts.waitSecs ?? (record.config[Config.TOPOLOGY_MESSAGE_TIMEOUT_SECS] as number)) * 1000;
    await this.settle(`"${name}" rebalancing`, async () => (await this.find(record.id))?.status !== 'REBALANCING' && this.allRunning(record.id), waitMs + (this.options.waitMs ?? 10_000));
  }

  /**
   * Storm's killTopologyWithOpts: spouts are deactivated at once; after `waitSecs` (default the
   * message timeout) the workers stop. Resolves when they have.
   */
  async killTopology(name: string, opts: { waitSecs?: number } = {}): Promise<void> {
    const record = await this.record(name);
    await this.nimbus!.kill(record.id, opts.waitSecs);
    const waitMs = (opts.waitSecs ?? (record.config[Config.TOPOLOGY_MESSAGE_TIMEOUT_SECS] as number)) * 1000;
    await this.settle(`"${name}" being killed`, async () => (await this.find(record.id)) === null && this.workers(record.id).length === 0, waitMs + (this.options.waitMs ?? 10_000));
    this.errors.delete(record.id);
  }

  /** Status, stats (fresh from the workers) and errors of a topology. */
  async getTopologyInfo(name: string): Promise<TopologyInfo> {
    const record = await this.record(name);
    const workers = this.workers(record.id);
    return buildTopologyInfo({
      id: record.id,
      name: record.name,
      status: record.status,
      uptimeSecs: Math.max(0, Math.floor((this.clock.wallNow() - record.launchTimeMs) / 1000)),
      numWorkers: workers.length,
      definition: record.definition,
      layout: computeLayout(record.definition, record.config, record.componentExecutors, record.componentTasks),
      stats: workers.flatMap((w) => w.runtime.stats()),
      errors: this.errors.get(record.id) ?? {},
    });
  }

  async getTopologyNames(): Promise<string[]> {
    const nimbus = await this.ready();
    return (await nimbus.topologySummary()).map((t) => t.name).sort();
  }

  /**
   * Nothing queued, in flight between workers, or pending at a spout, and every spout ran dry on
   * its last call: what `completeTopology` waits for.
   */
  async isQuiescent(name: string): Promise<boolean> {
    const workers = this.workers((await this.record(name)).id);
    let sent = 0;
    let received = 0;
    for (const w of workers) {
      if (!w.runtime.isQuiescent()) return false;
      const s = w.linkStats();
      received += s.tuplesIn + s.acksIn + s.refusedIn;
      for (const o of s.outboxes) {
        if (o.pendingTuples > 0 || o.pendingFrames > 0) return false;
        sent += o.tuplesSent + o.acksSent;
      }
    }
    return sent === received;
  }

  /** Spout tuples pending and acker trees open, over every worker (tests, monitoring). */
  async pendingCounts(name: string): Promise<{ spoutPending: number; ackerTrees: number }> {
    const out = { spoutPending: 0, ackerTrees: 0 };
    for (const w of this.workers((await this.record(name)).id)) {
      const p = w.runtime.pendingCounts();
      out.spoutPending += p.spoutPending;
      out.ackerTrees += p.ackerTrees;
    }
    return out;
  }

  /** Stops every worker, the supervisors and Nimbus; idempotent. */
  close(): Promise<void> {
    this.closing ??= (async () => {
      try {
        await this.starting;
      } catch (err) {
        this.logger.warn({ code: errorCode(err) }, 'local cluster had failed to start');
      }
      for (const s of this.supervisors) await s.close();
      await this.nimbus?.close();
      for (const store of this.stores) await store.close();
      fs.rmSync(this.dir, { recursive: true, force: true });
    })();
    return this.closing;
  }
}
