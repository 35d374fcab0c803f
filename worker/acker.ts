import { RotatingMap } from '../common/rotating-map';
import { AckKind, type AckQueue } from './queues';
import type { Delivery } from './routing';
import type { ExecutorStatsCollector } from './stats';

/** One tuple tree: the XOR of every edge id seen so far (64 bits as two int32 halves). */
class TreeEntry {
  hi = 0;
  lo = 0;
  spoutTask = 0;
  failed = false;
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
  private readonly ledger: RotatingMap<number, TreeEntry>;

  constructor(
    readonly taskId: number,
    buckets: number,
    private readonly delivery: Delivery,
  ) {
    this.ledger = new RotatingMap(buckets);
  }

  handle(kind: number, root: number, hi: number, lo: number, spoutTask: number): void {
    let e = this.ledger.get(root);
    switch (kind) {
      case AckKind.Init:
        if (e === undefined) {
          e = new TreeEntry();
          this.ledger.put(root, e);
        }
        e.hi ^= hi;
        e.lo ^= lo;
        e.spoutTask = spoutTask;
        break;
      case AckKind.Ack:
        if (e === undefined) {
          e = new TreeEntry();
          this.ledger.put(root, e);
        }
        e.hi ^= hi;
        e.lo ^= lo;
        break;
      case AckKind.Fail:
        if (e === undefined) {
          e = new TreeEntry();
          this.ledger.put(root, e);
        }
        e.failed = true;
        break;
      case AckKind.Reset:
        if (e === undefined) return;
        this.ledger.put(root, e);
        if (e.spoutTask !== 0) this.delivery.sendAck(AckKind.SpoutReset, e.spoutTask, root, 0, 0, 0);
        return;
      default:
        return;
    }
    if (e.spoutTask === 0) return;
    if (e.failed) {
      this.ledger.remove(root);
      this.delivery.sendAck(AckKind.SpoutFail, e.spoutTask, root, 0, 0, 0);
    } else if (e.hi === 0 && e.lo === 0) {
      this.ledger.remove(root);
      this.delivery.sendAck(AckKind.SpoutAck, e.spoutTask, root, 0, 0, 0);
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
