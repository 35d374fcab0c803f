import type { ProcessingGuarantee } from '../../topology-api';
import type { Clock, TimerHandle } from '../../common/clock';
import { describeError } from '../../common/errors';
import type { Logger } from '../../common/logging';
import type { Backpressured } from '../routing';
import { Ctl, FAIL_REASONS, FailReason } from './protocol';
import { whenSettled, type KeyValueLike, type StateRef } from './state-access';

/** Checkpoint figures of one task, for its executor's stats (ExecutorStats.checkpoint). */
export interface TaskCheckpointStats {
  /** Last txid this task prepared. */
  txid: number;
  /** Barrier aligned → snapshot durable, for that txid (ms). */
  durationMs: number;
  /** Bytes the snapshot wrote, when the backend says (0 otherwise). */
  sizeBytes: number;
  /** First barrier → last barrier of that txid (ms). */
  alignmentMs: number;
  /** Tuples held right now while aligning. */
  heldTuples: number;
  /** Checkpoints this task failed or saw aborted. */
  failed: number;
}

/**
 * Parks an executor while one of its tasks restores state, waits for async work, or releases
 * tuples it held: the executor's loop checks it with the queues it feeds, so its inbox simply
 * waits (bounded, with the usual backpressure upstream) and nothing is reordered.
 */
export class PauseGate implements Backpressured {
  private readonly holders = new Set<unknown>();
  isFull(): boolean {
    return this.holders.size > 0;
  }
  hold(by: unknown): void {
    this.holders.add(by);
  }
  release(by: unknown): boolean {
    return this.holders.delete(by) && this.holders.size === 0;
  }
}

/** What a participant needs from its worker's checkpoint runtime. */
export interface ParticipantHost {
  readonly guarantee: ProcessingGuarantee;
  readonly coordinatorTask: number;
  readonly clock: Clock;
  readonly logger: Logger;
  readonly retryMs: number;
  /** Sends a control record (protocol.ts) to a task, local or remote. */
  control(kind: Ctl, dest: number, a: number, b: number, c: number, from: number): void;
  /** Opens a task's state from the configured provider. */
  openState(ref: StateRef): Promise<KeyValueLike>;
  /** A new random instance id in [1, 2^31). */
  instanceId(): number;
  wake(): void;
  reportError(component: string, task: number, err: unknown): void;
}

/**
 * One task's side of the protocol, common to spouts and bolts: its epoch, its state's two-phase
 * commit, and recovery. State calls run one after another on a promise chain (never one per
 * tuple: a few per checkpoint), except `prepareCommit`, which is called at the barrier itself so
 * the snapshot holds exactly what came before it.
 */
export abstract class Participant {
  /** 0 until the coordinator's first Recover (or a rollback marker) reaches this instance. */
  epoch = 0;
  /** Restored and running in `epoch`. */
  ready = false;
  readonly instance: number;
  state: KeyValueLike | null = null;
  /** Highest txid committed here, and prepared here. */
  committed = 0;
  prepared = 0;
  /** Highest txid whose snapshot is durable (Prepared was sent). */
  preparedDurable = 0;
  readonly stats: TaskCheckpointStats = { txid: 0, durationMs: 0, sizeBytes: 0, alignmentMs: 0, heldTuples: 0, failed: 0 };
  /** State calls in order. */
  private ops: Promise<unknown> = Promise.resolve();
  private restoring = false;
  /** This instance restored a checkpoint once (initState ran). */
  private restoredOnce = false;
  private helloTimer: TimerHandle | null = null;
  protected closed = false;

  constructor(
    readonly taskId: number,
    readonly component: string,
    protected readonly stateRef: StateRef,
    protected readonly host: ParticipantHost,
    protected readonly pause: PauseGate,
  ) {
    this.instance = host.instanceId();
    // nothing runs before the coordinator says which checkpoint to restore
    this.pause.hold(this);
  }

  /** Whether this task keeps state of its own (its snapshot is written by the backend). */
  protected abstract hasState(): boolean;

  /** Announces this instance until a Recover arrives (it may start before the coordinator's worker). */
  start(): void {
    this.hello();
    this.helloTimer = this.host.clock.setInterval(() => {
      if (this.epoch === 0) this.hello();
      else this.stopHello();
    }, this.host.retryMs);
  }

  private hello(): void {
    this.host.control(Ctl.Hello, this.host.coordinatorTask, this.instance, 0, 0, this.taskId);
  }

  private stopHello(): void {
    if (this.helloTimer !== null) this.host.clock.clear(this.helloTimer);
    this.helloTimer = null;
  }

  /** Queues a state call after the previous ones. */
  protected chain(step: () => unknown): Promise<unknown> {
    const next = this.ops.then(() => whenSettled(step()));
    this.ops = next.catch(() => undefined);
    return next;
  }

  /** Adds a call already made (prepareCommit) to the chain, so later calls wait for it. */
  protected chainMade(result: Promise<unknown>): void {
    const prev = this.ops;
    this.ops = Promise.all([prev, result]).catch(() => undefined);
  }

  // ---- recovery -----------------------------------------------------------------------------

  /**
   * Recover(epoch, committed) from the coordinator, or a rollback marker with a newer epoch: stop
   * processing, restore the committed checkpoint (commit it if it was only prepared here, drop
   * anything newer), then run again in the new epoch. Idempotent per epoch.
   */
  recover(epoch: number, committedTxid: number): void {
    if (this.closed) return;
    if (epoch < this.epoch) {
      // a coordinator behind us (its record was lost): tell it where we are, so it catches up
      if (this.ready) this.sendReady();
      return;
    }
    if (epoch === this.epoch) {
      if (this.ready) this.sendReady();
      else if (!this.restoring) this.restore(epoch, committedTxid);
      return;
    }
    this.epoch = epoch;
    this.stopHello();
    if (this.restoredOnce && this.host.guarantee === 'at-most-once') {
      // at-most-once rolls nothing back that runs: a running task keeps its state (a later
      // checkpoint stages everything since its last commit) and only joins the epoch
      this.fence(epoch, committedTxid, 'adopt');
      this.prepared = committedTxid;
      this.preparedDurable = committedTxid;
      this.sendReady();
      return;
    }
    this.ready = false;
    this.pause.hold(this);
    this.fence(epoch, committedTxid, this.restoredOnce ? 'rollback' : 'first');
    this.restore(epoch, committedTxid);
  }

  private restore(epoch: number, committedTxid: number): void {
    const first = !this.restoredOnce;
    this.restoring = true;
    this.whenQuiet(() => {
      this.chain(async () => {
        if (this.hasState()) {
          this.state ??= await this.host.openState(this.stateRef);
          if (committedTxid > 0) await whenSettled(this.state.commit(committedTxid));
          await whenSettled(this.state.rollback());
        }
        await this.restored(committedTxid, first);
      }).then(
        () => {
          if (this.epoch !== epoch) return; // a newer recovery is queued behind this one
          this.restoring = false;
          this.committed = Math.max(this.committed, committedTxid);
          this.prepared = committedTxid;
          this.preparedDurable = committedTxid;
          this.restoredOnce = true;
          this.ready = true;
          this.resumed(epoch, committedTxid);
          this.sendReady();
          if (this.pause.release(this)) this.host.wake();
        },
        (err: unknown) => {
          // the coordinator sends Recover again until this task is ready (a backend outage)
          this.restoring = false;
          this.host.logger.warn({ task: this.taskId, component: this.component, err: describeError(err) }, 'restoring the checkpoint failed; retrying on the next Recover');
          this.host.reportError(this.component, this.taskId, err);
        },
      );
    });
  }

  private sendReady(): void {
    this.host.control(Ctl.Ready, this.host.coordinatorTask, this.instance, this.epoch, this.committed, this.taskId);
  }

  /**
   * Synchronous part of a recovery: `first` (this instance starts), `rollback` (a running task
   * restores the last checkpoint: drop pre-rollback work, fence inputs), `adopt` (at-most-once:
   * a running task only gives up the checkpoint in progress).
   */
  protected abstract fence(epoch: number, committedTxid: number, how: 'first' | 'rollback' | 'adopt'): void;
  /** Runs `then` once no async work of the task is in flight (bolts with async executions). */
  protected whenQuiet(then: () => void): void {
    then();
  }
  /** After the state is back at `committedTxid`: initState, seek, fail deferred acks. */
  protected abstract restored(committedTxid: number, first: boolean): Promise<void> | void;
  /** Running again in `epoch`: send rollback markers downstream (exactly-once). */
  protected abstract resumed(epoch: number, committedTxid: number): void;

  // ---- two-phase commit -----------------------------------------------------------------------

  /**
   * Snapshot for `txid` (synchronous capture), then Prepared to the coordinator once durable.
   * `capture` runs the user's prePrepare hook and prepareCommit; its result settles when written.
   */
  protected prepareTxn(txid: number, capture: () => unknown, startedMs: number): void {
    this.prepared = txid;
    this.stats.txid = txid;
    const epoch = this.epoch;
    let result: unknown;
    try {
      result = capture();
    } catch (err) {
      this.failCheckpoint(txid, FailReason.StateError, err);
      return;
    }
    const written = whenSettled(result);
    this.chainMade(written);
    written.then(
      (size) => {
        if (this.epoch !== epoch || this.closed) return;
        this.stats.durationMs = this.host.clock.now() - startedMs;
        this.stats.sizeBytes = typeof size === 'number' ? size : this.snapshotBytes();
        this.preparedDurable = txid;
        this.host.control(Ctl.Prepared, this.host.coordinatorTask, txid, epoch, 0, this.taskId);
      },
      (err: unknown) => {
        if (this.epoch === epoch) this.failCheckpoint(txid, FailReason.StateError, err);
      },
    );
  }

  /** What the backend says its last prepareCommit wrote (ManagedState.checkpointStats), else 0. */
  private snapshotBytes(): number {
    const stats = (this.state as { checkpointStats?: () => { sizeBytes?: number } } | null)?.checkpointStats?.();
    return typeof stats?.sizeBytes === 'number' ? stats.sizeBytes : 0;
  }

  /** Commit(txid) from the coordinator, or the committed txid a later barrier carries. */
  commit(txid: number): void {
    if (this.closed || !this.ready || txid <= this.committed || txid > this.prepared) return;
    this.committed = txid;
    this.chain(() => this.committing(txid)).then(
      () => this.committedDone(txid),
      (err: unknown) => {
        // the decision is durable at the coordinator: a restarted task commits it on recovery
        this.host.logger.warn({ task: this.taskId, txid, err: describeError(err) }, 'commit failed');
        this.host.reportError(this.component, this.taskId, err);
      },
    );
  }

  /** The user's preCommit hook and the state's commit. */
  protected committing(txid: number): unknown {
    return this.state?.commit(txid);
  }

  /** After the commit is durable (deferred acks are sent). */
  protected committedDone(_txid: number): void {}

  /** Tells the coordinator this task cannot complete `txid` (it aborts and rolls back). */
  failCheckpoint(txid: number, reason: FailReason, err?: unknown): void {
    this.stats.failed++;
    this.host.logger.warn({ task: this.taskId, component: this.component, txid, reason: FAIL_REASONS[reason], err: err === undefined ? undefined : describeError(err) }, 'checkpoint failed here');
    this.host.control(Ctl.Failed, this.host.coordinatorTask, Math.max(1, txid), this.epoch, reason, this.taskId);
  }

  close(): void {
    this.closed = true;
    this.stopHello();
  }
}
