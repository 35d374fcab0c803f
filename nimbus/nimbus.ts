/**
 * Nimbus's core, without HTTP: submission, the topology state machine, scheduling and dead-worker
 * detection, plus the read side the REST app serves (read-side.ts). Cluster state is the truth;
 * Nimbus, the only writer of topology records and assignments, keeps a copy of both in memory
 * (topology-table.ts).
 *
 * Every mutation (submit's final step, activate, deactivate, kill, rebalance, a pending action
 * falling due, a monitor round) runs through one bounded serial queue, so read-modify-write
 * sequences never interleave. Probing a bundle (seconds) happens before the queue.
 *
 * Time: records carry wall-clock ms (`launchTimeMs`, `pending.dueMs`, `workerStartMs`) so they
 * survive a restart; liveness uses the monotonic clock. Both come from the injected Clock.
 */
import { randomBytes } from 'node:crypto';
import type { ReadStream } from 'node:fs';
import type { Clock, TimerHandle } from '../common/clock';
import type { ClusterState } from '../common/cluster-state/cluster-state';
import type { ConnectionState } from '../common/cluster-state/store';
import type { Assignment, SupervisorInfo, TopologyRecord } from '../common/cluster-state/types';
import { cfg, type DaemonConfig } from '../common/config';
import { describeError, errorCode, squallError } from '../common/errors';
import type { Logger } from '../common/logging';
import type {
  ClusterSummary,
  ComponentPage,
  LogPage,
  LogSearchResult,
  NimbusSummaryEntry,
  OperationResult,
  SubmitResult,
  SupervisorSummaryEntry,
  TopologySummaryEntry,
  VisualizationPage,
} from '../common/protocol/rest';
import { Config, type TopologyConfig } from '../common/topology';
import type { BundleProbe } from './bundle-probe';
import type { BundleStore } from './bundle-store';
import { WorkerLiveness } from './liveness';
import { WorkerLogClient, type LogRequestKind } from './log-client';
import { idCounter, newTopologyId } from './names';
import type { HeartbeatReceipt, ProcessFacts } from '../common/protocol/heartbeats';
import { processRegistry, renderMetrics } from './prometheus';
import type { Registry } from 'prom-client';
import { receiveHeartbeats } from './heartbeats';
import { NimbusReadSide, type PageOptions } from './read-side';
import { StatsStore } from './stats/store';
import { schedule, slotKey } from './scheduler';
import { SerialQueue } from './serial-queue';
import { BundleClaims, checkSubmission, draftRecord } from './submission';
import { rescalableComponents } from '../common/guarantees';
import { TopologyTable } from './topology-table';
import { step, type RebalanceOptions, type TopologyEvent } from './topology-state';
import { squallVersion } from '../common/version';
import type { NimbusTopologyPage } from './views';

export interface NimbusDeps {
  state: ClusterState;
  bundles: BundleStore;
  probe: BundleProbe;
  clock: Clock;
  logger: Logger;
  config: DaemonConfig;
  /**
   * Each topology's worker-link secret: 32 bytes from node:crypto by default. Deliberately not
   * the seeded Random: a 32-bit seed would make every secret guessable.
   */
  newSecret?: () => string;
}

/** Where this Nimbus serves REST (written to `/nimbus`). */
export interface NimbusAddress {
  host: string;
  port: number;
}

/** Mutations waiting or running at once; more fail with ERR_BUSY. */
const OPS_PENDING_MAX = 64;
/** Submissions between upload and record at once (each may hold a probe child). */
const SUBMISSIONS_IN_FLIGHT_MAX = 4;

export class Nimbus {
  private readonly state: ClusterState;
  private readonly bundles: BundleStore;
  private readonly probe: BundleProbe;
  private readonly clock: Clock;
  private readonly logger: Logger;
  private readonly config: DaemonConfig;
  private readonly newSecret: () => string;
  private readonly table = new TopologyTable();
  private readonly ops = new SerialQueue(OPS_PENDING_MAX);
  private readonly liveness: WorkerLiveness;
  private readonly reads: NimbusReadSide;
  private readonly stats = new StatsStore();
  private readonly supervisorProcess = new Map<string, ProcessFacts>();
  private processMetrics: Registry | null = null;
  private readonly logs: WorkerLogClient;
  private readonly pendingTimers = new Map<string, TimerHandle>();
  private readonly claims = new BundleClaims();
  private monitorTimer: TimerHandle | null = null;
  private monitorQueued = false;
  private supervisorWatchArmed = false;
  private submissionsInFlight = 0;
  private counter = 0;
  private address: NimbusAddress = { host: '', port: 0 };
  private startedAtMs = 0;
  private started = false;
  private closed = false;
  private closing: Promise<void> | null = null;

  private unwatchConnection: (() => void) | null = null;
  /**
   * Until then (Nimbus clock), supervisors not seen since Nimbus reconnected to cluster state keep
   * their slots: their nodes may be gone with an expired session they are renewing.
   */
  private returningUntilMs = 0;
  /** Supervisors listed since the last reconnection: one of these that goes away has really left. */
  private readonly seenSinceExpiry = new Set<string>();

  constructor(deps: NimbusDeps) {
    this.state = deps.state;
    this.bundles = deps.bundles;
    this.probe = deps.probe;
    this.clock = deps.clock;
    this.config = deps.config;
    this.logger = deps.logger.child({ daemon: 'nimbus' });
    this.newSecret = deps.newSecret ?? (() => randomBytes(32).toString('hex'));
    this.liveness = new WorkerLiveness({
      taskTimeoutMs: cfg.secsToMs(this.config, 'nimbus.task.timeout.secs'),
      launchGraceMs: cfg.secsToMs(this.config, 'nimbus.task.launch.secs'),
    });
    this.reads = new NimbusReadSide({
      state: this.state,
      table: this.table,
      liveness: this.liveness,
      stats: this.stats,
      clock: this.clock,
      config: this.config,
      self: () => ({ ...this.address, startedAtMs: this.startedAtMs }),
    });
    this.logs = new WorkerLogClient(cfg.strOrNull(this.config, 'nimbus.auth.token'));
  }

  // ---- lifecycle ----

  /**
   * Recovers topologies, assignments and pending kills/rebalances from cluster state, registers
   * `/nimbus`, watches supervisors and starts the monitor (one round at once).
   */
  async start(address: NimbusAddress): Promise<void> {
    if (this.closed) throw squallError('ERR_CLOSED', 'Nimbus is closed');
    if (this.started) return;
    this.address = { ...address };
    this.startedAtMs = this.clock.now();
    await this.bundles.init();
    await this.state.ensureLayout();
    await this.ops.run(() => this.recover());
    await this.state.setNimbusInfo({ v: 1, host: address.host, port: address.port, startTimeMs: this.clock.wallNow(), version: squallVersion() });
    this.started = true;
    this.unwatchConnection = this.state.onConnectionChange((c) => this.onConnection(c));
    this.monitorTimer = this.clock.setInterval(() => this.triggerMonitor(), cfg.secsToMs(this.config, 'nimbus.monitor.freq.secs'));
    this.triggerMonitor();
    this.logger.info({ topologies: this.table.size, host: address.host, port: address.port }, 'nimbus started');
  }

  /** Stops timers and watches, waits for the operation in progress, stops probes. Idempotent. */
  close(): Promise<void> {
    this.closing ??= this.shutdown();
    return this.closing;
  }

  /** Resolves once every queued operation (including a triggered monitor round) has finished. */
  idle(): Promise<void> {
    return this.ops.idle();
  }

  /** Runs one monitor round now (heartbeats, due actions, scheduling). */
  runMonitor(): Promise<void> {
    return this.ops.run(() => this.monitorRound());
  }

  // ---- mutations ----

  /**
   * Stores the bundle, reads its topology in a probe process, validates it, writes the record
   * (ACTIVE) and places it at once.
   */
  async submit(name: string, bundle: Uint8Array, overrides: TopologyConfig = {}, owner?: string): Promise<SubmitResult> {
    this.checkReady();
    checkSubmission(name, overrides);
    this.table.checkNameFree(name);
    if (this.submissionsInFlight >= SUBMISSIONS_IN_FLIGHT_MAX) throw squallError('ERR_BUSY', `${this.submissionsInFlight} submissions are in progress`);
    this.submissionsInFlight++;
    let hash: string | null = null;
    try {
      const stored = await this.bundles.put(bundle);
      hash = stored.hash;
      this.claims.claim(hash);
      const probed = await this.probe.probe(stored.path);
      const draft = draftRecord({ name, probed, overrides, owner, bundleHash: stored.hash, bundleBytes: stored.bytes, daemonConfig: this.config, linkSecret: this.newSecret() });
      return await this.ops.run(() => this.createTopology(draft));
    } finally {
      this.submissionsInFlight--;
      if (hash !== null) {
        this.claims.release(hash);
        await this.deleteBundleIfUnused(hash);
      }
    }
  }

  activate(nameOrId: string): Promise<OperationResult> {
    return this.transition(nameOrId, { type: 'activate' }, 'activate');
  }

  deactivate(nameOrId: string): Promise<OperationResult> {
    return this.transition(nameOrId, { type: 'deactivate' }, 'deactivate');
  }

  /** Deactivates the spouts at once; removes the topology after `waitSecs` (default: its message timeout). */
  kill(nameOrId: string, waitSecs?: number): Promise<OperationResult> {
    return this.transition(nameOrId, { type: 'kill', waitSecs }, 'kill');
  }

  /** Deactivates the spouts for `waitSecs` (default: its message timeout), then applies the options and reschedules. */
  rebalance(nameOrId: string, waitSecs?: number, options: RebalanceOptions = {}): Promise<OperationResult> {
    return this.transition(nameOrId, { type: 'rebalance', waitSecs, numWorkers: options.numWorkers, executors: options.executors }, 'rebalance');
  }

  // ---- reads ----

  /** A copy of a topology's record, by id or name. */
  getTopology(nameOrId: string): TopologyRecord {
    this.checkReady();
    return structuredClone(this.table.find(nameOrId).record);
  }

  /** A copy of its current assignment, by id or name (null before it got one). */
  getAssignment(nameOrId: string): Assignment | null {
    this.checkReady();
    const a = this.table.find(nameOrId).assignment;
    return a ? structuredClone(a) : null;
  }

  clusterSummary(): Promise<ClusterSummary> {
    return this.ready(() => this.reads.clusterSummary());
  }

  supervisorSummary(): Promise<SupervisorSummaryEntry[]> {
    return this.ready(() => this.reads.supervisorSummary());
  }

  nimbusSummary(): NimbusSummaryEntry[] {
    this.checkReady();
    return this.reads.nimbusSummary();
  }

  topologySummary(): Promise<TopologySummaryEntry[]> {
    return this.ready(() => this.reads.topologySummary());
  }

  topologyPage(nameOrId: string, options: PageOptions = {}): Promise<NimbusTopologyPage> {
    return this.ready(() => this.reads.topologyPage(nameOrId, options));
  }

  componentPage(nameOrId: string, componentId: string, options: PageOptions = {}): Promise<ComponentPage> {
    return this.ready(() => this.reads.componentPage(nameOrId, componentId, options));
  }

  visualization(nameOrId: string): Promise<VisualizationPage> {
    return this.ready(() => this.reads.visualization(nameOrId));
  }

  /**
   * A page or a search of the log of the worker on `host:port` for a topology (by id or name),
   * read through that machine's supervisor (docs/rest-api.md, "Worker logs").
   */
  async workerLog(nameOrId: string, host: string, port: number, kind: LogRequestKind, params: URLSearchParams): Promise<LogPage | LogSearchResult> {
    this.checkReady();
    const topologyId = this.table.find(nameOrId).record.id;
    return this.logs.read(await this.state.listSupervisors(), topologyId, host, port, kind, params);
  }

  /** The daemon configuration, secrets replaced by `<redacted>`. */
  clusterConfiguration(): Record<string, unknown> {
    return this.reads.clusterConfiguration();
  }

  /**
   * Worker heartbeats with stats from supervisor `supervisorId` (REST, or LocalCluster directly):
   * liveness and the stats store (nimbus/heartbeats.ts).
   */
  receiveHeartbeats(supervisorId: string, batch: unknown): HeartbeatReceipt {
    this.checkReady();
    return receiveHeartbeats({ table: this.table, liveness: this.liveness, stats: this.stats, clock: this.clock, supervisorProcess: this.supervisorProcess }, supervisorId, batch);
  }

  /** `GET /metrics`: Prometheus text exposition of the cluster, its topologies and Nimbus's process. */
  async prometheusMetrics(): Promise<string> {
    this.checkReady();
    const cluster = await this.reads.clusterSummary();
    const listed = new Set((await this.state.listSupervisors()).map((s) => s.id));
    for (const id of this.supervisorProcess.keys()) if (!listed.has(id)) this.supervisorProcess.delete(id);
    const now = this.clock.now();
    const wallNow = this.clock.wallNow();
    this.processMetrics ??= processRegistry();
    return renderMetrics(
      {
        cluster,
        topologies: this.table.all().map((t) => ({
          id: t.record.id,
          name: t.record.name,
          status: t.record.status,
          uptimeSecs: Math.max(0, Math.floor((wallNow - t.record.launchTimeMs) / 1000)),
          workers: t.assignment ? new Set(t.assignment.executors.map((e) => slotKey(e.node, e.port))).size : 0,
          executors: this.stats.executorStats(t.record.id, ':all-time', now).map((p) => p.stats),
          workerFacts: [...this.stats.workers(t.record.id).values()],
        })),
        supervisors: [...this.supervisorProcess].map(([id, p]) => ({ id, ...p })),
      },
      this.processMetrics,
    );
  }

  /** A bundle for download by supervisors (ERR_BUNDLE_NOT_FOUND unless a topology uses it). */
  async openBundle(hash: string): Promise<{ stream: ReadStream; bytes: number }> {
    this.checkReady();
    if (!this.table.usesBundle(hash)) throw squallError('ERR_BUNDLE_NOT_FOUND', `no topology uses bundle ${JSON.stringify(hash)}`);
    return this.bundles.open(hash);
  }

  // ---- internals: submission ----

  private async createTopology(draft: TopologyRecord): Promise<SubmitResult> {
    this.checkReady();
    this.table.checkNameFree(draft.name);
    const launchTimeMs = this.clock.wallNow();
    const { id, counter } = newTopologyId(draft.name, this.table.ids(), this.counter, Math.floor(launchTimeMs / 1000));
    this.counter = counter;
    const record: TopologyRecord = { ...draft, id, launchTimeMs };
    await this.state.setTopology(record);
    const t = this.table.add(record, null);
    this.logger.info({ topologyId: id, bundleHash: record.bundleHash, workers: record.numWorkers, executors: t.layout.executors.length }, 'topology submitted');
    try {
      await this.scheduleAll();
    } catch (err) {
      // The topology exists now; the next monitor round retries the placement.
      this.logger.warn({ err, topologyId: id }, 'scheduling after submit failed');
    }
    return { id, name: record.name, status: record.status, bundleHash: record.bundleHash };
  }

  private async deleteBundleIfUnused(hash: string): Promise<void> {
    if (this.claims.has(hash) || this.table.usesBundle(hash)) return;
    try {
      await this.bundles.delete(hash);
    } catch (err) {
      this.logger.warn({ err, bundleHash: hash }, 'could not delete an unused bundle');
    }
  }

  // ---- internals: state machine ----

  private async transition(nameOrId: string, event: TopologyEvent, operation: OperationResult['topologyOperation']): Promise<OperationResult> {
    this.checkReady();
    this.table.find(nameOrId);
    return this.ops.run(async () => {
      this.checkReady();
      const id = this.table.find(nameOrId).record.id;
      await this.apply(id, event);
      return { topologyOperation: operation, topologyId: id, status: 'success' };
    });
  }

  /** Steps the state machine, persists, performs the effect. Runs inside the queue. */
  private async apply(topologyId: string, event: TopologyEvent): Promise<void> {
    const t = this.table.get(topologyId);
    if (!t) return;
    const componentTasks: Record<string, number> = {};
    for (const [id, tasks] of Object.entries(t.layout.componentTasks)) componentTasks[id] = tasks.length;
    const result = step(t.record, event, {
      nowMs: this.clock.wallNow(),
      messageTimeoutSecs: t.record.config[Config.TOPOLOGY_MESSAGE_TIMEOUT_SECS] as number,
      componentTasks,
      rescalable: rescalableComponents(t.record.definition, t.record.config),
    });
    if (result.changed) {
      const record: TopologyRecord = { ...t.record, ...result.state };
      await this.state.setTopology(record);
      this.table.update(t, record);
      this.logger.info({ topologyId, event: event.type, status: record.status, pending: record.pending?.action ?? null }, 'topology state changed');
    }
    if (result.effect === 'remove') {
      await this.remove(topologyId);
      return;
    }
    if (result.effect === 'reschedule') await this.scheduleAll(undefined, new Set([topologyId]));
    if (t.record.pending && t.record.pending.dueMs <= this.clock.wallNow()) await this.apply(topologyId, { type: 'timeout' });
    else this.armPending(t.record);
  }

  private armPending(record: TopologyRecord): void {
    this.clearPending(record.id);
    if (!record.pending || this.closed) return;
    const delayMs = Math.max(0, record.pending.dueMs - this.clock.wallNow());
    const timer = this.clock.setTimeout(() => {
      this.pendingTimers.delete(record.id);
      this.enqueue('pending action', () => this.apply(record.id, { type: 'timeout' }));
    }, delayMs);
    this.pendingTimers.set(record.id, timer);
  }

  private clearPending(topologyId: string): void {
    const timer = this.pendingTimers.get(topologyId);
    if (timer) this.clock.clear(timer);
    this.pendingTimers.delete(topologyId);
  }

  /** A finished kill: assignment first (supervisors stop the workers), then the rest. */
  private async remove(topologyId: string): Promise<void> {
    const t = this.table.get(topologyId);
    if (!t) return;
    await this.state.removeTopologyState(topologyId);
    this.clearPending(topologyId);
    this.table.delete(topologyId);
    this.liveness.forget(topologyId);
    this.stats.forget(topologyId);
    this.logger.info({ topologyId }, 'topology removed');
    await this.deleteBundleIfUnused(t.record.bundleHash);
    // Its slots are free now.
    await this.scheduleAll();
  }

  // ---- internals: scheduling and monitoring ----

  /** Places every ACTIVE/INACTIVE topology and writes the assignments that changed. */
  private async scheduleAll(supervisors?: SupervisorInfo[], reschedule: ReadonlySet<string> = new Set()): Promise<void> {
    const sups = supervisors ?? (await this.state.listSupervisors());
    const now = this.clock.now();
    const wallNow = this.clock.wallNow();
    const all = this.table.all();
    const placeable = all.filter((t) => t.record.status === 'ACTIVE' || t.record.status === 'INACTIVE');
    const existing = new Map<string, Assignment>();
    for (const t of all) if (t.assignment) existing.set(t.record.id, t.assignment);
    const aliveWorkers = new Map<string, Set<string>>();
    for (const t of placeable) if (t.assignment) aliveWorkers.set(t.record.id, this.liveness.alive(t.assignment, now, wallNow));
    const result = schedule({
      topologies: placeable.map((t) => ({ id: t.record.id, numWorkers: t.record.numWorkers, executors: t.layout.executors, reschedule: reschedule.has(t.record.id) })),
      supervisors: this.withReturningSupervisors(sups.map((s) => ({ id: s.id, host: s.host, ports: s.ports })), existing, now),
      existing,
      aliveWorkers,
      nowMs: wallNow,
    });
    for (const [id, assignment] of result) {
      const t = this.table.get(id)!;
      if (assignment === t.assignment || (t.assignment === null && assignment.executors.length === 0)) continue;
      await this.state.setAssignment(assignment);
      t.assignment = assignment;
      const workers = [...new Set(assignment.executors.map((e) => slotKey(e.node, e.port)))];
      this.logger.info({ topologyId: id, seq: assignment.seq, workers }, 'assignment written');
    }
  }

  /**
   * Within the grace after a reconnection, a supervisor not listed since then but holding
   * assigned workers is counted as present (with the slots it holds), so its workers are not
   * moved while it renews its session. One that is not back by then, or that was back and then
   * left, is gone, as before.
   */
  private withReturningSupervisors(
    present: Array<{ id: string; host: string; ports: number[] }>,
    existing: ReadonlyMap<string, Assignment>,
    nowMs: number,
  ): Array<{ id: string; host: string; ports: number[] }> {
    if (nowMs >= this.returningUntilMs) return present;
    for (const s of present) this.seenSinceExpiry.add(s.id);
    const missing = new Map<string, { id: string; host: string; ports: Set<number> }>();
    for (const a of existing.values()) {
      for (const e of a.executors) {
        if (this.seenSinceExpiry.has(e.node)) continue;
        const m = missing.get(e.node) ?? { id: e.node, host: a.nodeHost[e.node] ?? e.node, ports: new Set<number>() };
        m.ports.add(e.port);
        missing.set(e.node, m);
      }
    }
    if (missing.size > 0) this.logger.info({ supervisors: [...missing.keys()] }, 'keeping the slots of supervisors renewing their sessions');
    return [...present, ...[...missing.values()].map((m) => ({ id: m.id, host: m.host, ports: [...m.ports].sort((x, y) => x - y) }))];
  }

  /** Heartbeats → liveness, due pending actions, then scheduling (which moves dead workers). */
  private async monitorRound(): Promise<void> {
    if (this.closed) return;
    const supervisors = await this.listSupervisorsWatched();
    const now = this.clock.now();
    const wallNow = this.clock.wallNow();
    for (const t of this.table.all()) {
      if (t.assignment) this.reads.observe(t, await this.state.getWorkerBeats(t.record.id));
    }
    for (const t of this.table.all()) {
      if (t.record.pending && t.record.pending.dueMs <= wallNow) await this.apply(t.record.id, { type: 'timeout' });
    }
    await this.scheduleAll(supervisors);
  }

  /**
   * Lists supervisors, arming a watch unless one is armed; the watch triggers a round. A watch
   * lost with an expired session never fires: `onConnection` clears the flag so it is re-armed.
   */
  private async listSupervisorsWatched(): Promise<SupervisorInfo[]> {
    if (this.supervisorWatchArmed) return this.state.listSupervisors();
    this.supervisorWatchArmed = true;
    try {
      return await this.state.listSupervisors(() => {
        this.supervisorWatchArmed = false;
        this.triggerMonitor();
      });
    } catch (err) {
      this.supervisorWatchArmed = false;
      throw err;
    }
  }

  /** Queues a monitor round unless one is already waiting. */
  private triggerMonitor(): void {
    if (this.closed || this.monitorQueued) return;
    this.monitorQueued = true;
    this.enqueue(
      'monitor round',
      () => {
        this.monitorQueued = false;
        return this.monitorRound();
      },
      () => {
        this.monitorQueued = false;
      },
    );
  }

  /** Runs background work in the queue; failures are logged (the next monitor round retries). */
  private enqueue(what: string, task: () => Promise<void>, onRefused?: () => void): void {
    if (this.closed) return;
    this.ops.run(task).catch((err: unknown) => {
      if (errorCode(err) === 'ERR_BUSY') onRefused?.();
      this.logger.warn({ err, what, reason: describeError(err) }, 'background nimbus operation failed');
    });
  }

  private async recover(): Promise<void> {
    for (const id of await this.state.listTopologyIds()) {
      try {
        const record = await this.state.getTopology(id);
        if (!record) continue;
        this.table.add(record, await this.state.getAssignment(id));
        this.counter = Math.max(this.counter, idCounter(id) ?? 0);
      } catch (err) {
        this.logger.error({ err, topologyId: id }, 'cannot recover a topology record; leaving it alone');
      }
    }
    for (const id of await this.state.listAssignmentIds()) {
      if (this.table.get(id)) continue;
      this.logger.warn({ topologyId: id }, 'removing the state of a topology without a record');
      await this.state.removeTopologyState(id);
    }
    for (const hash of await this.bundles.list()) await this.deleteBundleIfUnused(hash);
    for (const t of this.table.all()) this.armPending(t.record);
  }

  /**
   * Cluster-state connection events. While disconnected nothing can be read or written, so the
   * outage does not count against workers' heartbeats; an expired session lost its watches, so
   * the supervisors watch is armed again by the round that follows.
   */
  private onConnection(state: ConnectionState): void {
    if (state === 'expired') this.supervisorWatchArmed = false;
    if (state === 'reconnected') {
      this.liveness.forgive(this.clock.now());
      // While Nimbus was cut off, ZooKeeper may have expired the supervisors' sessions, whether or
      // not it expired Nimbus's own: a server thawed after a freeze expires sessions in no fixed
      // order, and a client that reconnects first keeps its own (seen: Nimbus's session survived,
      // both supervisors' expired, and Nimbus, finding no supervisor, unassigned every worker).
      // Supervisors need up to a session timeout to renew theirs and re-create their nodes; their
      // workers never stopped.
      this.returningUntilMs = this.clock.now() + cfg.num(this.config, 'storm.zookeeper.session.timeout');
      this.seenSinceExpiry.clear();
      this.logger.info('cluster state reconnected: heartbeat timeouts restart now');
      this.triggerMonitor();
    }
  }

  private async shutdown(): Promise<void> {
    this.closed = true;
    this.unwatchConnection?.();
    this.unwatchConnection = null;
    if (this.monitorTimer) this.clock.clear(this.monitorTimer);
    this.monitorTimer = null;
    for (const id of [...this.pendingTimers.keys()]) this.clearPending(id);
    await this.ops.idle();
    try {
      await this.probe.close?.();
    } catch (err) {
      this.logger.warn({ err }, 'closing the bundle probe failed');
    }
    this.logger.info('nimbus closed');
  }

  // ---- internals: guards ----

  private checkReady(): void {
    if (this.closed) throw squallError('ERR_CLOSED', 'Nimbus is closed');
    if (!this.started) throw squallError('ERR_NOT_LEADER', 'Nimbus has not finished starting');
  }

  private async ready<T>(read: () => Promise<T>): Promise<T> {
    this.checkReady();
    return read();
  }
}
