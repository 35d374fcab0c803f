import type { Aggregate, TupleImpl } from '../../topology-api';
import { AckList, type AckLog, type AckSink } from './ack-log';
import { ResultInfo, type WindowEngine, type WindowOutput } from './engine';
import { growFloat64, growInt32, IntList, SlotTable } from './slots';
import { PaneIndex, TimeGeometry } from './time-geometry';

/** One pane's accumulators, by key slot, and the acker ids of the tuples folded into them. */
class AggPane {
  id = 0;
  /** Accumulator by slot; undefined where the key had no tuple in this pane. */
  accs: unknown[] = [];
  readonly touched = new IntList();
  readonly acks = new AckList();
  /** executeAggregate threw for a window holding this pane: its tuples are failed, not acked. */
  failed = false;
}

/**
 * Incremental aggregation over time windows (tumbling or sliding, event or processing time): one
 * accumulator per key and pane, so memory is keys × panes whatever the rate, and a tuple costs one
 * slot lookup and one `add`. A tumbling window is one pane; a sliding window merges its panes'
 * accumulators when it fires. Tracked tuples' acker ids wait in the pane's ack list and are acked
 * when the pane's last window has fired (and its allowed lateness passed).
 */
export class AggregateTimeWindows implements WindowEngine {
  private readonly panes = new PaneIndex<AggPane>();
  private readonly spare: AggPane[] = [];
  private readonly slots: SlotTable;
  /** The newest pane holding each slot (a slot is freed when that pane is purged). */
  private lastPane: Float64Array = new Float64Array(0);
  /** Merge scratch for sliding windows, by slot. */
  private winAcc: unknown[] = [];
  private winStamp: Int32Array = new Int32Array(0);
  private readonly winSlots = new IntList();
  private stamp = 0;
  private time = -Infinity;
  private firedThrough = -Infinity;
  /** Earliest time at which the first pane can be purged. */
  private purgeAt = Infinity;
  private readonly fired = new Set<number>();
  private accumulators = 0;
  /**
   * Slots whose newest pane was purged, with that pane's id: freed at the next purge unless a
   * tuple came for the key meanwhile. A key that comes back every window keeps its slot, instead of
   * leaving the key table and entering it again each window.
   */
  private readonly idleSlots = new IntList();
  private readonly idlePanes: number[] = [];
  /** The pane the last tuple went to (tuples mostly come in time order). */
  private hot: AggPane | null = null;
  private readonly info = new ResultInfo();

  constructor(
    private readonly geo: TimeGeometry,
    private readonly latenessMs: number,
    private readonly agg: Aggregate,
    private readonly out: WindowOutput,
    private readonly ackLog: AckLog,
    private readonly sink: AckSink,
    /** Count windows (time is the tuple sequence): start is null and the end is this, read at firing. */
    private readonly countEnd: (() => number) | null = null,
  ) {
    this.slots = new SlotTable(64, (n) => {
      this.lastPane = growFloat64(this.lastPane, n, -Infinity);
      this.winStamp = growInt32(this.winStamp, n);
      for (let i = this.winAcc.length; i < n; i++) this.winAcc.push(undefined);
    });
  }

  add(t: TupleImpl, ts: number, key: unknown): boolean {
    const p = Math.floor((ts - this.geo.originMs) / this.geo.paneMs);
    let pane = this.hot;
    if (pane === null || pane.id !== p) {
      pane = this.panes.get(p) ?? this.openPane(p);
      if (pane === null) return false;
      this.hot = pane;
    }
    const slot = this.slots.slot(key);
    const accs = pane.accs;
    while (accs.length <= slot) accs.push(undefined);
    let acc = accs[slot];
    if (acc === undefined) {
      acc = this.agg.create();
      pane.touched.push(slot);
      this.accumulators++;
    }
    accs[slot] = this.agg.add(acc, t);
    if (this.lastPane[slot] < p) this.lastPane[slot] = p;
    if (t.root0 !== 0) this.ackLog.append(pane.acks, t);
    else this.sink.ack(t);
    if (this.latenessMs > 0 && this.geo.firstWindow(p) <= this.firedThrough) this.lateUpdate(p);
    return true;
  }

  private openPane(p: number): AggPane | null {
    const geo = this.geo;
    const lastEnd = geo.end(geo.lastWindow(p));
    if (lastEnd + this.latenessMs <= this.time) return null; // every window holding it is gone: late
    const pane = this.spare.pop() ?? new AggPane();
    pane.id = p;
    pane.failed = false;
    this.panes.add(pane);
    if (this.panes.ids[0] === p) this.purgeAt = lastEnd + this.latenessMs;
    return pane;
  }

  private lateUpdate(p: number): void {
    const geo = this.geo;
    const last = Math.min(geo.lastWindow(p), this.firedThrough);
    for (let j = geo.firstWindow(p); j <= last; j++) if (geo.end(j) + this.latenessMs > this.time) this.fire(j, this.fired.has(j));
  }

  advance(time: number): void {
    if (time <= this.time) return;
    this.time = time;
    const due = this.geo.lastDue(time);
    if (due > this.firedThrough) {
      this.panes.forEachWindow(this.geo, this.firedThrough, due, (j) => this.fire(j, false));
      this.firedThrough = due;
    }
    if (time >= this.purgeAt) this.purge();
  }

  private fire(j: number, update: boolean): void {
    const geo = this.geo;
    const start = this.countEnd === null ? geo.start(j) : null;
    const end = this.countEnd === null ? geo.end(j) : this.countEnd();
    const agg = this.agg;
    const keys = this.slots.keys;
    let ok = true;
    if (geo.k === 1) {
      const pane = this.panes.get(geo.endPane(j) - 1);
      if (pane === undefined) return;
      const touched = pane.touched;
      for (let i = 0; i < touched.length; i++) {
        const slot = touched.items[i];
        const key = keys[slot];
        if (!this.out.fireResult(key, agg.result(pane.accs[slot]), this.info.set(start, end, key, update))) ok = false;
      }
      if (!ok) pane.failed = true;
    } else {
      const stamp = ++this.stamp;
      const first = geo.firstPane(j);
      const last = geo.endPane(j);
      const slots = this.winSlots;
      slots.clear();
      for (const p of this.panes.ids) {
        if (p < first) continue;
        if (p >= last) break;
        const pane = this.panes.get(p)!;
        const touched = pane.touched;
        for (let i = 0; i < touched.length; i++) {
          const slot = touched.items[i];
          if (this.winStamp[slot] !== stamp) {
            this.winStamp[slot] = stamp;
            this.winAcc[slot] = agg.merge(agg.create(), pane.accs[slot]);
            slots.push(slot);
          } else this.winAcc[slot] = agg.merge(this.winAcc[slot], pane.accs[slot]);
        }
      }
      for (let i = 0; i < slots.length; i++) {
        const slot = slots.items[i];
        const key = keys[slot];
        if (!this.out.fireResult(key, agg.result(this.winAcc[slot]), this.info.set(start, end, key, update))) ok = false;
        this.winAcc[slot] = undefined;
      }
      if (!ok) for (const p of this.panes.ids) if (p >= first && p < last) this.panes.get(p)!.failed = true;
    }
    if (this.latenessMs > 0) this.fired.add(j);
  }

  /** Releases panes whose last window fired (and whose lateness passed): acks, frees idle keys. */
  private purge(): void {
    const geo = this.geo;
    for (;;) {
      const pane = this.panes.first();
      if (pane === undefined) {
        this.purgeAt = Infinity;
        break;
      }
      const at = geo.end(geo.lastWindow(pane.id)) + this.latenessMs;
      if (at > this.time) {
        this.purgeAt = at;
        break;
      }
      this.panes.removeFirst();
      if (this.hot === pane) this.hot = null;
      this.ackLog.release(pane.acks, this.sink, !pane.failed);
      this.releaseIdleSlots();
      const touched = pane.touched;
      for (let i = 0; i < touched.length; i++) {
        const slot = touched.items[i];
        pane.accs[slot] = undefined;
        if (this.lastPane[slot] === pane.id) {
          this.idleSlots.push(slot);
          this.idlePanes.push(pane.id);
        }
      }
      this.accumulators -= touched.length;
      touched.clear();
      this.spare.push(pane);
    }
    if (this.fired.size > 0) for (const j of this.fired) if (geo.end(j) + this.latenessMs <= this.time) this.fired.delete(j);
  }

  /** Frees the slots that were idle at the last purge and got no tuple since. */
  private releaseIdleSlots(): void {
    const idle = this.idleSlots;
    for (let i = 0; i < idle.length; i++) {
      const slot = idle.items[i];
      if (this.lastPane[slot] !== this.idlePanes[i]) continue; // the key came back
      this.lastPane[slot] = -Infinity;
      this.slots.release(slot);
    }
    idle.clear();
    this.idlePanes.length = 0;
  }

  openWindows(): number {
    return this.panes.openWindows(this.geo, this.latenessMs, this.time);
  }
  heldTuples(): number {
    return this.ackLog.size();
  }
  buffered(): number {
    return this.accumulators;
  }

  snapshot(): unknown {
    return {
      time: this.time,
      firedThrough: this.firedThrough,
      fired: [...this.fired],
      panes: this.panes.values().map((pane) => {
        const entries: Array<[unknown, unknown]> = [];
        for (let i = 0; i < pane.touched.length; i++) {
          const slot = pane.touched.items[i];
          entries.push([this.slots.keys[slot], pane.accs[slot]]);
        }
        return { id: pane.id, failed: pane.failed, entries, acks: this.ackLog.snapshotList(pane.acks) };
      }),
    };
  }

  restore(s: unknown): void {
    const snap = s as {
      time: number;
      firedThrough: number;
      fired: number[];
      panes: Array<{ id: number; failed: boolean; entries: Array<[unknown, unknown]>; acks: number[][] }>;
    };
    for (const pane of this.panes.values()) this.ackLog.release(pane.acks, { ack() {}, fail() {} }, true);
    this.panes.clear();
    this.slots.clear();
    this.idleSlots.clear();
    this.idlePanes.length = 0;
    this.lastPane.fill(-Infinity);
    this.hot = null;
    this.accumulators = 0;
    this.time = -Infinity;
    this.firedThrough = -Infinity;
    for (const p of snap.panes) {
      const pane = this.openPane(p.id)!;
      pane.failed = p.failed;
      for (const [key, acc] of p.entries) {
        const slot = this.slots.slot(key);
        while (pane.accs.length <= slot) pane.accs.push(undefined);
        pane.accs[slot] = acc;
        pane.touched.push(slot);
        this.accumulators++;
        if (this.lastPane[slot] < p.id) this.lastPane[slot] = p.id;
      }
      this.ackLog.restoreList(pane.acks, p.acks);
    }
    this.time = snap.time;
    this.firedThrough = snap.firedThrough;
    this.fired.clear();
    for (const j of snap.fired) this.fired.add(j);
    const first = this.panes.first();
    this.purgeAt = first === undefined ? Infinity : this.geo.end(this.geo.lastWindow(first.id)) + this.latenessMs;
  }
}
