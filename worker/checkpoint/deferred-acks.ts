import { AckKind } from '../queues';
import type { Delivery } from '../routing';

/** Three numbers per deferred ack record: root, value hi, value lo. */
const RECORD = 3;

/** A growable buffer of ack records (no object per ack). */
class AckBuffer {
  buf = new Float64Array(RECORD * 1024);
  n = 0;
  push(root: number, hi: number, lo: number): void {
    // acks of one tree often come together (the words of one sentence): one record, XORed
    if (this.n > 0) {
      const last = (this.n - 1) * RECORD;
      if (this.buf[last] === root) {
        this.buf[last + 1] = (this.buf[last + 1] ^ hi) | 0;
        this.buf[last + 2] = (this.buf[last + 2] ^ lo) | 0;
        return;
      }
    }
    if ((this.n + 1) * RECORD > this.buf.length) {
      const next = new Float64Array(this.buf.length * 2);
      next.set(this.buf);
      this.buf = next;
    }
    const o = this.n * RECORD;
    this.buf[o] = root;
    this.buf[o + 1] = hi;
    this.buf[o + 2] = lo;
    this.n++;
  }
}

/**
 * Storm's StatefulBoltExecutor holds the acks of a stateful bolt (at-least-once) until the
 * checkpoint that holds their inputs' effect commits; a rollback fails those inputs instead, so
 * the spouts replay them against the restored state. Installed as the task's `ackDelivery`, it
 * keeps the acker records the task computes when the bolt acks (three numbers each, in typed
 * arrays: holding the tuples themselves for a checkpoint interval cost a word count three
 * quarters of its throughput in garbage collection), and sends them at the commit.
 */
export class DeferredAcks implements Pick<Delivery, 'sendAck' | 'ackerFor'> {
  private current = new AckBuffer();
  private readonly prepared: Array<{ txid: number; acks: AckBuffer }> = [];
  private readonly spare: AckBuffer[] = [];

  constructor(private readonly real: Pick<Delivery, 'sendAck' | 'ackerFor'>) {}

  ackerFor(root: number): number {
    return this.real.ackerFor(root);
  }

  sendAck(kind: AckKind, destTask: number, root: number, hi: number, lo: number, spoutTask: number): void {
    if (kind === AckKind.Ack) this.current.push(root, hi, lo);
    else this.real.sendAck(kind, destTask, root, hi, lo, spoutTask);
  }

  /** The barrier of `txid`: what was acked so far waits for its commit. */
  prepare(txid: number): void {
    if (this.current.n === 0) return;
    this.prepared.push({ txid, acks: this.current });
    this.current = this.spare.pop() ?? new AckBuffer();
  }

  /** `txid` committed: send the acks of it and of older checkpoints. */
  committed(txid: number): void {
    while (this.prepared.length > 0 && this.prepared[0].txid <= txid) {
      const { acks } = this.prepared.shift()!;
      const b = acks.buf;
      for (let i = 0; i < acks.n; i++) {
        const o = i * RECORD;
        this.real.sendAck(AckKind.Ack, this.real.ackerFor(b[o]), b[o], b[o + 1], b[o + 2], 0);
      }
      acks.n = 0;
      this.spare.push(acks);
    }
  }

  /** Rolled back: nothing acked since the last commit counts; fail each tree once. */
  rolledBack(): void {
    const roots = new Set<number>();
    for (const { acks } of this.prepared) for (let i = 0; i < acks.n; i++) roots.add(acks.buf[i * RECORD]);
    for (let i = 0; i < this.current.n; i++) roots.add(this.current.buf[i * RECORD]);
    this.prepared.length = 0;
    this.current.n = 0;
    for (const root of roots) this.real.sendAck(AckKind.Fail, this.real.ackerFor(root), root, 0, 0, 0);
  }

  /** Ack records waiting for a commit. */
  count(): number {
    let n = this.current.n;
    for (const p of this.prepared) n += p.acks.n;
    return n;
  }
}
