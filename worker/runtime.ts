import {
  ACKER_COMPONENT_ID,
  CHECKPOINT_COMPONENT_ID,
  Config,
  SYSTEM_COMPONENT_ID,
  SYSTEM_TASK_ID,
  SYSTEM_TICK_STREAM_ID,
  Fields,
  TupleImpl,
  type ComponentFactories,
  type TopologyConfig,
  type TopologyDefinition,
  getComponent,
} from '../topology-api';
import type { Clock, TimerHandle } from '../common/clock';
import { describeError, squallError } from '../common/errors';
import type { Logger } from '../common/logging';
import { Random, randomSeed } from '../common/random';
import { checkpointing, computeLayout, streamKey, type ExecutorRange, type TopologyLayout } from '../common/topology-layout';
import type { ExecutorStats } from '../common/cluster-state/types';
import { AckerTask } from './acker';
import { TaskContext } from './context';
import type { MetricRegistrar } from '../topology-api/metrics';
import { AckerExecutor, BoltExecutor, SpoutExecutor, type Executor } from './executors';
import { createGrouper } from './groupings';
import type { AckKind, TupleQueue } from './queues';
import { OutStream, type Backpressured, type Delivery, type Subscription } from './routing';
import { ExecutorStatsCollector } from './stats';
import { WorkerWindowing } from './windowing/worker-windowing';
import { ASYNC_TIMEOUT_BUCKETS } from './async-calls';
import { BoltTask, SpoutTask, type AsyncTask, type TaskHost } from './tasks';
import { isControlKind } from './checkpoint/protocol';
import { isKeyedStateful, maxKeyGroups } from '../common/guarantees';
import type { StateSource } from './checkpoint/state-access';
import { defaultStateSource } from './checkpoint/state-source';
import { WorkerCheckpoints } from './checkpoint/worker-checkpoints';
import { createStateProvider, type StateEnvironment } from './state/provider';
import { ROOT_RUN } from './root-table';

// Read once: the build's CommonJS output reaches an imported binding through a getter, and
// ackerFor runs per tuple.
const RUN = ROOT_RUN;

/** Tuples a bolt executor takes per turn, and nextTuple calls per spout task per turn. */
const BOLT_BUDGET = 512;
const SPOUT_BUDGET = 128;
/** How long an idle loop waits before polling spouts again. */
const IDLE_POLL_MS = 1;
/** Buckets of the pending/ledger rotating maps: a tuple times out after 1 to 1.5 timeouts. */
const TIMEOUT_BUCKETS = 3;
/** Storm's error throttle: at most this many reports per executor per interval. */
const ERRORS_PER_INTERVAL = 5;
const ERROR_INTERVAL_MS = 10_000;

/** Tuples and acker messages for tasks in other workers (the websocket transport, or its twin). */
export interface RemoteLinks {
  sendTuple(task: number, tuple: TupleImpl): void;
  sendAck(kind: AckKind, destTask: number, root: number, hi: number, lo: number, spoutTask: number): void;
  queueFor(task: number): Backpressured;
  /** Sends what was batched this turn. */
  flush(): void;
}

export interface ReportedError {
  component: string;
  task: number;
  error: string;
  timeMs: number;
}

export interface WorkerRuntimeOptions {
  topologyId: string;
  definition: TopologyDefinition;
  factories: ComponentFactories;
  /** Resolved topology configuration (every default filled in). */
  config: Readonly<TopologyConfig>;
  componentExecutors?: Record<string, number>;
  /** Executors this worker runs; all of them when omitted (a one-worker topology). */
  executors?: ExecutorRange[];
  port?: number;
  clock: Clock;
  logger: Logger;
  seed?: number;
  remote?: RemoteLinks;
  onError?: (error: ReportedError) => void;
  /** Start with spouts active (default true). */
  active?: boolean;
  /** Where checkpointed state lives; by default the one `topology.state.provider` names. */
  stateSource?: StateSource;
  /** Per-component task counts that override the definition's (a rescaled stateful bolt). */
  componentTasks?: Record<string, number>;
  /** Where checkpointed state lives for this worker (worker/state/provider.ts createStateProvider). */
  stateEnv?: StateEnvironment;
}

const NEVER_FULL: Backpressured = { isFull: () => false };

/**
 * The seed of a worker's Random: `topology.random.seed` (tests) mixed with the worker's first task,
 * or a random one. Every worker of a seeded topology used to draw the same sequence, so spout
 * tasks in different workers made the same root and edge ids: their trees merged at the acker and
 * never completed (replayed after the message timeout, or stuck forever on a manual clock).
 */
function workerSeed(topologySeed: unknown, executors: readonly ExecutorRange[] | undefined): number {
  if (typeof topologySeed !== 'number') return randomSeed();
  const firstTask = executors && executors.length > 0 ? Math.min(...executors.map((e) => e.start)) : 0;
  return (topologySeed ^ Math.imul(firstTask + 1, 0x9e3779b9)) >>> 0;
}

/** Handles tuples of one system stream (SYSTEM_STREAMS) arriving for a local bolt task. */
export type SystemStreamHandler = (task: BoltTask, tuple: TupleImpl) => void;

/**
 * One worker's share of a topology: its executors, the routing between them, the acker, and the
 * loop that runs them. One event loop, no promise per tuple: each turn drains bolt inboxes in
 * bounded batches (downstream components first), then acker queues, then calls spouts, then sends
 * what was batched for other workers, and yields to I/O with setImmediate.
 */
export class WorkerRuntime implements Delivery, TaskHost {
  readonly layout: TopologyLayout;
  readonly delivery: Delivery = this;
  readonly random: Random;
  readonly tracking: boolean;
  readonly debug: boolean;
  private readonly executors: Executor[] = [];
  private readonly bolts: BoltExecutor[] = [];
  private readonly spouts: SpoutExecutor[] = [];
  private readonly ackerExecutors: AckerExecutor[] = [];
  /** By task id: the inbox of the local executor running it. */
  private readonly inboxOf: Array<TupleQueue | undefined> = [];
  /** By task id: the acker-message queue of the local acker or spout executor running it. */
  private readonly ackQueueOf: Array<{ push: AckerExecutor['acks']['push'] } | undefined> = [];
  private readonly spoutTasks: SpoutTask[] = [];
  private readonly boltTasks: BoltTask[] = [];
  /** How many of boltTasks / spoutTasks start() prepared / opened (a component may throw there). */
  private preparedBolts = 0;
  private openedSpouts = 0;
  private readonly timers: TimerHandle[] = [];
  private readonly logger: Logger;
  private readonly clock: Clock;
  private immediate: NodeJS.Immediate | null = null;
  private pollTimer: NodeJS.Timeout | null = null;
  private inTurn = false;
  private started = false;
  private closed = false;
  private active: boolean;
  private readonly errorBudget = new Map<string, { windowStart: number; count: number; suppressed: number }>();
  readonly localTasks: number[] = [];
  private readonly startedMs: number;
  private readonly systemHandlers = new Map<string, SystemStreamHandler>();
  /** Windowed bolts' executors, watermarks and progress markers (worker/windowing/). */
  readonly windowing: WorkerWindowing;
  /** Tasks that have had a promise, by async timeout (ms): one timer per timeout value rotates them. */
  private readonly asyncTasks = new Map<number, AsyncTask[]>();
  /** The checkpoint runtime, when the topology checkpoints (docs/state.md). */
  readonly checkpoints: WorkerCheckpoints | null;
  /** By task id: the bolt executor running a local bolt task. */
  private readonly boltExecutorOf: Array<BoltExecutor | undefined> = [];
  private coordinatorStats: ExecutorStatsCollector | null = null;
  /** exactly-once: data tuples sent per local source task and destination (checkpoints.sent). */
  private readonly sentCounts: Array<Float64Array | undefined> | null;

  constructor(private readonly opts: WorkerRuntimeOptions) {
    this.clock = opts.clock;
    this.logger = opts.logger;
    this.random = new Random(opts.seed ?? workerSeed(opts.config[Config.TOPOLOGY_RANDOM_SEED], opts.executors));
    this.layout = computeLayout(opts.definition, opts.config, opts.componentExecutors, opts.componentTasks);
    this.tracking = this.layout.ackerTasks.length > 0;
    this.checkpoints = checkpointing(opts.definition, opts.config)
      ? new WorkerCheckpoints({
          host: this,
          definition: opts.definition,
          config: opts.config,
          topologyName: typeof opts.config[Config.TOPOLOGY_NAME] === 'string' ? (opts.config[Config.TOPOLOGY_NAME] as string) : opts.topologyId,
          clock: opts.clock,
          logger: opts.logger.child({ part: 'checkpoint' }),
          // a worker's runtime gets the machine's state environment (worker.ts); a bare runtime
          // (unit tests, benchmarks) keeps the checkpoint runtime's default source
          stateSource: opts.stateSource ?? (opts.stateEnv ? createStateProvider(opts.config, opts.stateEnv) : defaultStateSource(opts.config)),
        })
      : null;
    this.sentCounts = this.checkpoints?.sent ?? null;
    this.debug = opts.config[Config.TOPOLOGY_DEBUG] === true;
    this.active = opts.active ?? true;
    this.startedMs = this.clock.now();
    const ranges = opts.executors ?? this.layout.executors;
    for (const r of ranges) for (let t = r.start; t <= r.end; t++) this.localTasks.push(t);
    for (const r of ranges) this.buildExecutor(r);
    this.orderBolts();
    for (const ex of this.executors) ex.downstream = this.downstreamOf(ex);
    this.windowing = new WorkerWindowing(this.clock, this.layout, opts.definition, opts.config);
    // a task restoring state, waiting for async work or releasing held tuples parks its executor
    if (this.checkpoints !== null) for (const ex of [...this.bolts, ...this.spouts]) ex.downstream.push(this.checkpoints.pauseGate(ex.start));
  }

  // ---- construction -------------------------------------------------------------------------

  private componentConfig(component: string): Readonly<TopologyConfig> {
    const own = getComponent(this.opts.definition, component)?.config ?? {};
    return Object.freeze({ ...this.opts.config, ...own });
  }

  private buildExecutor(r: ExecutorRange): void {
    // the coordinator is a system spout, as Storm's $checkpointspout
    const kind = this.opts.definition.spouts[r.component] || r.component === CHECKPOINT_COMPONENT_ID ? 'spout' : 'bolt';
    const stats = new ExecutorStatsCollector(r.component, r.start, r.end, kind, this.layout.streams, this.startedMs);
    if (r.component === CHECKPOINT_COMPONENT_ID) {
      if (this.checkpoints === null) return;
      this.checkpoints.addCoordinator(r.start);
      this.ackQueueOf[r.start] = this.checkpoints.control;
      this.coordinatorStats = stats;
      return;
    }
    if (r.component === ACKER_COMPONENT_ID) {
      const ex = new AckerExecutor(r.component, r.start, r.end, stats);
      for (let t = r.start; t <= r.end; t++) {
        ex.ackers.set(t, new AckerTask(t, TIMEOUT_BUCKETS, this));
        this.ackQueueOf[t] = ex.acks;
      }
      this.ackerExecutors.push(ex);
      this.executors.push(ex);
      return;
    }
    const conf = this.componentConfig(r.component);
    if (kind === 'spout') {
      const maxPending = conf[Config.TOPOLOGY_MAX_SPOUT_PENDING];
      const ex = new SpoutExecutor(r.component, r.start, r.end, stats, typeof maxPending === 'number' ? maxPending : Infinity);
      for (let t = r.start; t <= r.end; t++) {
        const task = new SpoutTask(t, r.component, this, this.outStreams(r.component, t), stats, this.context(r.component, t, conf, stats.userMetrics.forTask(t)), conf, TIMEOUT_BUCKETS);
        ex.tasks.push(task);
        this.spoutTasks.push(task);
        this.ackQueueOf[t] = ex.acks;
        this.checkpoints?.addSpout(task, r.start, this.opts.definition.spouts[r.component].replayable === true);
      }
      this.spouts.push(ex);
      this.executors.push(ex);
    } else {
      const capacity = conf[Config.TOPOLOGY_EXECUTOR_RECEIVE_BUFFER_SIZE] as number;
      const ex = new BoltExecutor(r.component, r.start, r.end, stats, capacity);
      for (let t = r.start; t <= r.end; t++) {
        const task = new BoltTask(t, r.component, this, this.outStreams(r.component, t), stats, this.context(r.component, t, conf, stats.userMetrics.forTask(t)), conf);
        ex.tasks.push(task);
        this.boltTasks.push(task);
        this.inboxOf[t] = ex.inbox;
        this.boltExecutorOf[t] = ex;
      }
      this.bolts.push(ex);
      this.executors.push(ex);
    }
  }

  private context(component: string, task: number, conf: Readonly<TopologyConfig>, metrics?: MetricRegistrar): TaskContext {
    return new TaskContext(this.opts.topologyId, this.opts.definition, this.layout, component, task, this.opts.port ?? 0, this.localTasks, conf, metrics);
  }

  /** Output streams of one source task, with a grouper per subscription. */
  private outStreams(component: string, task: number): Map<string, OutStream> {
    const def = this.opts.definition;
    const local = new Set(this.localTasks);
    const outs = new Map<string, OutStream>();
    const declared = getComponent(def, component)!.streams;
    for (const streamId of Object.keys(declared)) {
      const info = this.layout.streams[this.layout.streamIndex.get(streamKey(component, streamId))!];
      const subs: Subscription[] = [];
      for (const boltId of Object.keys(def.bolts).sort()) {
        for (const input of def.bolts[boltId].inputs) {
          if (input.component !== component || input.stream !== streamId) continue;
          const tasks = this.layout.componentTasks[boltId];
          const grouper = createGrouper({
            spec: input.grouping,
            targetTasks: tasks,
            streamFields: info.fields,
            localTasks: local,
            sourceTask: task,
            random: this.random,
            custom: this.opts.factories.groupings[`${boltId}|${component}|${streamId}`],
            context: this.context(component, task, this.componentConfig(component)),
            sourceComponent: component,
            streamId,
            targetComponent: boltId,
            maxKeyGroups: this.checkpoints !== null && isKeyedStateful(def, boltId) ? maxKeyGroups(this.opts.config) : undefined,
          });
          subs.push({ component: boltId, grouper, tasks });
        }
      }
      outs.set(streamId, new OutStream(info, subs));
    }
    return outs;
  }

  /** Every queue an executor's tasks can emit into, its own inbox excluded. */
  private downstreamOf(ex: Executor): Backpressured[] {
    if (ex instanceof AckerExecutor) return [];
    const def = this.opts.definition;
    const queues = new Set<Backpressured>();
    for (const [boltId, bolt] of Object.entries(def.bolts)) {
      if (!bolt.inputs.some((i) => i.component === ex.component)) continue;
      for (const t of this.layout.componentTasks[boltId]) queues.add(this.queueFor(t));
    }
    // acker queues never park anyone, local or remote (acks must always flow): not checked
    if (ex instanceof BoltExecutor) queues.delete(ex.inbox);
    queues.delete(NEVER_FULL);
    return [...queues];
  }

  /** Downstream components first, so queues drain before more is produced. */
  private orderBolts(): void {
    const def = this.opts.definition;
    const depth = new Map<string, number>();
    const visit = (id: string, seen: Set<string>): number => {
      if (depth.has(id)) return depth.get(id)!;
      if (def.spouts[id] || seen.has(id)) return 0;
      seen.add(id);
      let d = 0;
      for (const input of def.bolts[id]?.inputs ?? []) d = Math.max(d, visit(input.component, seen) + 1);
      depth.set(id, d);
      return d;
    };
    this.bolts.sort((a, b) => visit(b.component, new Set()) - visit(a.component, new Set()) || a.start - b.start);
  }

  // ---- system streams -----------------------------------------------------------------------

  /** Registers the handler of a system stream (one per stream id; a second replaces the first). */
  onSystemStream(streamId: string, handler: SystemStreamHandler): void {
    this.systemHandlers.set(streamId, handler);
  }

  systemTuple(task: BoltTask, tuple: TupleImpl): void {
    // checkpoint tuples, and others from a channel held or fenced by a checkpoint, stop here
    if (this.checkpoints !== null && this.checkpoints.intercept(task, tuple)) return;
    this.deliverSystem(task, tuple);
  }

  /** Hands a system tuple to its stream's handler. */
  deliverSystem(task: BoltTask, tuple: TupleImpl): void {
    const handler = this.systemHandlers.get(tuple.sourceStreamId);
    if (handler === undefined) return; // no feature here uses that stream: nothing to do
    try {
      handler(task, tuple);
    } catch (err) {
      this.reportError(task.component, task.taskId, err);
    }
  }

  // ---- Delivery -----------------------------------------------------------------------------

  sendTuple(task: number, tuple: TupleImpl): void {
    const sent = this.sentCounts;
    if (sent !== null && tuple.streamIndex < this.layout.systemStreamStart) sent[tuple.sourceTask]![task]++;
    const inbox = this.inboxOf[task];
    if (inbox !== undefined) {
      inbox.push(task, tuple);
      if (!this.inTurn) this.wake();
    } else if (this.opts.remote) {
      this.opts.remote.sendTuple(task, tuple);
      if (!this.inTurn) this.wake(); // sends outside a turn are flushed by the next one
    } else throw squallError('ERR_INTERNAL', `no route to task ${task}`);
  }

  sendAck(kind: AckKind, destTask: number, root: number, hi: number, lo: number, spoutTask: number): void {
    const q = isControlKind(kind) ? this.controlQueueFor(destTask) : this.ackQueueOf[destTask];
    if (q !== undefined) {
      q.push(kind, destTask, root, hi, lo, spoutTask);
      if (!this.inTurn) this.wake();
    } else if (this.opts.remote) {
      this.opts.remote.sendAck(kind, destTask, root, hi, lo, spoutTask);
      if (!this.inTurn) this.wake();
    } else throw squallError('ERR_INTERNAL', `no route to task ${destTask}`);
  }

  /** Runs of ROOT_RUN consecutive root ids go to one acker, whose ledger keeps them together (root-table.ts). */
  ackerFor(root: number): number {
    const ackers = this.layout.ackerTasks;
    return ackers.length === 0 ? 0 : ackers[Math.floor(root / RUN) % ackers.length];
  }

  queueFor(task: number): Backpressured {
    const inbox = this.inboxOf[task];
    if (inbox !== undefined) return inbox;
    if (this.ackQueueOf[task] !== undefined) return NEVER_FULL;
    return this.opts.remote ? this.opts.remote.queueFor(task) : NEVER_FULL;
  }

  // ---- input from other workers ---------------------------------------------------------------

  /** Whether this worker runs `task`. */
  owns(task: number): boolean {
    return this.inboxOf[task] !== undefined || this.ackQueueOf[task] !== undefined;
  }

  /** A tuple from another worker (its Fields are this worker's table's, not a copy per tuple). */
  receiveTuple(task: number, tuple: TupleImpl): boolean {
    const inbox = this.inboxOf[task];
    if (inbox === undefined) return false;
    inbox.push(task, tuple);
    this.wake();
    return true;
  }

  /** The checkpoint runtime's queue, when it handles control records for `task` here. */
  private controlQueueFor(task: number): { push: AckerExecutor['acks']['push'] } | undefined {
    return this.checkpoints !== null && this.checkpoints.owns(task) ? this.checkpoints.control : undefined;
  }

  receiveAck(kind: number, destTask: number, root: number, hi: number, lo: number, spoutTask: number): boolean {
    const q = isControlKind(kind) ? this.controlQueueFor(destTask) : this.ackQueueOf[destTask];
    if (q === undefined) return false;
    q.push(kind, destTask, root, hi, lo, spoutTask);
    this.wake();
    return true;
  }

  /** Fields of a stream by its number, for decoding tuples from other workers. */
  fieldsOf(streamIndex: number): { fields: Fields; component: string; stream: string } | undefined {
    const s = this.layout.streams[streamIndex];
    return s && { fields: this.fieldsCache(streamIndex), component: s.component, stream: s.stream };
  }

  private readonly fieldsByStream: Fields[] = [];
  private fieldsCache(i: number): Fields {
    return (this.fieldsByStream[i] ??= new Fields(this.layout.streams[i].fields));
  }

  // ---- lifecycle ----------------------------------------------------------------------------

  /** Prepares bolts and opens spouts (user code); throws ERR_WORKER_START_FAILED if one throws. */
  start(): void {
    if (this.started) return;
    this.started = true;
    try {
      const ckpt = this.checkpoints;
      for (const t of this.boltTasks) {
        const made = this.windowing.boltFor(t, this.opts.factories.bolts[t.component]());
        const ex = this.boltExecutorOf[t.taskId]!;
        t.bolt = ckpt === null ? made : ckpt.wrapBolt(t, made, ex.start, ex.downstream);
        t.bolt.prepare(t.conf, t.context, t);
        this.preparedBolts++;
      }
      for (const t of this.spoutTasks) {
        t.spout = this.opts.factories.spouts[t.component]();
        t.spout.open(t.conf, t.context, t);
        this.openedSpouts++;
      }
    } catch (err) {
      throw squallError('ERR_WORKER_START_FAILED', `a component threw while starting: ${describeError(err)}`, { cause: err });
    }
    this.windowing.start(this, this.spoutTasks, this.boltTasks);
    this.startTimers();
    this.checkpoints?.start();
    if (this.active) this.setActive(true, true);
    this.wake();
  }

  private startTimers(): void {
    const conf = this.opts.config;
    const timeoutMs = (conf[Config.TOPOLOGY_MESSAGE_TIMEOUT_SECS] as number) * 1000;
    if (this.tracking && conf[Config.TOPOLOGY_ENABLE_MESSAGE_TIMEOUTS] !== false) {
      this.timers.push(this.clock.setInterval(() => this.rotate(), timeoutMs / (TIMEOUT_BUCKETS - 1)));
    }
    const tickComponents = new Set(this.boltTasks.map((t) => t.component));
    for (const component of tickComponents) {
      const freq = this.componentConfig(component)[Config.TOPOLOGY_TICK_TUPLE_FREQ_SECS];
      if (typeof freq !== 'number') continue;
      const tasks = this.boltTasks.filter((t) => t.component === component);
      const tickFields = new Fields(['rate_secs']);
      this.timers.push(
        this.clock.setInterval(() => {
          for (const t of tasks) {
            const tick = new TupleImpl([freq], tickFields, SYSTEM_COMPONENT_ID, SYSTEM_TASK_ID, SYSTEM_TICK_STREAM_ID, 0, 0, 0, null);
            tick.streamIndex = this.layout.streams.length;
            this.inboxOf[t.taskId]!.push(t.taskId, tick);
          }
          this.wake();
        }, freq * 1000),
      );
    }
  }

  /**
   * A task's first promise: its async timeouts rotate from now on, with every task of the same
   * timeout on one timer (none per call). Started lazily, so a topology that never returns a
   * promise has no such timer.
   */
  asyncStarted(task: AsyncTask, timeoutMs: number): void {
    let tasks = this.asyncTasks.get(timeoutMs);
    if (tasks === undefined) {
      const list: AsyncTask[] = (tasks = []);
      this.asyncTasks.set(timeoutMs, list);
      if (!this.closed) this.timers.push(this.clock.setInterval(() => this.rotateAsync(list), timeoutMs / (ASYNC_TIMEOUT_BUCKETS - 1)));
    }
    tasks.push(task);
  }

  private rotateAsync(tasks: readonly AsyncTask[]): void {
    for (const t of tasks) {
      try {
        t.rotateAsync();
      } catch (err) {
        this.logger.error({ err }, 'async timeout rotation failed');
      }
    }
    this.wake();
  }

  isClosed(): boolean {
    return this.closed;
  }

  /** Expires the oldest bucket of every pending map: spouts fail what timed out. */
  private rotate(): void {
    for (const a of this.ackerExecutors) a.rotate();
    for (const t of this.spoutTasks) t.pending.rotate();
    this.wake();
  }

  isActive(): boolean {
    return this.active;
  }

  /** Storm's activate/deactivate: spouts get `activate()`/`deactivate()` and stop or resume nextTuple. */
  setActive(active: boolean, force = false): void {
    if (this.active === active && !force) return;
    this.active = active;
    if (!this.started) return;
    for (const ex of this.spouts) ex.active = active;
    for (const t of this.spoutTasks) t.callUser(active ? 'activate' : 'deactivate');
    this.wake();
  }

  // ---- the loop -----------------------------------------------------------------------------

  /** Makes sure a turn is coming. Cheap when one already is. */
  wake(): void {
    if (this.immediate !== null || this.closed || !this.started) return;
    if (this.pollTimer !== null) {
      clearTimeout(this.pollTimer);
      this.pollTimer = null;
    }
    this.immediate = setImmediate(this.turn);
  }

  private readonly turn = (): void => {
    this.immediate = null;
    if (this.closed) return;
    this.inTurn = true;
    let work = 0;
    try {
      if (this.checkpoints !== null) work += this.checkpoints.run();
      for (const ex of this.bolts) work += ex.run(BOLT_BUDGET);
      for (const ex of this.ackerExecutors) work += ex.run();
      for (const ex of this.spouts) work += ex.run(SPOUT_BUDGET);
      for (const ex of this.ackerExecutors) work += ex.run();
      for (const ex of this.spouts) work += ex.drainAcks();
      this.opts.remote?.flush();
      this.trackBackpressure();
    } catch (err) {
      // user code errors are caught per tuple; anything here is ours, and must not stop the loop
      this.logger.error({ err }, 'worker loop error');
    } finally {
      this.inTurn = false;
    }
    if (work > 0 || this.hasQueuedInput()) this.wake();
    else if (this.active && this.spouts.length > 0) {
      this.pollTimer = setTimeout(() => {
        this.pollTimer = null;
        this.wake();
      }, IDLE_POLL_MS);
    }
  };

  /** One clock read per turn: which executors are parked by a full downstream queue. */
  private trackBackpressure(): void {
    const now = performance.now();
    for (const b of this.bolts) b.stats.trackParked(!b.inbox.isEmpty() && b.blocked(), now);
    for (const s of this.spouts) s.stats.trackParked(s.active && s.blocked(), now);
  }

  private hasQueuedInput(): boolean {
    for (const b of this.bolts) if (b.ready()) return true;
    for (const a of this.ackerExecutors) if (a.acks.size > 0) return true;
    return this.checkpoints !== null && this.checkpoints.hasWork();
  }

  /**
   * True when nothing is queued or in flight here and every spout's last call emitted nothing:
   * what `completeTopology` waits for.
   */
  isQuiescent(): boolean {
    for (const b of this.bolts) if (!b.inbox.isEmpty()) return false;
    for (const a of this.ackerExecutors) if (a.acks.size > 0) return false;
    for (const s of this.spouts) if (s.acks.size > 0 || (s.active && !s.idle)) return false;
    for (const t of this.spoutTasks) if (t.pending.size() > 0 || t.waiting) return false;
    for (const t of this.boltTasks) if (t.inflight > 0) return false;
    return true;
  }

  /** A local bolt task (tests; checkpoint barriers reach theirs through system-stream handlers). */
  boltTask(taskId: number): BoltTask | undefined {
    return this.boltTasks.find((t) => t.taskId === taskId);
  }

  // ---- errors, debug, stats ------------------------------------------------------------------

  reportError(component: string, task: number, err: unknown): void {
    const now = this.clock.now();
    const key = `${component}:${task}`;
    let budget = this.errorBudget.get(key);
    if (!budget || now - budget.windowStart >= ERROR_INTERVAL_MS) {
      if (budget && budget.suppressed > 0) this.logger.warn({ component, task, suppressed: budget.suppressed }, 'errors suppressed by the error throttle');
      budget = { windowStart: now, count: 0, suppressed: 0 };
      this.errorBudget.set(key, budget);
    }
    if (budget.count >= ERRORS_PER_INTERVAL) {
      budget.suppressed++;
      return;
    }
    budget.count++;
    const message = err instanceof Error && err.stack ? err.stack : describeError(err);
    this.logger.warn({ component, task, err }, 'component error');
    this.opts.onError?.({ component, task, error: message, timeMs: this.clock.wallNow() });
  }

  debugEmit(component: string, task: number, stream: string, values: unknown[]): void {
    this.logger.info({ component, task, stream, values }, 'emitted');
  }

  /** Stats of every executor here; rolls the capacity window. */
  stats(): ExecutorStats[] {
    const now = this.clock.now();
    const realNow = performance.now();
    const out = this.executors.map((ex) => {
      ex.stats.rollCapacity(realNow);
      const s = ex.stats.snapshot(now, realNow);
      if (ex instanceof BoltExecutor) {
        const windows = this.windowing.stats(ex.start, ex.end);
        if (windows !== undefined) s.windows = windows;
      }
      const checkpoint = this.checkpoints?.statsFor(ex.start, ex.end);
      if (checkpoint !== undefined) s.checkpoint = checkpoint;
      return s;
    });
    const c = this.coordinatorStats;
    if (c !== null) {
      const s = c.snapshot(now);
      s.checkpoint = this.checkpoints!.statsFor(c.start, c.end);
      out.push(s);
    }
    return out;
  }

  /** Counts the acker has in flight and spouts have pending (tests, monitoring). */
  pendingCounts(): { spoutPending: number; ackerTrees: number } {
    let spoutPending = 0;
    for (const t of this.spoutTasks) spoutPending += t.pending.size();
    let ackerTrees = 0;
    for (const a of this.ackerExecutors) for (const t of a.ackers.values()) ackerTrees += t.pendingTrees();
    return { spoutPending, ackerTrees };
  }

  /** Stops the loop and timers, then closes spouts and cleans up bolts; idempotent. */
  close(): void {
    if (this.closed) return;
    this.closed = true;
    for (const t of this.timers) this.clock.clear(t);
    this.timers.length = 0;
    this.windowing.close();
    this.checkpoints?.close();
    if (this.immediate !== null) clearImmediate(this.immediate);
    if (this.pollTimer !== null) clearTimeout(this.pollTimer);
    this.immediate = null;
    this.pollTimer = null;
    if (!this.started) return;
    try {
      this.opts.remote?.flush();
    } catch (err) {
      this.logger.warn({ err }, 'flush on close failed');
    }
    // only what start() made: after a start failure the rest were never created (as in Storm,
    // a component whose prepare or open threw gets no cleanup or close either)
    for (let i = 0; i < this.openedSpouts; i++) this.spoutTasks[i].callUser('close');
    for (let i = 0; i < this.preparedBolts; i++) {
      const t = this.boltTasks[i];
      try {
        t.bolt.cleanup?.();
      } catch (err) {
        this.logger.warn({ err, component: t.component }, 'cleanup threw');
      }
    }
  }
}
