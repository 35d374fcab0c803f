import type { TupleImpl } from '../../topology-api';
import type { TupleCodec, WindowEngine } from './engine';
import { MinHeap } from './heap';

interface Waiting {
  ts: number;
  seq: number;
  t: TupleImpl;
  key: unknown;
}

/**
 * Event time for windows measured in tuples: a count has no meaning until tuples are in
 * timestamp order, so they wait here (a binary heap on timestamp, then arrival) until the watermark
 * passes them, and are handed on in order. A tuple already behind the watermark is late.
 * Memory is the tuples within the lag, not keys × windows: count windows in event time cost what
 * the out-of-orderness costs.
 */
export class ReorderedWindows implements WindowEngine {
  private readonly heap = new MinHeap<Waiting>(less);
  private seq = 0;
  private time = -Infinity;
  /** Duration slides: the next aligned window end not yet triggered, after the last released tuple. */
  private lastReleasedTs = -Infinity;

  constructor(
    private readonly inner: WindowEngine,
    /** Duration slide of a count-length window (triggers at aligned ends), or null. */
    private readonly slideMs: number | null,
    private readonly codec: TupleCodec,
  ) {}

  /** The watermark, for the end timestamp of count windows. */
  watermark(): number {
    return this.time;
  }

  add(t: TupleImpl, ts: number, key: unknown): boolean {
    if (ts < this.time) return false;
    this.heap.push({ ts, seq: ++this.seq, t, key });
    return true;
  }

  advance(time: number): void {
    if (time <= this.time) return;
    this.time = time;
    const heap = this.heap;
    while (heap.size > 0 && heap.peek()!.ts < time) {
      const e = heap.pop()!;
      this.triggerBefore(e.ts);
      this.inner.add(e.t, e.ts, e.key);
      this.lastReleasedTs = e.ts;
    }
    this.triggerBefore(time);
  }

  /** Fires the window ending at the first aligned end after the last released tuple, if it is at or before `ts`. */
  private triggerBefore(ts: number): void {
    const s = this.slideMs;
    if (s === null || this.lastReleasedTs === -Infinity) return;
    const end = (Math.floor(this.lastReleasedTs / s) + 1) * s;
    if (end <= ts) this.inner.advance(end);
  }

  openWindows(): number {
    return this.inner.openWindows();
  }
  heldTuples(): number {
    return this.heap.size + this.inner.heldTuples();
  }
  buffered(): number {
    return this.heap.size + this.inner.buffered();
  }

  snapshot(): unknown {
    return {
      time: this.time,
      seq: this.seq,
      lastReleasedTs: this.lastReleasedTs,
      waiting: this.heap.items.map((e) => [e.ts, e.seq, this.codec.encode(e.t), e.key]),
      inner: this.inner.snapshot(),
    };
  }

  restore(s: unknown): void {
    const snap = s as { time: number; seq: number; lastReleasedTs: number; waiting: Array<[number, number, unknown, unknown]>; inner: unknown };
    this.time = snap.time;
    this.seq = snap.seq;
    this.lastReleasedTs = snap.lastReleasedTs;
    this.heap.clear();
    for (const [ts, seq, x, key] of snap.waiting) this.heap.push({ ts, seq, t: this.codec.decode(x), key });
    this.inner.restore(snap.inner);
  }
}

function less(a: { ts: number; seq: number }, b: { ts: number; seq: number }): boolean {
  return a.ts < b.ts || (a.ts === b.ts && a.seq < b.seq);
}
