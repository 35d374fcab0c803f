import { isTwoPhaseCommitSink, type IBolt, type IComponent, type MaybePromise, type OutputCollector, type OutputFieldsDeclarer, type TopologyConfig, type TopologyContext, type Tuple, type TupleImpl } from '../../topology-api';
import { whenSettled, type CheckpointedState } from './state-access';

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
 * The collector a bolt of a checkpointed topology is prepared with, in front of its task.
 *
 * - `deferAcks` (a stateful bolt under at-least-once, as Storm's StatefulBoltExecutor): an input
 *   acked by the bolt is acked to the acker only once the checkpoint holding its effect on the
 *   state commits; a rollback fails it instead, so its spout tuple is replayed against the
 *   restored state. Untracked inputs are acked at once.
 * - `onFail` (exactly-once): a failed input cannot be replayed alone without counting it twice,
 *   so it rolls the topology back to the last checkpoint (Trident's answer).
 */
export class CheckpointCollector implements OutputCollector {
  /** Inputs acked since the last barrier. */
  private acked: Tuple[] = [];
  /** Inputs acked before each prepared, not yet committed, txid. */
  private readonly prepared = new Map<number, Tuple[]>();

  constructor(
    private readonly out: OutputCollector,
    private readonly deferAcks: boolean,
    private readonly onFail: (() => void) | null,
  ) {}

  emit(values: unknown[], anchors?: Tuple | readonly Tuple[] | null, streamId?: string): number[] {
    return this.out.emit(values, anchors, streamId);
  }
  emitDirect(taskId: number, values: unknown[], anchors?: Tuple | readonly Tuple[] | null, streamId?: string): void {
    this.out.emitDirect(taskId, values, anchors, streamId);
  }
  ack(input: Tuple): void {
    if (this.deferAcks && (input as TupleImpl).root0 !== 0) this.acked.push(input);
    else this.out.ack(input);
  }
  fail(input: Tuple): void {
    this.out.fail(input);
    this.onFail?.();
  }
  resetTimeout(input: Tuple): void {
    this.out.resetTimeout(input);
  }
  reportError(error: unknown): void {
    this.out.reportError(error);
  }

  /** The barrier of `txid`: what was acked so far waits for its commit. */
  prepare(txid: number): void {
    if (this.acked.length === 0) return;
    this.prepared.set(txid, this.acked);
    this.acked = [];
  }

  /** `txid` committed: ack everything acked before its barrier (and before older ones). */
  committed(txid: number): void {
    for (const [t, inputs] of this.prepared) {
      if (t > txid) continue;
      this.prepared.delete(t);
      for (const input of inputs) this.out.ack(input);
    }
  }

  /** Rolled back: nothing acked since the last commit counts; fail it so it is replayed. */
  rolledBack(): void {
    for (const inputs of this.prepared.values()) for (const input of inputs) this.out.fail(input);
    this.prepared.clear();
    const acked = this.acked;
    this.acked = [];
    for (const input of acked) this.out.fail(input);
  }

  /** Acks waiting for a commit (tests, stats). */
  deferredCount(): number {
    let n = this.acked.length;
    for (const inputs of this.prepared.values()) n += inputs.length;
    return n;
  }
}

/**
 * Runs a stateful bolt as a plain IBolt (as Storm's StatefulBoltExecutor): `prepare` as usual,
 * `initState(state)` once the checkpoint to resume from is restored (before the first tuple),
 * and Storm's hooks around the two phases: `prePrepare(txid)` before the snapshot,
 * `preCommit(txid)` before the commit, `preRollback()` before a rollback.
 */
export class StatefulBoltExecutor implements IBolt {
  private collector: CheckpointCollector | null = null;
  private initialized = false;
  private readonly sink: boolean;

  constructor(
    readonly bolt: StatefulBoltLike,
    private readonly deferAcks: boolean,
    private readonly onFail: (() => void) | null,
  ) {
    this.sink = isTwoPhaseCommitSink(bolt);
  }

  prepare(conf: Readonly<TopologyConfig>, context: TopologyContext, collector: OutputCollector): void {
    this.collector = new CheckpointCollector(collector, this.deferAcks, this.onFail);
    this.bolt.prepare(conf, context, this.collector);
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
    this.collector?.prepare(txid);
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
    this.collector?.committed(txid);
  }

  /** After the state rolled back (not on first initialization): a windowed bolt's windows follow it. */
  rolledBack(): void {
    (this.bolt as { rolledBack?: () => void }).rolledBack?.();
  }

  /** Before the state rolls back (not on first initialization). */
  rollingBack(): void {
    if (!this.initialized) return;
    this.bolt.preRollback?.();
    this.collector?.rolledBack();
  }

  deferredAcks(): number {
    return this.collector?.deferredCount() ?? 0;
  }
}
