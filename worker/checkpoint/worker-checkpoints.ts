import { CHECKPOINT_STREAM_ID, Config, type IBolt, type ProcessingGuarantee, type TopologyConfig, type TopologyDefinition, type TupleImpl } from '../../topology-api';
import type { Clock } from '../../common/clock';
import type { Logger } from '../../common/logging';
import type { Random } from '../../common/random';
import { processingGuarantee, type TopologyLayout } from '../../common/topology-layout';
import type { ExecutorStats } from '../../common/cluster-state/types';
import { AckQueue } from '../queues';
import type { Backpressured } from '../routing';
import type { BoltTask, SpoutTask } from '../tasks';
import { BoltParticipant } from './bolt-participant';
import { CheckpointCoordinator, type CoordinatorRecord, type CoordinatorStore } from './coordinator';
import { PauseGate, type Participant } from './participant';
import { Ctl } from './protocol';
import { SpoutParticipant } from './spout-participant';
import { whenSettled, type KeyValueLike, type StateRef, type StateSource } from './state-access';
import { taskStateRef } from './state-refs';

/** Held tuples a releasing task runs per loop turn (like a bolt executor's batch). */
const RELEASE_BUDGET = 512;

/** What the checkpoint runtime needs from its worker (WorkerRuntime provides it). */
export interface CheckpointRuntimeHost {
  readonly layout: TopologyLayout;
  readonly random: Random;
  /** Sends an acker-layout record to a task, local or remote (control kinds are routed here). */
  sendAck(kind: number, destTask: number, a: number, b: number, c: number, from: number): void;
  /** The acker task tracking `root`. */
  ackerFor(root: number): number;
  wake(): void;
  reportError(component: string, task: number, err: unknown): void;
  /** Hands a system tuple to its stream's handler (bypassing the checkpoint gate). */
  deliverSystem(task: BoltTask, tuple: TupleImpl): void;
}

export interface WorkerCheckpointsOptions {
  host: CheckpointRuntimeHost;
  definition: TopologyDefinition;
  config: Readonly<TopologyConfig>;
  /** The topology's name: state namespaces are `<name>/<component>/<task index>`. */
  topologyName: string;
  clock: Clock;
  logger: Logger;
  stateSource: StateSource;
}

/** Checkpoint figures per executor (ExecutorStats.checkpoint; TEAM.md). */
export type ExecutorCheckpointStats = NonNullable<ExecutorStats['checkpoint']>;

/**
 * One worker's share of the checkpoint runtime (docs/state.md): a participant per local spout
 * and bolt task, the coordinator when this worker runs `__checkpointspout`, the control queue
 * that carries the coordinator's records to them (drained at the start of every loop turn, never
 * parked), the per-executor pause gates, and the per-channel counts of data tuples sent.
 */
export class WorkerCheckpoints {
  readonly guarantee: ProcessingGuarantee;
  readonly control = new AckQueue(64);
  private readonly host: CheckpointRuntimeHost;
  private readonly layout: TopologyLayout;
  private readonly participants: Array<Participant | undefined> = [];
  private readonly bolts: BoltParticipant[] = [];
  private readonly spouts: SpoutParticipant[] = [];
  private readonly pauses = new Map<number, PauseGate>();
  private readonly releasing = new Set<BoltParticipant>();
  private coordinator: CheckpointCoordinator | null = null;
  /**
   * exactly-once: data tuples sent per local source task (index) and destination task, since the
   * last barrier or marker on that channel; null otherwise (nothing is counted).
   */
  readonly sent: Array<Float64Array | undefined> | null;
  private readonly retryMs: number;
  private readonly heldMaxOf: (component: string) => number;
  private started = false;
  private closed = false;

  constructor(private readonly opts: WorkerCheckpointsOptions) {
    this.host = opts.host;
    this.layout = opts.host.layout;
    this.guarantee = processingGuarantee(opts.config);
    // lost frames are detected under both guarantees that replay (at-least-once then rolls back
    // and replays through the acker rather than commit a checkpoint that misses them)
    this.sent = this.guarantee === 'at-most-once' ? null : [];
    const timeoutMs = opts.config[Config.TOPOLOGY_STATE_CHECKPOINT_TIMEOUT_MS] as number;
    this.retryMs = Math.max(20, Math.min(1000, timeoutMs / 4));
    this.heldMaxOf = (component) => {
      const own = (opts.definition.bolts[component]?.config ?? {})[Config.TOPOLOGY_STATE_CHECKPOINT_ALIGNMENT_MAX_TUPLES];
      return (typeof own === 'number' ? own : opts.config[Config.TOPOLOGY_STATE_CHECKPOINT_ALIGNMENT_MAX_TUPLES]) as number;
    };
  }

  private participantHost(): ConstructorParameters<typeof BoltParticipant>[0] & ConstructorParameters<typeof SpoutParticipant>[0] {
    const host = this.host;
    return {
      guarantee: this.guarantee,
      coordinatorTask: this.layout.coordinatorTask,
      clock: this.opts.clock,
      logger: this.opts.logger,
      retryMs: this.retryMs,
      control: (kind, dest, a, b, c, from) => host.sendAck(kind, dest, a, b, c, from),
      delivery: host,
      openState: (ref) => whenSettled(this.opts.stateSource.open(ref)) as Promise<KeyValueLike>,
      instanceId: () => 1 + (host.random.next32() >>> 1),
      wake: () => host.wake(),
      reportError: (component, task, err) => host.reportError(component, task, err),
      deliverSystem: (task, tuple) => host.deliverSystem(task, tuple),
      releasing: (p) => this.releasing.add(p),
      forward: (task, values) => this.forward(task, values),
    };
  }

  private stateRef(component: string, task: number): StateRef {
    const tasks = this.layout.componentTasks[component] ?? [task];
    return taskStateRef(this.opts.definition, this.opts.config, this.opts.topologyName, component, Math.max(0, tasks.indexOf(task)), tasks.length);
  }

  /** The gate an executor's loop checks with the queues it feeds (one per executor). */
  pauseGate(executorStart: number): PauseGate {
    let gate = this.pauses.get(executorStart);
    if (gate === undefined) {
      gate = new PauseGate();
      this.pauses.set(executorStart, gate);
    }
    return gate;
  }

  /** Whether control records for `task` are handled here. */
  owns(task: number): boolean {
    return this.participants[task] !== undefined || (this.coordinator !== null && task === this.layout.coordinatorTask);
  }

  // ---- construction ---------------------------------------------------------------------------

  addCoordinator(taskId: number): void {
    const def = this.opts.definition;
    const participants: number[] = [];
    const sources: number[] = [];
    for (const [id, tasks] of Object.entries(this.layout.componentTasks)) {
      const spout = def.spouts[id] !== undefined;
      const bolt = def.bolts[id];
      if (!spout && bolt === undefined) continue;
      participants.push(...tasks);
      if (spout || bolt.inputs.length === 0) sources.push(...tasks);
    }
    participants.sort((a, b) => a - b);
    sources.sort((a, b) => a - b);
    this.coordinator = new CheckpointCoordinator({
      taskId,
      participants,
      sources,
      intervalMs: this.opts.config[Config.TOPOLOGY_STATE_CHECKPOINT_INTERVAL] as number,
      timeoutMs: this.opts.config[Config.TOPOLOGY_STATE_CHECKPOINT_TIMEOUT_MS] as number,
      retryMs: this.retryMs,
      clock: this.opts.clock,
      store: this.coordinatorStore(),
      send: (kind, dest, a, b, c) => this.host.sendAck(kind, dest, a, b, c, taskId),
      logger: this.opts.logger.child({ part: 'checkpoint-coordinator' }),
    });
  }

  private coordinatorStore(): CoordinatorStore {
    const namespace = `${this.opts.topologyName}/__checkpointspout`;
    let state: Promise<KeyValueLike> | null = null;
    const open = (): Promise<KeyValueLike> => {
      state ??= (whenSettled(this.opts.stateSource.open({ namespace })) as Promise<KeyValueLike>).catch((err: unknown) => {
        state = null; // open again on the next try
        throw err;
      });
      return state;
    };
    // The record's own transaction ids: saved with it and increasing across coordinator
    // instances, since a backend ignores a txid it has committed already.
    let seq = 0;
    return {
      load: async () => {
        const s = await open();
        await whenSettled(s.rollback());
        const saved = s.get('seq', 0);
        seq = typeof saved === 'number' ? saved : 0;
        const r = s.get('record', null) as CoordinatorRecord | null;
        return r && typeof r.epoch === 'number' && typeof r.committed === 'number' ? r : null;
      },
      save: async (record) => {
        const s = await open();
        const txid = ++seq;
        s.put('record', { ...record });
        s.put('seq', txid);
        await whenSettled(s.prepareCommit(txid));
        await whenSettled(s.commit(txid));
      },
    };
  }

  addSpout(task: SpoutTask, executorStart: number, replayable: boolean): void {
    const p = new SpoutParticipant(this.participantHost(), this.pauseGate(executorStart), task, replayable, this.stateRef(task.component, task.taskId));
    this.participants[task.taskId] = p;
    this.spouts.push(p);
    if (this.sent !== null) this.sent[task.taskId] = new Float64Array(this.layout.taskComponent.length);
  }

  /** Wraps a bolt task's bolt (called when the runtime creates it, before `prepare`). */
  wrapBolt(task: BoltTask, bolt: IBolt, executorStart: number, downstream: readonly Backpressured[]): IBolt {
    const def = this.opts.definition;
    const inputs = new Set<number>();
    for (const input of def.bolts[task.component].inputs) for (const t of this.layout.componentTasks[input.component] ?? []) inputs.add(t);
    const p = new BoltParticipant(this.participantHost(), this.pauseGate(executorStart), {
      task,
      bolt,
      stateful: def.bolts[task.component].stateful === true,
      inputs: [...inputs].sort((a, b) => a - b),
      taskCount: this.layout.taskComponent.length,
      heldMax: this.heldMaxOf(task.component),
      downstream: downstream.filter((q) => !(q instanceof PauseGate)),
      state: this.stateRef(task.component, task.taskId),
      systemStreamStart: this.layout.systemStreamStart,
      tickIndex: this.layout.streams.length,
    });
    this.participants[task.taskId] = p;
    this.bolts.push(p);
    if (this.sent !== null) this.sent[task.taskId] = new Float64Array(this.layout.taskComponent.length);
    return p;
  }

  start(): void {
    if (this.started) return;
    this.started = true;
    this.coordinator?.start();
    for (const p of this.participants) p?.start();
  }

  // ---- data path hooks ------------------------------------------------------------------------

  /**
   * A system tuple for a local bolt task: checkpoint tuples are handled here, and another
   * stream's are held or dropped with their channel's data. True when taken care of.
   */
  intercept(task: BoltTask, tuple: TupleImpl): boolean {
    const p = this.participants[task.taskId];
    if (p === undefined) return tuple.sourceStreamId === CHECKPOINT_STREAM_ID;
    return (p as BoltParticipant).onSystemTuple(tuple);
  }

  /** Sends a barrier or marker to every downstream task of `task`, each with its channel's count. */
  private forward(task: BoltTask | SpoutTask, values: (count: number) => unknown[]): void {
    const counts = this.sent?.[task.taskId];
    for (const dest of task.downstreamTasks()) {
      let n = 0;
      if (counts !== undefined) {
        n = counts[dest];
        counts[dest] = 0;
      }
      task.emitSystem(CHECKPOINT_STREAM_ID, values(n), [dest]);
    }
  }

  // ---- the loop -------------------------------------------------------------------------------

  /** Handles control records and releases held tuples; the runtime calls it every turn. */
  run(): number {
    let n = 0;
    const q = this.control;
    while (q.size > 0) {
      const b = q.buffer();
      const o = q.headOffset();
      const kind = b[o];
      const dest = b[o + 1];
      const a = b[o + 2];
      const hi = b[o + 3];
      const lo = b[o + 4];
      const from = b[o + 5];
      q.drop();
      n++;
      this.dispatch(kind, dest, a, hi, lo, from);
    }
    if (this.releasing.size > 0) {
      for (const p of this.releasing) {
        if (p.drainHeld(RELEASE_BUDGET)) this.releasing.delete(p);
        n++;
      }
    }
    return n;
  }

  hasWork(): boolean {
    if (this.control.size > 0) return true;
    for (const p of this.releasing) if (p.canDrain()) return true;
    return false;
  }

  private dispatch(kind: number, dest: number, a: number, b: number, c: number, from: number): void {
    if (this.closed) return;
    if (this.coordinator !== null && dest === this.layout.coordinatorTask) {
      this.coordinator.handle(kind, from, a, b, c);
      return;
    }
    const p = this.participants[dest];
    if (p === undefined) return;
    switch (kind) {
      case Ctl.Recover:
        p.recover(a, b);
        return;
      case Ctl.Commit:
        if (b === p.epoch) p.commit(a);
        return;
      case Ctl.Trigger:
        if (p instanceof SpoutParticipant) p.onTrigger(a, b, c);
        else (p as BoltParticipant).onTrigger(a, b, c);
        return;
      default:
    }
  }

  // ---- stats ----------------------------------------------------------------------------------

  /** Checkpoint figures of the tasks `start..end` (one executor), or of the coordinator. */
  statsFor(start: number, end: number): ExecutorCheckpointStats | undefined {
    if (this.coordinator !== null && start === this.layout.coordinatorTask) {
      const c = this.coordinator.stats();
      return { txid: c.committed, durationMs: c.lastDurationMs, sizeBytes: 0, alignmentMs: 0, heldTuples: 0, failed: c.aborted };
    }
    let out: ExecutorCheckpointStats | undefined;
    for (let t = start; t <= end; t++) {
      const p = this.participants[t];
      if (p === undefined) continue;
      const s = p.stats;
      if (out === undefined) out = { txid: s.txid, durationMs: s.durationMs, sizeBytes: s.sizeBytes, alignmentMs: s.alignmentMs, heldTuples: s.heldTuples, failed: s.failed };
      else {
        out.txid = Math.max(out.txid, s.txid);
        out.durationMs = Math.max(out.durationMs, s.durationMs);
        out.sizeBytes += s.sizeBytes;
        out.alignmentMs = Math.max(out.alignmentMs, s.alignmentMs);
        out.heldTuples += s.heldTuples;
        out.failed += s.failed;
      }
    }
    return out;
  }

  /** The coordinator's state machine figures (tests, the chaos run). */
  coordinatorStats(): ReturnType<CheckpointCoordinator['stats']> | null {
    return this.coordinator?.stats() ?? null;
  }

  /** Participants of this worker by task id (tests). */
  participant(task: number): Participant | undefined {
    return this.participants[task];
  }

  close(): void {
    if (this.closed) return;
    this.closed = true;
    this.coordinator?.close();
    for (const p of this.participants) p?.close();
    try {
      this.opts.stateSource.close?.();
    } catch (err) {
      this.opts.logger.warn({ err }, 'closing the state provider failed');
    }
  }
}
