import type { Clock, TimerHandle } from '../../common/clock';
import { describeError } from '../../common/errors';
import type { Logger } from '../../common/logging';
import { Ctl, FAIL_REASONS } from './protocol';

/** What the coordinator keeps durable: its 2PC log (one record, rewritten). */
export interface CoordinatorRecord {
  /** The current epoch: bumped (and saved) before every recovery, so no epoch is used twice. */
  epoch: number;
  /** The last checkpoint every task prepared: the commit decision. */
  committed: number;
}

export interface CoordinatorStore {
  load(): Promise<CoordinatorRecord | null>;
  save(record: CoordinatorRecord): Promise<void>;
}

export interface CoordinatorOptions {
  taskId: number;
  /** Every task that takes part: spouts and bolts. */
  participants: readonly number[];
  /** Tasks that start a checkpoint on Trigger: spouts and bolts without inputs. */
  sources: readonly number[];
  intervalMs: number;
  timeoutMs: number;
  /** Period of resending Recover and Trigger to tasks that did not answer. */
  retryMs: number;
  clock: Clock;
  store: CoordinatorStore;
  send(kind: Ctl, dest: number, a: number, b: number, c: number): void;
  logger: Logger;
}

export type CoordinatorPhase = 'loading' | 'recovering' | 'idle' | 'preparing' | 'committing' | 'closed';

/** The coordinator's own figures, for its executor's stats. */
export interface CoordinatorStats {
  phase: CoordinatorPhase;
  epoch: number;
  committed: number;
  /** Trigger → every task prepared → decision durable, of the last committed checkpoint (ms). */
  lastDurationMs: number;
  completed: number;
  aborted: number;
  recoveries: number;
  /** Recover sent → every task ready, of the last recovery (ms). */
  lastRecoveryMs: number;
}

/**
 * The checkpoint coordinator (Storm's CheckpointSpout; one task, `__checkpointspout`), a state
 * machine driven by control records and a timer:
 *
 *   loading ──▶ recovering(e) ──all Ready(e)──▶ idle ──interval──▶ preparing(n) ──all Prepared(n)──▶
 *   committing(n): save {committed: n} ──durable──▶ send Commit(n) to every task ──▶ idle
 *
 * A Failed(n), the timeout, or a task instance it has not seen running (a restarted worker)
 * aborts what is in progress: epoch+1 is saved, then every task gets Recover(epoch, committed)
 * and rolls back to the committed checkpoint. One checkpoint at a time. Lost messages are sent
 * again every retryMs (Recover to tasks not ready, Trigger to sources not prepared); a commit a
 * task missed reaches it with the next barrier or Recover. A save that fails (the state backend
 * is down) is retried: checkpoints are delayed, and nothing committed is lost.
 */
export class CheckpointCoordinator {
  private phase: CoordinatorPhase = 'loading';
  private record: CoordinatorRecord = { epoch: 0, committed: 0 };
  private readonly participants: readonly number[];
  private readonly sources: readonly number[];
  /** Tasks that answered in the current phase (Ready in recovering, Prepared in preparing). */
  private readonly answered = new Set<number>();
  /** Last instance seen running per task. */
  private readonly instances = new Map<number, number>();
  private txid = 0;
  private phaseStartMs = 0;
  private nextDueMs = 0;
  private lastRetryMs = 0;
  private recoverPending = false;
  private saving = false;
  private timer: TimerHandle | null = null;
  private readonly statsOut: CoordinatorStats = { phase: 'loading', epoch: 0, committed: 0, lastDurationMs: 0, completed: 0, aborted: 0, recoveries: 0, lastRecoveryMs: 0 };

  constructor(private readonly opts: CoordinatorOptions) {
    this.participants = [...opts.participants];
    this.sources = [...opts.sources];
  }

  start(): void {
    const period = Math.max(5, Math.min(this.opts.intervalMs, this.opts.retryMs) / 2);
    this.timer = this.opts.clock.setInterval(() => this.tick(), period);
    this.load();
  }

  private load(): void {
    this.opts.store.load().then(
      (record) => {
        if (this.phase === 'closed') return;
        if (record) this.record = { epoch: record.epoch, committed: record.committed };
        this.opts.logger.info({ epoch: this.record.epoch, committed: this.record.committed }, 'checkpoint coordinator loaded');
        this.startRecovery('coordinator started');
      },
      (err: unknown) => {
        this.opts.logger.warn({ err: describeError(err) }, 'cannot load the checkpoint record; retrying');
        this.phaseStartMs = this.opts.clock.now();
        this.recoverPending = true; // tick() retries the load
      },
    );
  }

  /** Saves epoch+1, then sends Recover(epoch, committed) to every task. */
  private startRecovery(why: string): void {
    if (this.phase === 'closed') return;
    if (this.saving) {
      this.recoverPending = true;
      return;
    }
    this.recoverPending = false;
    if (this.phase === 'preparing') this.statsOut.aborted++;
    const next = { epoch: this.record.epoch + 1, committed: this.record.committed };
    this.phase = 'recovering';
    this.answered.clear();
    this.save(next, () => {
      this.record = next;
      this.phaseStartMs = this.opts.clock.now();
      this.lastRetryMs = this.phaseStartMs;
      this.statsOut.recoveries++;
      this.opts.logger.info({ epoch: next.epoch, committed: next.committed, why }, 'rolling back to the last committed checkpoint');
      for (const t of this.participants) this.sendRecover(t);
    });
  }

  private sendRecover(task: number): void {
    this.opts.send(Ctl.Recover, task, this.record.epoch, this.record.committed, 0);
  }

  /** Saves a record; on failure retries every retryMs (a backend outage delays, loses nothing). */
  private save(record: CoordinatorRecord, then: () => void): void {
    this.saving = true;
    this.opts.store.save(record).then(
      () => {
        this.saving = false;
        if (this.phase === 'closed') return;
        then();
        if (this.recoverPending) this.startRecovery('a task restarted or failed while saving');
      },
      (err: unknown) => {
        if (this.phase === 'closed') return;
        this.opts.logger.warn({ err: describeError(err) }, 'cannot save the checkpoint record; retrying');
        const timer = this.opts.clock.setTimeout(() => {
          this.retryTimers.delete(timer);
          if (this.phase !== 'closed') {
            this.saving = false;
            this.save(record, then);
          }
        }, this.opts.retryMs);
        this.retryTimers.add(timer);
      },
    );
  }

  private readonly retryTimers = new Set<TimerHandle>();

  // ---- messages -------------------------------------------------------------------------------

  /** A control record for the coordinator: kind, the sending task, and its three values. */
  handle(kind: number, from: number, a: number, b: number, c: number): void {
    if (this.phase === 'closed') return;
    switch (kind) {
      case Ctl.Hello:
        this.onHello(from, a);
        return;
      case Ctl.Ready:
        this.onReady(from, a, b, c);
        return;
      case Ctl.Prepared:
        this.onPrepared(from, a, b);
        return;
      case Ctl.Failed:
        if (b !== this.record.epoch) return;
        // also while recovering, from a task that has restored already (answered Ready) and then
        // failed an input: the others may not have answered yet, but that input's effect is lost
        if (this.phase === 'preparing' || this.phase === 'idle' || this.phase === 'committing' || (this.phase === 'recovering' && this.answered.has(from))) {
          this.opts.logger.warn({ task: from, txid: a, reason: FAIL_REASONS[c] ?? c }, 'a task failed the checkpoint');
          this.startRecovery(`task ${from}: ${FAIL_REASONS[c] ?? 'failed'}`);
        }
        return;
      default:
    }
  }

  private onHello(task: number, instance: number): void {
    const known = this.instances.get(task);
    if (known === instance) {
      // it has not heard our Recover yet
      if (this.phase === 'recovering' && !this.answered.has(task) && !this.saving) this.sendRecover(task);
      return;
    }
    this.instances.set(task, instance);
    if (known === undefined && (this.phase === 'recovering' || this.phase === 'loading')) {
      // a first instance, during the start-up recovery: it joins this epoch
      if (this.phase === 'recovering' && !this.saving) this.sendRecover(task);
      return;
    }
    // a task restarted: what it had done since the last commit is gone, so everyone rolls back
    this.startRecovery(`task ${task} restarted`);
  }

  private onReady(task: number, instance: number, epoch: number, committed: number): void {
    if (epoch > this.record.epoch || committed > this.record.committed) {
      // a task is ahead of this coordinator's record (it was lost: a memory backend, or an
      // embedded one on another machine): adopt its epoch and txid, then recover past them
      if (this.saving) return;
      this.record = { epoch: Math.max(epoch, this.record.epoch), committed: Math.max(committed, this.record.committed) };
      this.txid = Math.max(this.txid, this.record.committed);
      this.startRecovery(`task ${task} is ahead of the checkpoint record (epoch ${epoch}, committed ${committed})`);
      return;
    }
    if (epoch !== this.record.epoch) return;
    const known = this.instances.get(task);
    if (known !== undefined && known !== instance) return; // an old instance's late answer
    this.instances.set(task, instance);
    if (this.phase !== 'recovering' || this.saving) return;
    this.answered.add(task);
    if (this.answered.size < this.participants.length) return;
    const now = this.opts.clock.now();
    this.statsOut.lastRecoveryMs = now - this.phaseStartMs;
    this.phase = 'idle';
    this.answered.clear();
    this.nextDueMs = now + this.opts.intervalMs;
    this.opts.logger.info({ epoch, ms: this.statsOut.lastRecoveryMs }, 'every task restored the committed checkpoint');
  }

  private onPrepared(task: number, txid: number, epoch: number): void {
    if (this.phase !== 'preparing' || txid !== this.txid || epoch !== this.record.epoch) return;
    this.answered.add(task);
    if (this.answered.size < this.participants.length) return;
    this.phase = 'committing';
    const next = { epoch: this.record.epoch, committed: txid };
    this.save(next, () => {
      this.record = next;
      const now = this.opts.clock.now();
      this.statsOut.lastDurationMs = now - this.phaseStartMs;
      this.statsOut.completed++;
      for (const t of this.participants) this.opts.send(Ctl.Commit, t, txid, next.epoch, 0);
      if (this.phase === 'committing') this.phase = 'idle';
    });
  }

  // ---- time -----------------------------------------------------------------------------------

  /** The timer: starts checkpoints, times them out, resends what was not answered. */
  tick(): void {
    const now = this.opts.clock.now();
    switch (this.phase) {
      case 'loading':
        if (this.recoverPending && now - this.phaseStartMs >= this.opts.retryMs) {
          this.recoverPending = false;
          this.load();
        }
        return;
      case 'recovering':
        if (!this.saving && now - this.lastRetryMs >= this.opts.retryMs) {
          this.lastRetryMs = now;
          for (const t of this.participants) if (!this.answered.has(t)) this.sendRecover(t);
        }
        return;
      case 'idle':
        if (now >= this.nextDueMs) this.trigger(now);
        return;
      case 'preparing':
        if (now - this.phaseStartMs >= this.opts.timeoutMs) {
          this.opts.logger.warn({ txid: this.txid, waitingFor: this.participants.filter((t) => !this.answered.has(t)) }, 'checkpoint timed out');
          this.startRecovery(`checkpoint ${this.txid} timed out`);
        } else if (now - this.lastRetryMs >= this.opts.retryMs) {
          this.lastRetryMs = now;
          for (const t of this.sources) if (!this.answered.has(t)) this.sendTrigger(t);
        }
        return;
      default:
    }
  }

  private trigger(now: number): void {
    this.txid = Math.max(this.txid, this.record.committed) + 1;
    this.phase = 'preparing';
    this.answered.clear();
    this.phaseStartMs = now;
    this.lastRetryMs = now;
    this.nextDueMs = now + this.opts.intervalMs;
    for (const t of this.sources) this.sendTrigger(t);
  }

  private sendTrigger(task: number): void {
    this.opts.send(Ctl.Trigger, task, this.txid, this.record.epoch, this.record.committed);
  }

  stats(): CoordinatorStats {
    this.statsOut.phase = this.phase;
    this.statsOut.epoch = this.record.epoch;
    this.statsOut.committed = this.record.committed;
    return { ...this.statsOut };
  }

  close(): void {
    this.phase = 'closed';
    if (this.timer !== null) this.opts.clock.clear(this.timer);
    this.timer = null;
    for (const t of this.retryTimers) this.opts.clock.clear(t);
    this.retryTimers.clear();
  }
}
