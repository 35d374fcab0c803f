/**
 * End-to-end exactly-once to external systems (docs/state.md, "Sinks"): a base class for
 * two-phase-commit sinks, with Flink's names, and one for idempotent sinks. Both are stateful
 * bolts: the runtime drives them at checkpoint barriers.
 */
import type { TopologyConfig } from './config';
import type { MaybePromise, OutputCollector, OutputFieldsDeclarer, TopologyContext } from './components';
import type { KeyValueState } from './state/state';
import { STATEFUL_BOLT_MARK } from './state/stateful-bolt';
import type { Tuple } from './tuple';

/**
 * Marks a two-phase-commit sink: the runtime calls its `snapshotState(txid)` at the barrier and
 * `notifyCheckpointComplete(txid)` at the commit (Flink's names) instead of Storm's `prePrepare`
 * and `preCommit` hooks, whose name `preCommit` the sink uses for Flink's transaction step.
 */
export const TWO_PHASE_COMMIT_MARK = 'squall.twoPhaseCommitSink';

export function isTwoPhaseCommitSink(bolt: unknown): bolt is TwoPhaseCommitSinkBolt<unknown> {
  return typeof bolt === 'object' && bolt !== null && (bolt as Record<string, unknown>)[TWO_PHASE_COMMIT_MARK] === true;
}

/** What a two-phase-commit sink keeps in its checkpointed state. */
interface TwoPhaseRecord<TXN> {
  /** Transactions pre-committed at a checkpoint (by txid) and not yet known committed. */
  pending: Array<[number, TXN]>;
  /** The transaction open when the checkpoint was taken (its contents come after it). */
  current: TXN | null;
}

const RECORD_KEY = '__twoPhaseCommit';

function isThenable(x: unknown): x is PromiseLike<unknown> {
  return x !== null && (typeof x === 'object' || typeof x === 'function') && typeof (x as { then?: unknown }).then === 'function';
}

/** Runs `b` after `a`, synchronously when `a` is not a promise. */
function then(a: unknown, b: () => MaybePromise): MaybePromise {
  return isThenable(a) ? Promise.resolve(a).then(b) : b();
}

/**
 * Flink's TwoPhaseCommitSinkFunction as a bolt. Every input goes into the open transaction
 * (`invoke`). At a checkpoint barrier the open transaction is pre-committed (`preCommit`: flushed,
 * made ready to commit, e.g. PostgreSQL's PREPARE TRANSACTION) and recorded in the checkpoint, and
 * a new one begins; once every task has prepared that checkpoint, it is committed (`commit`). A
 * rollback aborts (`abort`) the open transaction and those pre-committed for a checkpoint that
 * did not complete. After a crash, the restored checkpoint lists the transactions pre-committed
 * before it: they are committed (`recoverAndCommit`), and the one that was open is aborted
 * (`recoverAndAbort`). So every input reaches the external system exactly once, visible when its
 * checkpoint completes: end-to-end latency is up to one checkpoint interval plus the checkpoint.
 *
 * - `beginTransaction()` returns the transaction's handle synchronously, as plain data (it is
 *   stored in the checkpoint: an id, a file name): open connections lazily in `invoke`.
 * - `invoke`, `preCommit`, `commit` and `abort` may return promises; an input is acked when its
 *   `invoke` settles (after the checkpoint commits, under at-least-once).
 * - `commit` must be idempotent (after a crash a transaction may be committed again), and must
 *   succeed for a pre-committed transaction (retried until it does); `abort` of an unknown or
 *   already aborted transaction must succeed.
 */
export abstract class TwoPhaseCommitSinkBolt<TXN> {
  readonly [STATEFUL_BOLT_MARK] = true;
  readonly [TWO_PHASE_COMMIT_MARK] = true;
  protected collector!: OutputCollector;
  private state!: KeyValueState<string, unknown>;
  private current: TXN | null = null;
  /** Pre-committed, not committed: by checkpoint txid. */
  private readonly pending = new Map<number, TXN>();
  /** Recovery after initState or a rollback, in progress: inputs wait for it. */
  private recovering: Promise<void> | null = null;
  private needsRecovery = false;

  abstract beginTransaction(): TXN;
  abstract invoke(transaction: TXN, input: Tuple): MaybePromise;
  abstract preCommit(transaction: TXN): MaybePromise;
  abstract commit(transaction: TXN): MaybePromise;
  abstract abort(transaction: TXN): MaybePromise;
  /** After a crash: a transaction pre-committed before the restored checkpoint. */
  recoverAndCommit(transaction: TXN): MaybePromise {
    return this.commit(transaction);
  }
  /** After a crash: the transaction that was open when the restored checkpoint was taken. */
  recoverAndAbort(transaction: TXN): MaybePromise {
    return this.abort(transaction);
  }

  prepare(_conf: Readonly<TopologyConfig>, _context: TopologyContext, collector: OutputCollector): void {
    this.collector = collector;
  }

  initState(state: KeyValueState<string, unknown>): void {
    this.state = state;
    this.needsRecovery = true;
  }

  /**
   * Commits what the restored checkpoint pre-committed, aborts what came after it, and opens a
   * new transaction. Runs before the first input after initState and after every rollback.
   */
  private recover(): MaybePromise {
    this.needsRecovery = false;
    const record = this.state.get(RECORD_KEY) as TwoPhaseRecord<TXN> | undefined;
    const restored = new Map(record?.pending ?? []);
    const steps: Array<() => MaybePromise> = [];
    for (const [txid, txn] of this.pending) if (!restored.has(txid)) steps.push(() => this.abort(txn));
    this.pending.clear();
    for (const txn of restored.values()) steps.push(() => this.recoverAndCommit(txn));
    if (record?.current != null) steps.push(() => this.recoverAndAbort(record.current as TXN));
    this.current = this.beginTransaction();
    this.save();
    let chain: unknown = undefined;
    for (const step of steps) chain = then(chain, step);
    if (!isThenable(chain)) return undefined;
    this.recovering = Promise.resolve(chain).then(() => {
      this.recovering = null;
    });
    return this.recovering;
  }

  private save(): void {
    const record: TwoPhaseRecord<TXN> = { pending: [...this.pending], current: this.current };
    this.state.put(RECORD_KEY, record);
  }

  execute(input: Tuple): MaybePromise {
    if (this.needsRecovery) this.recover();
    const run = (): MaybePromise => then(this.invoke(this.current as TXN, input), () => this.collector.ack(input));
    return this.recovering !== null ? this.recovering.then(run) : run();
  }

  /** The barrier (Flink's snapshotState): pre-commit the open transaction into this checkpoint, begin the next. */
  snapshotState(txid: number): MaybePromise {
    if (this.needsRecovery) this.recover();
    const run = (): MaybePromise => {
      const txn = this.current as TXN;
      this.pending.set(txid, txn);
      this.current = this.beginTransaction();
      this.save();
      return this.preCommit(txn);
    };
    // the record must be in this checkpoint: written now, even while a recovery completes
    if (this.recovering === null) return run();
    const txn = this.current as TXN;
    this.pending.set(txid, txn);
    this.current = this.beginTransaction();
    this.save();
    return this.recovering.then(() => this.preCommit(txn));
  }

  /** Every task prepared `txid` (Flink's notifyCheckpointComplete): commit what was pre-committed up to it. */
  notifyCheckpointComplete(txid: number): MaybePromise {
    let chain: unknown = this.recovering ?? undefined;
    for (const [t, txn] of [...this.pending]) {
      if (t > txid) continue;
      chain = then(chain, () => then(this.commit(txn), () => {
        this.pending.delete(t);
      }));
    }
    return then(chain, () => this.save());
  }

  declareOutputFields(_declarer: OutputFieldsDeclarer): void {}

  cleanup(): void {}

  getComponentConfiguration(): TopologyConfig | null {
    return null;
  }

  preRollback(): void {
    const current = this.current;
    this.current = null;
    if (current !== null) {
      const r = this.abort(current);
      if (isThenable(r)) Promise.resolve(r).catch((err: unknown) => this.collector.reportError(err));
    }
    this.needsRecovery = true;
  }
}

/**
 * A sink whose writes are keyed, so a replay overwrites instead of duplicating (an upsert by a
 * key derived from the input, e.g. the word of a word count, or an event id). Inputs are
 * buffered (the last value per key wins) and written with `write` at every checkpoint barrier,
 * or earlier when `maxBuffered` keys are waiting; the checkpoint is prepared once the write
 * settled. With exactly-once state upstream, the external system converges to the same values
 * whatever was replayed; under at-least-once, the key makes duplicates harmless.
 */
export abstract class IdempotentSinkBolt<K, V> {
  readonly [STATEFUL_BOLT_MARK] = true;
  protected collector!: OutputCollector;
  private buffer = new Map<K, V>();
  private writing: Promise<unknown> = Promise.resolve();

  constructor(private readonly maxBuffered = 10_000) {}

  /** The key an input writes (a replay of it must give the same key). */
  abstract keyOf(input: Tuple): K;
  abstract valueOf(input: Tuple): V;
  /** Writes (upserts) these entries; called one batch at a time. */
  abstract write(entries: ReadonlyArray<[K, V]>): MaybePromise;

  prepare(_conf: Readonly<TopologyConfig>, _context: TopologyContext, collector: OutputCollector): void {
    this.collector = collector;
  }

  initState(_state: unknown): void {}

  execute(input: Tuple): MaybePromise {
    this.buffer.set(this.keyOf(input), this.valueOf(input));
    this.collector.ack(input);
    if (this.buffer.size >= this.maxBuffered) return this.flush().then(() => undefined);
    return undefined;
  }

  private flush(): Promise<unknown> {
    const entries = [...this.buffer];
    this.buffer = new Map();
    // a failed write fails its checkpoint (the topology rolls back and the inputs are replayed);
    // the next write does not wait on it
    const done = this.writing.catch(() => undefined).then(() => (entries.length > 0 ? this.write(entries) : undefined));
    this.writing = done;
    return done;
  }

  /** The barrier: everything buffered is written before the checkpoint counts as prepared. */
  prePrepare(_txid: number): MaybePromise {
    return this.flush().then(() => undefined);
  }

  preCommit(_txid: number): void {}

  /** A rollback: what was buffered since the last checkpoint is replayed, so drop it. */
  preRollback(): void {
    this.buffer = new Map();
  }

  declareOutputFields(_declarer: OutputFieldsDeclarer): void {}

  cleanup(): void {}

  getComponentConfiguration(): TopologyConfig | null {
    return null;
  }
}
