import { isTwoPhaseCommitSink, type IBolt, type IComponent, type MaybePromise, type OutputCollector, type OutputFieldsDeclarer, type TopologyConfig, type TopologyContext, type Tuple } from '../../topology-api';
import { whenSettled, type CheckpointedState } from './state-access';
import type { DeferredAcks } from './deferred-acks';

/** Storm's IStatefulBolt, duck-typed (a bundle carries its own copy of the API). */
export interface StatefulBoltLike extends IComponent {
  prepare(conf: Readonly<TopologyConfig>, context: TopologyContext, collector: OutputCollector): void;
  execute(input: Tuple): MaybePromise;
  initState(state: unknown): void;
  prePrepare?(txid: number): unknown;
  preCommit?(txid: number): unknown;
  preRollback?(): void;
  /** Two-phase-commit sinks (topology-api/sinks.ts), in place of prePrepare and preCommit. */
  snapshotState?(txid: number): MaybePromise;
  notifyCheckpointComplete?(txid: number): MaybePromise;
  cleanup?(): void;
}

/**
 * The collector a bolt of an exactly-once topology is prepared with: a failed input cannot be
 * replayed alone without counting it twice, so it rolls the topology back to the last checkpoint
 * (Trident's answer). Everything else goes straight to the task.
 */
export class FailReportingCollector implements OutputCollector {
  constructor(
    private readonly out: OutputCollector,
    private readonly onFail: () => void,
  ) {}

  emit(values: unknown[], anchors?: Tuple | readonly Tuple[] | null, streamId?: string): number[] {
    return this.out.emit(values, anchors, streamId);
  }
  emitDirect(taskId: number, values: unknown[], anchors?: Tuple | readonly Tuple[] | null, streamId?: string): void {
    this.out.emitDirect(taskId, values, anchors, streamId);
  }
  ack(input: Tuple): void {
    this.out.ack(input);
  }
  fail(input: Tuple): void {
    this.out.fail(input);
    this.onFail();
  }
  resetTimeout(input: Tuple): void {
    this.out.resetTimeout(input);
  }
  reportError(error: unknown): void {
    this.out.reportError(error);
  }
}

/**
 * Runs a stateful bolt as a plain IBolt (as Storm's StatefulBoltExecutor): `prepare` as usual,
 * `initState(state)` once the checkpoint to resume from is restored (before the first tuple),
 * and Storm's hooks around the two phases: `prePrepare(txid)` before the snapshot,
 * `preCommit(txid)` before the commit, `preRollback()` before a rollback.
 */
export class StatefulBoltExecutor implements IBolt {
  private initialized = false;
  private readonly sink: boolean;

  constructor(
    readonly bolt: StatefulBoltLike,
    /** at-least-once: the task's acks, held until their checkpoint commits (Storm's rule). */
    private readonly deferred: DeferredAcks | null,
    private readonly onFail: (() => void) | null,
  ) {
    this.sink = isTwoPhaseCommitSink(bolt);
  }

  prepare(conf: Readonly<TopologyConfig>, context: TopologyContext, collector: OutputCollector): void {
    this.bolt.prepare(conf, context, this.onFail === null ? collector : new FailReportingCollector(collector, this.onFail));
  }

  execute(input: Tuple): MaybePromise {
    return this.bolt.execute(input);
  }

  cleanup(): void {
    this.bolt.cleanup?.();
  }

  declareOutputFields(declarer: OutputFieldsDeclarer): void {
    this.bolt.declareOutputFields(declarer);
  }

  getComponentConfiguration(): TopologyConfig | null | undefined {
    return this.bolt.getComponentConfiguration?.();
  }

  /** The checkpoint to resume from is restored: hand the state over (once). */
  init(state: CheckpointedState): void {
    if (this.initialized) return;
    this.initialized = true;
    this.bolt.initState(state);
  }

  /**
   * Barrier of `txid`, aligned: prePrepare, then the state's prepareCommit. The result settles
   * when the snapshot is durable and, when the hook returned a promise (a sink's pre-commit),
   * when that settled too.
   */
  snapshot(txid: number, state: CheckpointedState): unknown {
    const hook = this.sink ? this.bolt.snapshotState!(txid) : this.bolt.prePrepare?.(txid);
    this.deferred?.prepare(txid);
    const written = state.prepareCommit(txid);
    if (hook === undefined || hook === null || typeof (hook as PromiseLike<void>).then !== 'function') return written;
    return Promise.all([whenSettled(hook), whenSettled(written)]).then(([, size]) => size);
  }

  /** Commit of `txid`: preCommit (a sink commits its transactions), then the state's commit. */
  committing(txid: number, state: CheckpointedState): unknown {
    const hook = this.sink ? this.bolt.notifyCheckpointComplete!(txid) : this.bolt.preCommit?.(txid);
    // the decision is durable: the state commits even if the hook failed (a sink retries its
    // transactions' commit at the next checkpoint); the hook's error is reported after
    return whenSettled(hook).then(
      () => state.commit(txid),
      (err: unknown) =>
        whenSettled(state.commit(txid)).then(() => {
          throw err;
        }),
    );
  }

  committed(txid: number): void {
    this.deferred?.committed(txid);
  }

  /** After the state rolled back (not on first initialization): a windowed bolt's windows follow it. */
  rolledBack(): void {
    (this.bolt as { rolledBack?: () => void }).rolledBack?.();
  }

  /** Before the state rolls back (not on first initialization). */
  rollingBack(): void {
    if (!this.initialized) return;
    this.bolt.preRollback?.();
    this.deferred?.rolledBack();
  }

  deferredAcks(): number {
    return this.deferred?.count() ?? 0;
  }
}
