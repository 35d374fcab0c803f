import { CHECKPOINT_STREAM_ID, type IBolt, type MaybePromise, type OutputCollector, type OutputFieldsDeclarer, type TopologyConfig, type TopologyContext, type Tuple, type TupleImpl } from '../../topology-api';
import type { Backpressured, Delivery } from '../routing';
import type { BoltTask } from '../tasks';
import { Participant, type ParticipantHost, type PauseGate } from './participant';
import { BARRIER, BarrierField, FailReason, ROLLBACK } from './protocol';
import { FailReportingCollector, StatefulBoltExecutor, type StatefulBoltLike } from './stateful-bolt-executor';
import { DeferredAcks } from './deferred-acks';
import { isSnapshottableWindows, StatefulWindowsAdapter } from './stateful-windows';
import { HeldTuples } from './held-tuples';
import type { StateRef } from './state-access';

/** What a bolt participant needs from its worker beyond ParticipantHost. */
export interface BoltParticipantHost extends ParticipantHost {
  /** Hands a held system tuple (a watermark) to its stream's handler. */
  deliverSystem(task: BoltTask, tuple: TupleImpl): void;
  /** This participant holds tuples to release: drain it in the next turns. */
  releasing(p: BoltParticipant): void;
  /** The worker's way to the ackers (deferred acks go out through it at the commit). */
  readonly delivery: Pick<Delivery, 'sendAck' | 'ackerFor'>;
  /** Sends barriers and markers to every downstream task, with each channel's sent count. */
  forward(task: BoltTask, values: (count: number) => unknown[]): void;
}

/** The async engineer's contract (TEAM.md): a bolt task with async executions in flight. */
interface AsyncTask {
  inFlight?(): number;
  onDrained?(cb: () => void): void;
  inflight?: number;
  admitLimit?: number;
}

export interface BoltParticipantOptions {
  task: BoltTask;
  /** The bolt as the builder made it (a stateful bolt is wrapped here). */
  bolt: IBolt;
  stateful: boolean;
  /** Every task of every component this bolt subscribes to: its input channels. */
  inputs: readonly number[];
  taskCount: number;
  /** Most tuples held while aligning (topology.state.checkpoint.alignment.max.tuples). */
  heldMax: number;
  /** The queues the task's executor feeds, to stop releasing held tuples while one is full. */
  downstream: readonly Backpressured[];
  state: StateRef;
  /** The layout's first system stream index, and the tick tuples' index (after every stream). */
  systemStreamStart: number;
  tickIndex: number;
}

/**
 * A bolt task's side of the checkpoint protocol, in front of the bolt itself (Storm wraps every
 * bolt of a stateful topology the same way: StatefulBoltExecutor or CheckpointTupleForwarder).
 *
 * Per input channel (source task) it keeps whether the channel is fenced (exactly-once, after a
 * rollback: its tuples are pre-rollback and dropped until the channel's rollback marker), whether
 * it is blocked (it delivered the barrier being aligned: its tuples are held), and how many
 * tuples it delivered since its last barrier (checked against the barrier's count).
 *
 * Alignment: the first barrier of txid n starts it; a channel that delivered it is blocked; when
 * every channel has, the task waits for its async work, snapshots, forwards the barrier, and
 * releases what it held (executor parked meanwhile so nothing overtakes it). Held tuples are
 * bounded: past `heldMax` the checkpoint is failed rather than fill memory, since every channel
 * shares one inbox and the missing barrier may sit behind the data of a blocked one.
 *
 * Hot path: `execute` counts the tuple and, when no channel is fenced or blocked, calls the bolt.
 */
export class BoltParticipant extends Participant implements IBolt {
  readonly task: BoltTask;
  private readonly inner: IBolt;
  private readonly stateful: StatefulBoltExecutor | null;
  private readonly inputs: readonly number[];
  private readonly stale: Uint8Array;
  private readonly blocked: Uint8Array;
  /** Data tuples received per channel since its last barrier or marker. */
  private readonly recv: Float64Array;
  private staleCount = 0;
  private blockedCount = 0;
  /** Everything on a fast path: ready, nothing fenced, nothing blocked, nothing held. */
  private fast = false;
  private aligning = 0;
  private alignStartMs = 0;
  private abortedTxid = 0;
  private barrierCommitted = 0;
  private readonly held: HeldTuples;
  private readonly releaseKey = { releasing: true };
  private readonly systemStart: number;
  private readonly tickIndex: number;
  private readonly heldMax: number;
  private readonly downstream: readonly Backpressured[];
  private readonly exactly: boolean;
  /** Barrier counts are checked (exactly-once and at-least-once). */
  private readonly counting: boolean;
  /** Pre-rollback tuples dropped here (exactly-once fencing). */
  droppedStale = 0;

  constructor(
    protected readonly host: BoltParticipantHost,
    pause: PauseGate,
    opts: BoltParticipantOptions,
  ) {
    super(opts.task.taskId, opts.task.component, opts.state, host, pause);
    this.task = opts.task;
    this.exactly = host.guarantee === 'exactly-once';
    this.counting = host.guarantee !== 'at-most-once';
    const onFail = this.exactly ? () => this.tupleFailed() : null;
    if (opts.stateful) {
      // a stateful windowed bolt: its windows are checkpointed with its state
      const bolt = isSnapshottableWindows(opts.bolt) ? new StatefulWindowsAdapter(opts.bolt) : (opts.bolt as unknown as StatefulBoltLike);
      let deferred: DeferredAcks | null = null;
      if (host.guarantee === 'at-least-once') {
        deferred = new DeferredAcks(host.delivery);
        opts.task.ackDelivery = deferred;
      }
      this.stateful = new StatefulBoltExecutor(bolt, deferred, onFail);
      this.inner = this.stateful;
    } else {
      this.stateful = null;
      this.inner = opts.bolt;
    }
    this.inputs = opts.inputs;
    this.stale = new Uint8Array(opts.taskCount);
    this.blocked = new Uint8Array(opts.taskCount);
    this.recv = new Float64Array(opts.taskCount);
    this.held = new HeldTuples(opts.taskCount);
    this.systemStart = opts.systemStreamStart;
    this.tickIndex = opts.tickIndex;
    this.heldMax = opts.heldMax;
    this.downstream = opts.downstream;
    if (this.exactly) this.execute = this.executeFailing;
  }

  protected hasState(): boolean {
    return this.stateful !== null;
  }

  /** A source bolt (no inputs) snapshots on the coordinator's Trigger, as a spout does. */
  get isSource(): boolean {
    return this.inputs.length === 0;
  }

  // ---- IBolt ----------------------------------------------------------------------------------

  prepare(conf: Readonly<TopologyConfig>, context: TopologyContext, collector: OutputCollector): void {
    const out = this.exactly && this.stateful === null ? new FailReportingCollector(collector, () => this.tupleFailed()) : collector;
    this.inner.prepare(conf, context, out);
  }

  execute(input: Tuple): MaybePromise {
    const t = input as TupleImpl;
    if (!this.fast) return this.slow(t);
    const src = t.sourceTask;
    if (src > 0) this.recv[src]++;
    return this.inner.execute(t);
  }

  /** exactly-once: a bolt that throws fails its input, which rolls the topology back. */
  private executeFailing(input: Tuple): MaybePromise {
    let result: MaybePromise;
    try {
      result = BoltParticipant.prototype.execute.call(this, input);
    } catch (err) {
      this.tupleFailed();
      throw err;
    }
    // an async execution that rejects fails its input too (one promise more per async call)
    if (result !== undefined && result !== null && typeof result.then === 'function') {
      return result.then(undefined, (err: unknown) => {
        this.tupleFailed();
        throw err;
      });
    }
    return result;
  }

  /**
   * A channel's tuples are counted when they take effect in its order (not when held), so a
   * barrier compares its count with exactly the tuples that came before it.
   */
  private slow(t: TupleImpl): MaybePromise {
    const src = t.sourceTask;
    if (src > 0) {
      if (this.stale[src] !== 0) {
        this.droppedStale++;
        return;
      }
      if (this.blocked[src] !== 0) {
        this.task.uncount(t);
        this.hold(t);
        return;
      }
      this.recv[src]++;
    }
    return this.inner.execute(t);
  }

  cleanup(): void {
    this.close();
    this.inner.cleanup?.();
  }

  declareOutputFields(declarer: OutputFieldsDeclarer): void {
    this.inner.declareOutputFields(declarer);
  }

  getComponentConfiguration(): TopologyConfig | null | undefined {
    return this.inner.getComponentConfiguration?.();
  }

  // ---- system tuples --------------------------------------------------------------------------

  /**
   * A system tuple for this task. Checkpoint tuples are handled here; another stream's (a
   * watermark) is held or dropped with its channel's data, so it stays in order. True when it
   * was taken care of; false: deliver it to its handler.
   */
  onSystemTuple(t: TupleImpl): boolean {
    const src = t.sourceTask;
    if (t.sourceStreamId !== CHECKPOINT_STREAM_ID) {
      if (src <= 0 || this.fast) return false;
      if (this.stale[src] !== 0) return true;
      if (this.blocked[src] !== 0) {
        this.hold(t);
        return true;
      }
      return false;
    }
    const v = t.values;
    if (v[BarrierField.Action] === ROLLBACK) {
      this.onMarker(src, v[BarrierField.Epoch] as number, v[BarrierField.Txid] as number);
      return true;
    }
    if (v[BarrierField.Action] !== BARRIER || this.stale[src] !== 0) return true;
    // a later barrier from a channel already blocked waits behind that channel's held data
    if (this.blocked[src] !== 0) this.hold(t);
    else this.onBarrier(src, v[BarrierField.Txid] as number, v[BarrierField.Epoch] as number, v[BarrierField.Count] as number, v[BarrierField.Committed] as number);
    return true;
  }

  /** A rollback marker: the channel's sender runs in `epoch` from here on (its count restarts). */
  private onMarker(src: number, epoch: number, committedTxid: number): void {
    if (epoch > this.epoch) this.recover(epoch, committedTxid);
    if (epoch !== this.epoch) return;
    this.recv[src] = 0;
    if (this.stale[src] !== 0) {
      this.stale[src] = 0;
      this.staleCount--;
      this.updateFast();
    }
  }

  private onBarrier(src: number, txid: number, epoch: number, count: number, committedTxid: number): void {
    if (!this.ready || epoch !== this.epoch) return;
    const arrived = this.recv[src];
    this.recv[src] = 0;
    if (this.counting && arrived !== count && txid > this.abortedTxid) {
      this.abortAlignment(txid, FailReason.TuplesLost);
      return;
    }
    if (committedTxid > this.barrierCommitted) this.barrierCommitted = committedTxid;
    if (committedTxid > this.committed) this.commit(committedTxid);
    if (txid <= this.prepared || txid <= this.abortedTxid) return;
    if (this.aligning !== txid) {
      if (this.aligning !== 0) this.abortAlignment(this.aligning, null);
      this.aligning = txid;
      this.alignStartMs = this.host.clock.now();
    }
    this.blocked[src] = 1;
    this.blockedCount++;
    this.fast = false;
    if (this.blockedCount >= this.inputs.length) this.aligned();
  }

  /** Trigger from the coordinator, for a bolt without inputs (it is a source of barriers). */
  onTrigger(txid: number, epoch: number, committedTxid: number): void {
    if (!this.ready || epoch !== this.epoch || !this.isSource) return;
    if (committedTxid > this.committed) this.commit(committedTxid);
    this.barrierCommitted = Math.max(this.barrierCommitted, committedTxid);
    if (txid <= this.prepared) return;
    this.aligning = txid;
    this.alignStartMs = this.host.clock.now();
    this.aligned();
  }

  private aligned(): void {
    const txid = this.aligning;
    this.stats.alignmentMs = this.host.clock.now() - this.alignStartMs;
    const task = this.task as unknown as AsyncTask;
    if (typeof task.inFlight === 'function' && task.inFlight() > 0 && typeof task.onDrained === 'function') {
      // the snapshot must include what async executions in flight will still do
      const key = { aligned: txid };
      this.pause.hold(key);
      const epoch = this.epoch;
      task.onDrained(() => {
        if (this.pause.release(key)) this.host.wake();
        if (this.epoch === epoch && this.aligning === txid) this.snapshot(txid);
      });
      return;
    }
    this.snapshot(txid);
  }

  private snapshot(txid: number): void {
    this.aligning = 0;
    this.unblockAll();
    const started = this.host.clock.now();
    const stateful = this.stateful;
    this.prepareTxn(txid, () => (stateful !== null && this.state !== null ? stateful.snapshot(txid, this.state) : undefined), started);
    const epoch = this.epoch;
    const committed = this.barrierCommitted;
    this.host.forward(this.task, (count) => [BARRIER, txid, epoch, count, committed]);
    this.startRelease();
  }

  private hold(t: TupleImpl): void {
    this.held.push(t);
    this.stats.heldTuples = this.held.size;
    if (this.held.size > this.heldMax && this.aligning !== 0) this.abortAlignment(this.aligning, FailReason.AlignmentOverflow);
  }

  /** Gives up aligning `txid` (the coordinator aborts it when a reason is given) and releases. */
  private abortAlignment(txid: number, reason: FailReason | null): void {
    if (txid > this.abortedTxid) this.abortedTxid = txid;
    if (this.aligning === txid) this.aligning = 0;
    this.unblockAll();
    if (reason !== null) this.failCheckpoint(txid, reason);
    this.startRelease();
  }

  private unblockAll(): void {
    if (this.blockedCount > 0) for (const i of this.inputs) this.blocked[i] = 0;
    this.blockedCount = 0;
  }

  private updateFast(): void {
    this.fast = this.ready && this.staleCount === 0 && this.blockedCount === 0 && !this.held.releasing && this.held.size === 0;
  }

  // ---- releasing held tuples ------------------------------------------------------------------

  private startRelease(): void {
    if (this.held.startRelease()) {
      this.pause.hold(this.releaseKey);
      this.host.releasing(this);
    }
    this.updateFast();
  }

  /** Runs up to `budget` held tuples (see HeldTuples); true when the release is over. */
  drainHeld(budget: number): boolean {
    if (!this.held.releasing) return true;
    const done = this.held.drain(
      budget,
      () => this.canDrain(),
      (src) => this.blocked[src] !== 0,
      (t) => this.replay(t),
    );
    this.stats.heldTuples = this.held.size;
    if (!done || this.held.releasing) return false;
    if (this.pause.release(this.releaseKey)) this.host.wake();
    this.updateFast();
    return true;
  }

  /** Whether a held tuple can run now: the queues the task feeds have room, and so does its in-flight limit. */
  canDrain(): boolean {
    const d = this.downstream;
    for (let i = 0; i < d.length; i++) if (d[i].isFull()) return false;
    const task = this.task as unknown as AsyncTask;
    return task.inflight === undefined || task.admitLimit === undefined || task.inflight < task.admitLimit;
  }

  private replay(t: TupleImpl): void {
    const si = t.streamIndex;
    if (si >= this.systemStart && si < this.tickIndex) {
      if (!this.onSystemTuple(t)) this.host.deliverSystem(this.task, t);
      return;
    }
    // through the task, so an async execution is tracked and the tuple counted once
    this.task.execute(t);
  }

  // ---- recovery -------------------------------------------------------------------------------

  protected fence(_epoch: number, _committedTxid: number, how: 'first' | 'rollback' | 'adopt'): void {
    this.aligning = 0;
    this.unblockAll();
    this.barrierCommitted = _committedTxid;
    if (how === 'adopt') {
      // at-most-once: nothing is dropped; what was held runs now
      this.startRelease();
      return;
    }
    if (how === 'rollback') this.stateful?.rollingBack();
    if (this.exactly) {
      // everything before each channel's rollback marker is pre-rollback: drop it
      this.dropHeld();
      for (const i of this.inputs) {
        this.stale[i] = 1;
        this.recv[i] = 0;
      }
      this.staleCount = this.inputs.length;
    }
    this.fast = false;
  }

  private dropHeld(): void {
    if (this.held.releasing && this.pause.release(this.releaseKey)) this.host.wake();
    this.droppedStale += this.held.dropAll();
    this.stats.heldTuples = 0;
  }

  protected whenQuiet(then: () => void): void {
    const task = this.task as unknown as AsyncTask;
    if (typeof task.inFlight === 'function' && task.inFlight() > 0 && typeof task.onDrained === 'function') task.onDrained(then);
    else then();
  }

  protected restored(_committedTxid: number, first: boolean): void {
    if (this.stateful === null || this.state === null) return;
    if (first) this.stateful.init(this.state);
    else this.stateful.rolledBack();
  }

  protected resumed(epoch: number, committedTxid: number): void {
    this.abortedTxid = 0;
    this.barrierCommitted = committedTxid;
    // exactly-once: everything sent before the marker is dropped downstream; at-least-once: the
    // marker restarts the channel's count (what was sent before it may or may not arrive)
    if (this.counting) this.host.forward(this.task, () => [ROLLBACK, committedTxid, epoch, 0, committedTxid]);
    this.startRelease();
  }

  protected committing(txid: number): unknown {
    return this.stateful !== null && this.state !== null ? this.stateful.committing(txid, this.state) : undefined;
  }

  protected committedDone(txid: number): void {
    this.stateful?.committed(txid);
  }

  private tupleFailed(): void {
    this.failCheckpoint(this.prepared + 1, FailReason.TupleFailed);
  }

  /** Acks waiting for a commit (at-least-once stateful bolts). */
  deferredAcks(): number {
    return this.stateful?.deferredAcks() ?? 0;
  }
}
