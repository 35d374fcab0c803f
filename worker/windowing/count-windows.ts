import type { TupleImpl } from '../../topology-api';
import { byKey, FiredWindow, type TupleCodec, type WindowEngine, type WindowOutput } from './engine';

/**
 * Count windows (a count length and a count slide) run on the time-window engines with the tuple
 * sequence as the clock: the n-th tuple is at time n, window j holds tuples [j·slide − length,
 * j·slide) and fires once tuple j·slide − 1 is in. So count and time windows share one
 * implementation, incremental aggregation included, and a tuple is acked as soon as the last
 * window holding it has fired.
 */
export class CountClockWindows implements WindowEngine {
  private n = 0;

  constructor(private readonly inner: WindowEngine) {}

  add(t: TupleImpl, _ts: number, key: unknown): boolean {
    this.inner.add(t, this.n, key);
    this.inner.advance(++this.n);
    return true;
  }
  advance(_time: number): void {}
  openWindows(): number {
    return this.inner.openWindows();
  }
  heldTuples(): number {
    return this.inner.heldTuples();
  }
  buffered(): number {
    return this.inner.buffered();
  }
  snapshot(): unknown {
    return { n: this.n, inner: this.inner.snapshot() };
  }
  restore(s: unknown): void {
    const snap = s as { n: number; inner: unknown };
    this.n = snap.n;
    this.inner.restore(snap.inner);
  }
}

export interface SequenceSpec {
  lengthCount: number | null;
  lengthMs: number | null;
  slideCount: number | null;
  slideMs: number | null;
}

/**
 * Storm's mixed windows over tuples in arrival (or, in event time, timestamp) order: a count length
 * sliding by a duration (the last n tuples, every d ms) and a duration length sliding by a count
 * (the tuples of the last d ms, every n tuples; Storm's `withWindow(Duration)` slides on every
 * tuple). The window is evaluated at each trigger, as in Storm: tuples that fell out of it since the
 * last trigger are acked then. A trigger with no new tuple since the last one does not fire.
 */
export class TupleSequenceWindows implements WindowEngine {
  private tuples: TupleImpl[] = [];
  private times: number[] = [];
  private seqs: number[] = [];
  private keys: unknown[] = [];
  private head = 0;
  private seq = 0;
  private lastTriggerSeq = 0;
  private sinceTrigger = 0;
  private expiredSince: TupleImpl[] = [];
  private expiredKeys: unknown[] = [];

  constructor(
    private readonly spec: SequenceSpec,
    private readonly keyed: boolean,
    private readonly out: WindowOutput,
    private readonly codec: TupleCodec,
    /** The time a count-slide trigger is at when tuples carry no time (processing time, count length). */
    private readonly now: () => number,
  ) {}

  private get size(): number {
    return this.tuples.length - this.head;
  }

  add(t: TupleImpl, ts: number, key: unknown): boolean {
    this.tuples.push(t);
    this.times.push(ts);
    this.seqs.push(++this.seq);
    if (this.keyed) this.keys.push(key);
    if (this.spec.slideCount !== null && ++this.sinceTrigger >= this.spec.slideCount) this.trigger(this.spec.lengthMs !== null ? ts : this.now());
    return true;
  }

  /** Duration slides: time reached `time` (a processing-time tick, or an aligned event-time end). */
  advance(time: number): void {
    if (this.spec.slideMs !== null) this.trigger(time);
  }

  trigger(ref: number): void {
    this.sinceTrigger = 0;
    if (this.seq === this.lastTriggerSeq) return; // nothing new since the last window
    const { lengthCount, lengthMs } = this.spec;
    if (lengthCount !== null) while (this.size > lengthCount) this.evict();
    if (lengthMs !== null) while (this.size > 0 && this.times[this.head] <= ref - lengthMs) this.evict();
    const tuples = this.tuples.slice(this.head);
    const keys = this.keyed ? this.keys.slice(this.head) : [];
    const fresh: TupleImpl[] = [];
    const freshKeys: unknown[] = [];
    for (let i = this.head; i < this.tuples.length; i++) {
      if (this.seqs[i] <= this.lastTriggerSeq) continue;
      fresh.push(this.tuples[i]);
      if (this.keyed) freshKeys.push(this.keys[i]);
    }
    const expired = this.expiredSince;
    const expiredKeys = this.expiredKeys;
    this.expiredSince = [];
    this.expiredKeys = [];
    this.lastTriggerSeq = this.seq;
    const start = lengthMs !== null ? ref - lengthMs : null;
    if (tuples.length > 0) {
      if (!this.keyed) {
        if (!this.out.fireWindow(new FiredWindow(tuples, fresh, expired, start, ref, null, false))) for (const t of tuples) this.out.failTuple(t);
      } else {
        const freshBy = byKey(fresh, freshKeys);
        const expiredBy = byKey(expired, expiredKeys);
        for (const [key, list] of byKey(tuples, keys)) {
          const w = new FiredWindow(list, freshBy.get(key) ?? [], expiredBy.get(key) ?? [], start, ref, key, false);
          if (!this.out.fireWindow(w)) for (const t of list) this.out.failTuple(t);
        }
      }
    }
    this.compact();
  }

  private evict(): void {
    const t = this.tuples[this.head];
    this.expiredSince.push(t);
    if (this.keyed) this.expiredKeys.push(this.keys[this.head]);
    this.tuples[this.head] = undefined as unknown as TupleImpl;
    this.head++;
    this.out.expire(t);
  }

  /** Drops the evicted prefix once it is half the arrays. */
  private compact(): void {
    if (this.head < 1024 || this.head * 2 < this.tuples.length) return;
    this.tuples = this.tuples.slice(this.head);
    this.times = this.times.slice(this.head);
    this.seqs = this.seqs.slice(this.head);
    if (this.keyed) this.keys = this.keys.slice(this.head);
    this.head = 0;
  }

  openWindows(): number {
    return this.size > 0 ? 1 : 0;
  }
  heldTuples(): number {
    return this.size;
  }
  buffered(): number {
    return this.size;
  }

  snapshot(): unknown {
    const live = (a: unknown[]): unknown[] => a.slice(this.head);
    return {
      tuples: live(this.tuples).map((t) => this.codec.encode(t as TupleImpl)),
      times: live(this.times),
      seqs: live(this.seqs),
      keys: live(this.keys),
      seq: this.seq,
      lastTriggerSeq: this.lastTriggerSeq,
      sinceTrigger: this.sinceTrigger,
    };
  }

  restore(s: unknown): void {
    const snap = s as { tuples: unknown[]; times: number[]; seqs: number[]; keys: unknown[]; seq: number; lastTriggerSeq: number; sinceTrigger: number };
    this.tuples = snap.tuples.map((x) => this.codec.decode(x));
    this.times = [...snap.times];
    this.seqs = [...snap.seqs];
    this.keys = [...snap.keys];
    this.head = 0;
    this.seq = snap.seq;
    this.lastTriggerSeq = snap.lastTriggerSeq;
    this.sinceTrigger = snap.sinceTrigger;
    this.expiredSince = [];
    this.expiredKeys = [];
  }
}
