/**
 * The supervisor (Storm's `Supervisor` + `ReadClusterState`): registers this machine's slots in
 * cluster state, follows the assignments, and drives one slot state machine per port; forwards
 * its workers' heartbeats and errors into cluster state. Everything with a side effect comes in
 * through `SupervisorDeps`, so tests run it on the in-memory store with a manual clock.
 */
import type { ClusterState } from '../common/cluster-state/cluster-state';
import type { ConnectionState, StateStore } from '../common/cluster-state/store';
import type { ComponentError, SupervisorInfo, TopologyRecord, WorkerBeat } from '../common/cluster-state/types';
import type { Clock, TimerHandle } from '../common/clock';
import { cfg, stateDir, type DaemonConfig } from '../common/config';
import { describeError, squallError } from '../common/errors';
import type { Logger } from '../common/logging';
import type { HeartbeatSink } from '../common/protocol/heartbeats';
import type { WorkerHeartbeat } from '../common/protocol/ipc';
import type { Random } from '../common/random';
import { AssignmentWatcher, type ClusterSnapshot } from './assignment-watcher';
import { HeartbeatForwarder } from './heartbeat-forwarder';
import type { BundleProvider } from './bundle-cache';
import type { WorkerHandle, WorkerLauncher } from './launcher';
import { WORKER_COMPONENT, type SlotContext, type SlotState, type SlotTarget, type SlotTiming } from './slot';
import { SlotDriver, type SlotEffects } from './slot-driver';
import { StateWriter } from './state-writer';
import { resolveSupervisorId } from './supervisor-id';
import { buildStartSpec, slotTargets } from './targets';

export interface SupervisorDeps {
  state: ClusterState;
  launcher: WorkerLauncher;
  bundles: BundleProvider;
  clock: Clock;
  random: Random;
  logger: Logger;
  config: DaemonConfig;
  version: string;
  /** Where workers' heartbeats and stats go (Nimbus over HTTP; Nimbus itself in LocalCluster). */
  heartbeats: HeartbeatSink;
  /** Port of this machine's log server, registered for Nimbus (none: no log server). */
  logviewerPort?: number | null;
}

/** Storm's default error history, used when a record lacks a valid one. */
const ERROR_HISTORY_DEFAULT = 10;
/** Margin on top of the kill path (SIGTERM, sleep, SIGKILL) that close() waits for exits. */
const CLOSE_MARGIN_MS = 5_000;

export function slotTimingFromConfig(config: DaemonConfig): SlotTiming {
  const backoffMaxMs = cfg.secsToMs(config, 'supervisor.worker.restart.backoff.max.secs');
  return {
    startTimeoutMs: cfg.secsToMs(config, 'supervisor.worker.start.timeout.secs'),
    workerTimeoutMs: cfg.secsToMs(config, 'supervisor.worker.timeout.secs'),
    shutdownSleepMs: cfg.secsToMs(config, 'supervisor.worker.shutdown.sleep.secs'),
    restartBackoffBaseMs: Math.min(1000, backoffMaxMs),
    restartBackoffMaxMs: backoffMaxMs,
  };
}

export class Supervisor {
  private logger: Logger;
  private readonly timing: SlotTiming;
  private readonly host: string;
  private readonly ports: number[];
  private readonly writer: StateWriter;
  private readonly forwarder: HeartbeatForwarder;
  /** When each worker's liveness record was last written to cluster state, and for which run. */
  private readonly stateBeats = new Map<number, { incarnation: string; atMs: number }>();
  private readonly stateBeatIntervalMs: number;
  private readonly slots = new Map<number, SlotDriver>();
  /** Latest records of the topologies on this node (error history size). */
  private records = new Map<string, TopologyRecord>();
  private supervisorId: string | null = null;
  private startTimeMs = 0;
  private registeredPorts = '';
  private watcher: AssignmentWatcher | null = null;
  private timers: TimerHandle[] = [];
  private unsubscribe: (() => void) | null = null;
  private starting: Promise<void> | null = null;
  private closing: Promise<void> | null = null;

  constructor(private readonly deps: SupervisorDeps) {
    this.logger = deps.logger.child({ daemon: 'supervisor' });
    this.timing = slotTimingFromConfig(deps.config);
    this.host = cfg.str(deps.config, 'supervisor.host');
    this.ports = [...cfg.list<number>(deps.config, 'supervisor.slots.ports')].sort((a, b) => a - b);
    this.writer = new StateWriter(deps.state, this.logger);
    this.forwarder = new HeartbeatForwarder(() => this.id, deps.heartbeats, this.logger);
    // The record must keep a worker alive on its own should the push to Nimbus fail: three per timeout.
    this.stateBeatIntervalMs = cfg.secsToMs(deps.config, 'nimbus.task.timeout.secs') / 3;
  }

  /** Set by `start()`. */
  get id(): string {
    if (this.supervisorId === null) throw squallError('ERR_INTERNAL', 'the supervisor has not started');
    return this.supervisorId;
  }

  /** Every slot's state, by port (for monitoring and tests). */
  slotStates(): SlotState[] {
    return [...this.slots.values()].map((s) => s.state);
  }

  /** PIDs of every worker process started and not yet seen exit. */
  workerPids(): number[] {
    return [...this.slots.values()].flatMap((s) => s.livePids());
  }

  /** Resolves when the assignment read in progress (if any) has been applied. */
  settled(): Promise<void> {
    return this.watcher ? this.watcher.idle() : Promise.resolve();
  }

  start(): Promise<void> {
    this.starting ??= this.doStart();
    return this.starting;
  }

  close(): Promise<void> {
    this.closing ??= this.doClose();
    return this.closing;
  }

  // ---- start ----

  private async doStart(): Promise<void> {
    const { deps } = this;
    const id = await resolveSupervisorId(deps.config, deps.random);
    this.supervisorId = id;
    this.logger = this.logger.child({ supervisorId: id });
    this.startTimeMs = this.wallNowMs();
    const ctx: SlotContext = { timing: this.timing, random: () => deps.random.nextFloat() };
    const effects = this.slotEffects();
    for (const port of this.ports) this.slots.set(port, new SlotDriver(port, ctx, deps.clock, effects, this.logger.child({ port })));
    if (this.closing) throw squallError('ERR_CLOSED', 'the supervisor was closed while starting');
    await deps.state.registerSupervisor(this.info());
    this.unsubscribe = deps.state.onConnectionChange((s) => this.onConnection(s));
    this.timers.push(deps.clock.setInterval(() => void this.register(), cfg.secsToMs(deps.config, 'supervisor.heartbeat.frequency.secs')));
    this.timers.push(deps.clock.setInterval(() => this.watcher?.requestSync(), cfg.secsToMs(deps.config, 'supervisor.monitor.frequency.secs')));
    this.watcher = new AssignmentWatcher(deps.state, id, this.logger, (snapshot) => this.apply(snapshot));
    this.watcher.requestSync();
    await this.watcher.idle();
    this.logger.info({ host: this.host, ports: this.ports }, 'supervisor started');
  }

  private info(): SupervisorInfo {
    const usedPorts = this.usedPorts();
    this.registeredPorts = usedPorts.join(',');
    return {
      v: 1,
      id: this.id,
      host: this.host,
      ports: this.ports,
      usedPorts,
      startTimeMs: this.startTimeMs,
      timeMs: this.wallNowMs(),
      version: this.deps.version,
      ...(typeof this.deps.logviewerPort === 'number' ? { logviewerPort: this.deps.logviewerPort } : {}),
    };
  }

  /** Ports with something assigned (running, starting, backing off or being replaced). */
  private usedPorts(): number[] {
    return [...this.slots.values()].filter((s) => s.state.target !== null).map((s) => s.port);
  }

  private async register(): Promise<void> {
    if (this.closing) return;
    try {
      await this.deps.state.registerSupervisor(this.info());
    } catch (err) {
      this.logger.warn({ err: describeError(err) }, 'refreshing the supervisor node failed');
    }
  }

  private onConnection(state: ConnectionState): void {
    if (this.closing) return;
    this.logger.info({ state }, 'cluster state connection');
    if (state === 'expired') this.watcher?.forgetWatches();
    if (state === 'reconnected') {
      void this.register();
      this.watcher?.requestSync();
    }
  }

  // ---- assignments → slots ----

  private apply(snapshot: ClusterSnapshot): void {
    if (this.closing) return;
    this.records = snapshot.records;
    const { targets, problems } = slotTargets(this.id, this.ports, snapshot.assignments, snapshot.records);
    for (const problem of problems) this.logger.warn(problem);
    for (const [port, target] of targets) {
      const slot = this.slots.get(port) as SlotDriver;
      if (target === 'unknown') continue;
      const current = slot.state.target;
      if (target === null && current && snapshot.unreadable.has(current.topologyId)) continue;
      slot.dispatch({ type: 'assignment', target });
    }
    if (this.usedPorts().join(',') !== this.registeredPorts) void this.register();
    this.retainBundles();
  }

  private retainBundles(): void {
    const keep = new Set<string>();
    for (const slot of this.slots.values()) {
      const s = slot.state;
      if (s.target) keep.add(s.target.bundleHash);
      if ('worker' in s) keep.add(s.worker.bundleHash);
    }
    this.deps.bundles.retain(keep).catch((err: unknown) => this.logger.warn({ err: describeError(err) }, 'removing unassigned bundles failed'));
  }

  // ---- what slots do ----

  private slotEffects(): SlotEffects {
    return {
      download: (hash) => this.deps.bundles.ensure(hash),
      launch: (port, target, bundlePath, events) => this.launch(port, target, bundlePath, events),
      writeBeat: (port, topologyId, pid, beat) => this.onWorkerBeat(port, topologyId, pid, beat),
      reportError: (port, topologyId, code, message) => {
        this.logger.warn({ port, topologyId, code }, message);
        this.writer.error(topologyId, WORKER_COMPONENT, this.componentError(port, `${code}: ${message}`), this.historySize(topologyId));
      },
      forwardError: (port, topologyId, component, error) => {
        this.writer.error(topologyId, component, { ...error, host: this.host, port }, this.historySize(topologyId));
      },
      changed: (port, from, to) => this.slotChanged(port, from, to),
    };
  }

  private launch(port: number, target: SlotTarget, bundlePath: string, events: Parameters<WorkerLauncher['launch']>[1]): WorkerHandle {
    const config = this.deps.config;
    const spec = buildStartSpec(target, {
      supervisorId: this.id,
      host: this.host,
      port,
      bundlePath,
      logLevel: cfg.str(config, 'squall.log.level'),
      heartbeatMs: cfg.secsToMs(config, 'worker.heartbeat.frequency.secs'),
      frameMaxBytes: cfg.num(config, 'worker.frame.max.bytes'),
      stateDir: stateDir(config),
    });
    const handle = this.deps.launcher.launch(spec, events);
    this.logger.info({ port, topologyId: target.topologyId, pid: handle.pid }, 'worker launched');
    return handle;
  }

  private slotChanged(port: number, from: SlotState, to: SlotState): void {
    const topologyId = to.target?.topologyId ?? from.target?.topologyId;
    const detail = to.kind === 'BACKOFF' ? { restartInMs: to.untilMs - this.deps.clock.now(), failures: to.failures } : to.kind === 'KILLING' ? { reason: to.reason } : {};
    this.logger.info({ port, topologyId, from: from.kind, to: to.kind, ...detail }, 'slot changed');
  }

  /**
   * A worker's heartbeat: to Nimbus with its stats (every beat), and as a small liveness record to
   * cluster state when the worker is new or its last record is a third of a timeout old.
   */
  private onWorkerBeat(port: number, topologyId: string, pid: number | null, beat: WorkerHeartbeat): void {
    const record = this.workerBeat(port, topologyId, pid, beat);
    const incarnation = beat.incarnation || `pid-${record.pid}`;
    const secret = this.records.get(topologyId)?.linkSecret;
    const { v: _v, ...facts } = record;
    if (secret) this.forwarder.forward({ ...facts, incarnation, executors: beat.executors }, secret);
    const now = this.deps.clock.now();
    const last = this.stateBeats.get(port);
    if (last && last.incarnation === incarnation && now - last.atMs < this.stateBeatIntervalMs) return;
    this.stateBeats.set(port, { incarnation, atMs: now });
    this.writer.beat(record);
  }

  private workerBeat(port: number, topologyId: string, pid: number | null, beat: WorkerHeartbeat): WorkerBeat {
    return {
      v: 1,
      topologyId,
      node: this.id,
      port,
      pid: pid ?? 0,
      timeMs: this.wallNowMs(),
      uptimeSecs: beat.uptimeSecs,
      rssBytes: beat.rssBytes,
    };
  }

  private componentError(port: number, error: string): ComponentError {
    return { error, errorTimeMs: this.wallNowMs(), host: this.host, port };
  }

  /** Whole milliseconds for records (a real clock's wall time has a fraction). */
  private wallNowMs(): number {
    return Math.round(this.deps.clock.wallNow());
  }

  private historySize(topologyId: string): number {
    const size = this.records.get(topologyId)?.config['topology.error.history.size'];
    return typeof size === 'number' && Number.isInteger(size) && size >= 1 ? size : ERROR_HISTORY_DEFAULT;
  }

  // ---- close ----

  private async doClose(): Promise<void> {
    const steps: Array<[string, () => Promise<void> | void]> = [
      ['waiting for start', () => this.starting?.then(undefined, () => undefined)],
      ['stopping timers and watches', () => this.stopFollowing()],
      ['stopping workers', () => this.stopWorkers()],
      ['closing the bundle cache', () => this.deps.bundles.close()],
      ['removing the supervisor node', () => this.unregister()],
    ];
    for (const [what, step] of steps) {
      try {
        await step();
      } catch (err) {
        this.logger.error({ err: describeError(err) }, `closing the supervisor: ${what} failed`);
      }
    }
    this.writer.close();
    this.forwarder.close();
    this.logger.info('supervisor closed');
  }

  private stopFollowing(): void {
    for (const t of this.timers) this.deps.clock.clear(t);
    this.timers = [];
    this.unsubscribe?.();
    this.unsubscribe = null;
    this.watcher?.close();
  }

  /** Graceful then forced, for every slot at once; bounded by the kill path plus a margin. */
  private async stopWorkers(): Promise<void> {
    for (const slot of this.slots.values()) slot.dispatch({ type: 'assignment', target: null });
    const boundMs = 2 * this.timing.shutdownSleepMs + CLOSE_MARGIN_MS;
    let timer: TimerHandle | null = null;
    const timedOut = new Promise<boolean>((resolve) => {
      timer = this.deps.clock.setTimeout(() => resolve(true), boundMs);
    });
    const allEmpty = Promise.all([...this.slots.values()].map((s) => s.whenEmpty())).then(() => false);
    const late = await Promise.race([allEmpty, timedOut]);
    if (timer) this.deps.clock.clear(timer);
    for (const slot of this.slots.values()) slot.close();
    if (late) this.logger.error({ pids: this.workerPids(), waitedMs: boundMs }, 'workers did not exit after SIGKILL');
  }

  private async unregister(): Promise<void> {
    if (this.supervisorId === null) return;
    await this.deps.state.removeSupervisor(this.supervisorId);
  }
}
