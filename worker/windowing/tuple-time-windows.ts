import type { TupleImpl } from '../../topology-api';
import { byKey, FiredWindow, type TupleCodec, type WindowEngine, type WindowOutput } from './engine';
import { PaneIndex, TimeGeometry } from './time-geometry';

class TuplePane {
  readonly tuples: TupleImpl[] = [];
  /** Arrival sequence numbers (what was new since a window last fired). */
  readonly seqs: number[] = [];
  readonly keys: unknown[] = [];
  constructor(readonly id: number) {}
}

/** The last activation, for `getNew`/`getExpired` of the next. */
interface Activation {
  firstPane: number;
  endPane: number;
  seq: number;
  tuples: TupleImpl[];
  panes: number[];
  keys: unknown[];
}

/**
 * Storm's time windows over tuples (`execute(window)`): tumbling or sliding by duration, in event
 * time or processing time (where a tuple's time is the pane it arrived in). Tuples are kept once,
 * in the pane of their time; a window fires when time passes its end and is a run of panes. A
 * tuple is acked when the last window holding it has fired (and its allowed lateness passed).
 * With a key field, each fired window fires once per key.
 */
export class TupleTimeWindows implements WindowEngine {
  private readonly panes = new PaneIndex<TuplePane>();
  private time = -Infinity;
  /** Every window up to this one has been evaluated. */
  private firedThrough = -Infinity;
  private seq = 0;
  private held = 0;
  private prev: Activation | null = null;
  /** Windows that fired, with the arrival sequence at their last firing (only with allowed lateness). */
  private readonly firedSeq = new Map<number, number>();

  constructor(
    private readonly geo: TimeGeometry,
    private readonly latenessMs: number,
    private readonly keyed: boolean,
    private readonly out: WindowOutput,
    private readonly codec: TupleCodec,
    /** Count windows (time is the tuple sequence): start is null and the end is this, read at firing. */
    private readonly countEnd: (() => number) | null = null,
  ) {}

  add(t: TupleImpl, ts: number, key: unknown): boolean {
    const geo = this.geo;
    const p = geo.pane(ts);
    let pane = this.panes.get(p);
    if (pane === undefined) {
      if (geo.end(geo.lastWindow(p)) + this.latenessMs <= this.time) return false;
      pane = new TuplePane(p);
      this.panes.add(pane);
    }
    pane.tuples.push(t);
    pane.seqs.push(++this.seq);
    if (this.keyed) pane.keys.push(key);
    this.held++;
    if (this.latenessMs > 0 && geo.firstWindow(p) <= this.firedThrough) this.lateUpdate(p);
    return true;
  }

  /** A late tuple within the allowed lateness landed in pane p: fire its windows that already fired again. */
  private lateUpdate(p: number): void {
    const geo = this.geo;
    const last = Math.min(geo.lastWindow(p), this.firedThrough);
    for (let j = geo.firstWindow(p); j <= last; j++) {
      if (geo.end(j) + this.latenessMs > this.time) this.fire(j, this.firedSeq.has(j));
    }
  }

  advance(time: number): void {
    if (time <= this.time) return;
    this.time = time;
    const due = this.geo.lastDue(time);
    if (due > this.firedThrough) {
      this.panes.forEachWindow(this.geo, this.firedThrough, due, (j) => this.fire(j, false));
      this.firedThrough = due;
    }
    this.purge();
  }

  private fire(j: number, update: boolean): void {
    const geo = this.geo;
    const first = geo.firstPane(j);
    const end = geo.endPane(j);
    const tuples: TupleImpl[] = [];
    const panesOf: number[] = [];
    const keys: unknown[] = [];
    const fresh: TupleImpl[] = [];
    const freshKeys: unknown[] = [];
    const prev = this.prev;
    const since = update ? this.firedSeq.get(j)! : -1;
    for (const p of this.panes.ids) {
      if (p < first) continue;
      if (p >= end) break;
      const pane = this.panes.get(p)!;
      const wasInPrev = prev !== null && p >= prev.firstPane && p < prev.endPane;
      for (let i = 0; i < pane.tuples.length; i++) {
        const t = pane.tuples[i];
        tuples.push(t);
        panesOf.push(p);
        if (this.keyed) keys.push(pane.keys[i]);
        const isNew = update ? pane.seqs[i] > since : !(wasInPrev && pane.seqs[i] <= prev!.seq);
        if (isNew) {
          fresh.push(t);
          if (this.keyed) freshKeys.push(pane.keys[i]);
        }
      }
    }
    if (tuples.length === 0) return;
    const expired: TupleImpl[] = [];
    const expiredKeys: unknown[] = [];
    if (!update && prev !== null) {
      for (let i = 0; i < prev.tuples.length; i++) {
        if (prev.panes[i] >= first) continue;
        expired.push(prev.tuples[i]);
        if (this.keyed) expiredKeys.push(prev.keys[i]);
      }
    }
    const start = this.countEnd === null ? geo.start(j) : null;
    const endTs = this.countEnd === null ? geo.end(j) : this.countEnd();
    let ok = true;
    if (!this.keyed) ok = this.out.fireWindow(new FiredWindow(tuples, fresh, expired, start, endTs, null, update));
    else {
      const freshBy = byKey(fresh, freshKeys);
      const expiredBy = byKey(expired, expiredKeys);
      for (const [key, list] of byKey(tuples, keys)) {
        const w = new FiredWindow(list, freshBy.get(key) ?? [], expiredBy.get(key) ?? [], start, endTs, key, update);
        if (!this.out.fireWindow(w)) {
          ok = false;
          for (const t of list) this.out.failTuple(t);
        }
      }
    }
    if (!ok && !this.keyed) for (const t of tuples) this.out.failTuple(t);
    if (!update) this.prev = { firstPane: first, endPane: end, seq: this.seq, tuples, panes: panesOf, keys };
    if (this.latenessMs > 0) this.firedSeq.set(j, this.seq);
  }

  /** Drops (acks) panes whose last window has fired and whose allowed lateness has passed. */
  private purge(): void {
    const geo = this.geo;
    for (;;) {
      const pane = this.panes.first();
      if (pane === undefined || geo.end(geo.lastWindow(pane.id)) + this.latenessMs > this.time) break;
      this.panes.removeFirst();
      for (const t of pane.tuples) this.out.expire(t);
      this.held -= pane.tuples.length;
    }
    if (this.firedSeq.size > 0) for (const j of this.firedSeq.keys()) if (geo.end(j) + this.latenessMs <= this.time) this.firedSeq.delete(j);
  }

  openWindows(): number {
    return this.panes.openWindows(this.geo, this.latenessMs, this.time);
  }
  heldTuples(): number {
    return this.held;
  }
  buffered(): number {
    return this.held;
  }

  snapshot(): unknown {
    return {
      time: this.time,
      firedThrough: this.firedThrough,
      seq: this.seq,
      firedSeq: [...this.firedSeq],
      prev: this.prev && { ...this.prev, tuples: this.prev.tuples.map((t) => this.codec.encode(t)) },
      panes: this.panes.values().map((p) => ({ id: p.id, seqs: p.seqs, keys: p.keys, tuples: p.tuples.map((t) => this.codec.encode(t)) })),
    };
  }

  restore(s: unknown): void {
    const snap = s as {
      time: number;
      firedThrough: number;
      seq: number;
      firedSeq: Array<[number, number]>;
      prev: (Omit<Activation, 'tuples'> & { tuples: unknown[] }) | null;
      panes: Array<{ id: number; seqs: number[]; keys: unknown[]; tuples: unknown[] }>;
    };
    this.time = snap.time;
    this.firedThrough = snap.firedThrough;
    this.seq = snap.seq;
    this.firedSeq.clear();
    for (const [j, q] of snap.firedSeq) this.firedSeq.set(j, q);
    this.prev = snap.prev && { ...snap.prev, tuples: snap.prev.tuples.map((x) => this.codec.decode(x)) };
    this.panes.clear();
    this.held = 0;
    for (const p of snap.panes) {
      const pane = new TuplePane(p.id);
      pane.seqs.push(...p.seqs);
      pane.keys.push(...p.keys);
      for (const x of p.tuples) pane.tuples.push(this.codec.decode(x));
      this.held += pane.tuples.length;
      this.panes.add(pane);
    }
  }
}
