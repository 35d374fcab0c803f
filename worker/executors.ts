import type { TupleImpl } from '../topology-api';
import { drainAcks, type AckerTask } from './acker';
import { AckKind, AckQueue, TupleQueue } from './queues';
import type { Backpressured } from './routing';
import type { ExecutorStatsCollector } from './stats';
import { hrNow, type BoltTask, type SpoutTask } from './tasks';

/** nextTuple calls between two reads of the clock for emit times. */
const STAMP_CALLS = 32;

/** Common to every executor: the queues it feeds, which park it while any is full. */
abstract class ExecutorBase {
  /** Queues this executor's tasks emit into (its own inbox excluded, so a self-loop cannot park it). */
  downstream: Backpressured[] = [];

  constructor(
    readonly component: string,
    readonly start: number,
    readonly end: number,
    readonly stats: ExecutorStatsCollector,
  ) {}

  blocked(): boolean {
    const d = this.downstream;
    for (let i = 0; i < d.length; i++) if (d[i].isFull()) return true;
    return false;
  }
}

/**
 * Runs a bolt's tasks: takes up to `budget` tuples from the inbox per turn, stopping early when a
 * queue it feeds fills up, or when the task the next tuple is for is at its in-flight limit
 * (`topology.bolt.max.inflight` unsettled execute promises) or waits for a drain: then the inbox
 * fills and parks upstream exactly as a full queue downstream would, so backpressure reaches the
 * spouts. Execute time is measured once per batch (two clock reads per batch, not per tuple), which
 * gives the exact mean execute latency and the capacity; async calls add their time to settlement
 * when they settle (BoltTask).
 */
export class BoltExecutor extends ExecutorBase {
  readonly inbox: TupleQueue;
  readonly tasks: BoltTask[] = [];

  constructor(component: string, start: number, end: number, stats: ExecutorStatsCollector, capacity: number) {
    super(component, start, end, stats);
    this.inbox = new TupleQueue(capacity);
  }

  run(budget: number): number {
    const inbox = this.inbox;
    if (inbox.isEmpty()) return 0;
    const t0 = hrNow();
    let n = 0;
    const tasks = this.tasks;
    const start = this.start;
    while (n < budget && !inbox.isEmpty() && !this.blocked()) {
      const task = tasks[inbox.peekTask() - start];
      if (task.inflight >= task.admitLimit) break;
      const tuple: TupleImpl = inbox.shift();
      tuple.startMs = t0;
      task.execute(tuple);
      n++;
    }
    if (n > 0) this.stats.addBusy(hrNow() - t0, n);
    return n;
  }

  /** Whether `run` would take a tuple now. */
  ready(): boolean {
    if (this.inbox.isEmpty() || this.blocked()) return false;
    const task = this.tasks[this.inbox.peekTask() - this.start];
    return task.inflight < task.admitLimit;
  }
}

/**
 * Runs a spout's tasks. Acks and fails from the ackers are always handled (they never emit into a
 * full queue by themselves and must not wait behind backpressure); `nextTuple` is called only while
 * the topology is active, the task is under `topology.max.spout.pending`, and no queue it feeds is
 * full. A task whose `nextTuple` emits nothing is not called again this turn.
 */
export class SpoutExecutor extends ExecutorBase {
  readonly acks = new AckQueue(256);
  readonly tasks: SpoutTask[] = [];
  active = false;
  /** Set when every task emitted nothing on its last call (the loop may then idle). */
  idle = false;

  constructor(
    component: string,
    start: number,
    end: number,
    stats: ExecutorStatsCollector,
    readonly maxPending: number,
  ) {
    super(component, start, end, stats);
  }

  /**
   * Handles the ackers' answers. One clock read serves the whole drain as the completion time of
   * its trees (and the emit time of what ack/fail callbacks emit): two clock reads per tuple were
   * 15% of the CPU of const-spout → null-bolt with acking; a drain takes microseconds.
   */
  drainAcks(): number {
    const q = this.acks;
    if (q.size === 0) return 0;
    const nowMs = hrNow();
    this.stamp(nowMs);
    let n = 0;
    while (q.size > 0) {
      const b = q.buffer();
      const o = q.headOffset();
      const kind = b[o];
      const task = this.tasks[b[o + 1] - this.start];
      const root = b[o + 2];
      q.drop();
      n++;
      if (task === undefined) continue;
      if (kind === AckKind.SpoutAck) task.completed(root, true, nowMs);
      else if (kind === AckKind.SpoutFail) task.completed(root, false, nowMs);
      else if (kind === AckKind.SpoutReset) task.resetPending(root);
    }
    this.stamp(-1);
    return n;
  }

  /** The time tasks record as emit time until the next stamp; -1: read the clock per emit. */
  private stamp(ms: number): void {
    for (let i = 0; i < this.tasks.length; i++) this.tasks[i].stampMs = ms;
  }

  run(budget: number): number {
    const n = this.drainAcks();
    this.idle = true;
    if (!this.active) return n;
    const t0 = hrNow();
    this.stamp(t0);
    let calls = 0;
    let emitting = 0;
    for (const task of this.tasks) {
      if (task.waiting) {
        this.idle = false; // its nextTuple promise is pending: it wakes the loop when it settles
        continue;
      }
      for (let i = 0; i < budget; i++) {
        if (this.blocked() || task.pending.size() >= this.maxPending) {
          this.idle = false; // waiting on others, not out of data
          break;
        }
        task.nextTuple();
        calls++;
        // emit times are read once per STAMP_CALLS calls, so they are early by at most that many calls' time
        if (calls % STAMP_CALLS === 0) this.stamp(hrNow());
        if (task.waiting) {
          if (task.emitsThisCall > 0) emitting++;
          this.idle = false;
          break;
        }
        if (task.emitsThisCall === 0) break;
        emitting++;
        this.idle = false;
      }
    }
    this.stamp(-1);
    if (calls > 0) this.stats.addBusy(hrNow() - t0);
    // A call that emitted nothing is not work: counting it kept the loop spinning at 100% CPU
    // behind a rate-limited spout (1,000 sentences/s). The loop now polls such a spout every
    // millisecond instead, as Storm's sleep wait strategy does.
    return n + emitting;
  }
}

/** Runs acker tasks: drains its queue completely every turn and never parks. */
export class AckerExecutor extends ExecutorBase {
  readonly acks = new AckQueue(4096);
  readonly ackers = new Map<number, AckerTask>();

  run(): number {
    if (this.acks.size === 0) return 0;
    const t0 = hrNow();
    const n = drainAcks(this.acks, this.ackers, this.stats);
    this.stats.addBusy(hrNow() - t0);
    return n;
  }

  rotate(): void {
    for (const a of this.ackers.values()) a.rotate();
  }
}

export type Executor = BoltExecutor | SpoutExecutor | AckerExecutor;
