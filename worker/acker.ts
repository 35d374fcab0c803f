import { AckKind, type AckQueue } from './queues';
import { RootTable } from './root-table';
import type { Delivery } from './routing';
import type { ExecutorStatsCollector } from './stats';

/**
 * The acker's ledger: per tuple tree, the XOR of every edge id seen so far (64 bits as two int32
 * halves), the spout task once the init has arrived (0 before), and whether it failed.
 */
class Ledger extends RootTable {
  hi = new Int32Array(0);
  lo = new Int32Array(0);
  spoutTask = new Int32Array(0);
  failed = new Uint8Array(0);
  private old: [Int32Array, Int32Array, Int32Array, Uint8Array] = [this.hi, this.lo, this.spoutTask, this.failed];

  constructor(buckets: number) {
    super(buckets);
    this.allocate(this.capacity());
  }

  /** The slot of `root`'s tree, created empty when absent. */
  slotFor(root: number): number {
    const s = this.upsert(root);
    if (this.inserted) {
      this.hi[s] = 0;
      this.lo[s] = 0;
      this.spoutTask[s] = 0;
      this.failed[s] = 0;
    }
    return s;
  }

  rotate(): number {
    return this.rotateWith(null);
  }

  protected allocate(n: number): void {
    this.hi = new Int32Array(n);
    this.lo = new Int32Array(n);
    this.spoutTask = new Int32Array(n);
    this.failed = new Uint8Array(n);
  }
  protected stash(): void {
    this.old = [this.hi, this.lo, this.spoutTask, this.failed];
  }
  protected carry(from: number, to: number): void {
    const [hi, lo, spoutTask, failed] = this.old;
    this.hi[to] = hi[from];
    this.lo[to] = lo[from];
    this.spoutTask[to] = spoutTask[from];
    this.failed[to] = failed[from];
  }
  protected move(from: number, to: number): void {
    this.hi[to] = this.hi[from];
    this.lo[to] = this.lo[from];
    this.spoutTask[to] = this.spoutTask[from];
    this.failed[to] = this.failed[from];
  }
}

/**
 * Storm's acker, one per `__acker` task. Every edge id of a tree is XORed in twice (once when the
 * tuple is emitted, once when it is acked), so the ledger is zero exactly when every tuple of the
 * tree has been acked: constant memory per tree, whatever its size. `__ack_init` carries the XOR
 * of the spout tuple's edges and the spout task; `__ack_ack` an acked tuple's edge XOR the edges it
 * anchored; `__ack_fail` marks the tree failed. Messages may arrive in any order: a tree completes
 * only once its init has arrived. Trees older than the message timeout are dropped by rotation
 * (the spout fails them itself).
 */
export class AckerTask {
  private readonly ledger: Ledger;

  constructor(
    readonly taskId: number,
    buckets: number,
    private readonly delivery: Delivery,
  ) {
    this.ledger = new Ledger(buckets);
  }

  handle(kind: number, root: number, hi: number, lo: number, spoutTask: number): void {
    const l = this.ledger;
    let s: number;
    switch (kind) {
      case AckKind.Init:
        s = l.slotFor(root);
        l.hi[s] ^= hi;
        l.lo[s] ^= lo;
        l.spoutTask[s] = spoutTask;
        break;
      case AckKind.Ack:
        s = l.slotFor(root);
        l.hi[s] ^= hi;
        l.lo[s] ^= lo;
        break;
      case AckKind.Fail:
        s = l.slotFor(root);
        l.failed[s] = 1;
        break;
      case AckKind.Reset: {
        s = l.find(root);
        if (s < 0) return;
        l.touch(s);
        const task = l.spoutTask[s];
        if (task !== 0) this.delivery.sendAck(AckKind.SpoutReset, task, root, 0, 0, 0);
        return;
      }
      default:
        return;
    }
    const task = l.spoutTask[s];
    if (task === 0) return;
    if (l.failed[s] !== 0) {
      l.removeAt(s);
      this.delivery.sendAck(AckKind.SpoutFail, task, root, 0, 0, 0);
    } else if (l.hi[s] === 0 && l.lo[s] === 0) {
      l.removeAt(s);
      this.delivery.sendAck(AckKind.SpoutAck, task, root, 0, 0, 0);
    }
  }

  rotate(): void {
    this.ledger.rotate();
  }

  pendingTrees(): number {
    return this.ledger.size();
  }
}

/** Runs the acker tasks of one executor: drains its queue completely every turn, never parks. */
export function drainAcks(queue: AckQueue, ackers: ReadonlyMap<number, AckerTask>, stats: ExecutorStatsCollector): number {
  let n = 0;
  while (queue.size > 0) {
    const b = queue.buffer();
    const o = queue.headOffset();
    const kind = b[o];
    const task = b[o + 1];
    const root = b[o + 2];
    const hi = b[o + 3];
    const lo = b[o + 4];
    const spoutTask = b[o + 5];
    queue.drop();
    ackers.get(task)?.handle(kind, root, hi | 0, lo | 0, spoutTask);
    n++;
  }
  stats.executed[stats.ackerIndex] += n;
  return n;
}
