import { Fields, TupleImpl } from '../../topology-api';

/** One list of held acker ids (a pane's, a session's, a key's window's). */
export class AckList {
  head = -1;
  tail = -1;
  size = 0;
}

/** What releasing a list needs from the task: its ack and fail (acker messages + stats). */
export interface AckSink {
  ack(t: TupleImpl): void;
  fail(t: TupleImpl): void;
}

/**
 * The acker ids of tuples that incremental aggregation folded into an accumulator but may not ack
 * yet (a tuple is acked when it leaves the last window that holds it). Only the ids are kept, in
 * typed arrays with free-list links, so holding a tuple costs 20 bytes and no allocation, instead
 * of keeping the tuple and its values alive: memory stays keys × windows for the accumulators
 * plus 20 bytes per tracked tuple in flight.
 *
 * Releasing replays each id through the task's own `ack`/`fail` on one scratch tuple, so acker
 * messages and the acked/failed stats are exactly those of acking the tuple itself.
 */
export class AckLog {
  private roots = new Float64Array(0);
  private his = new Int32Array(0);
  private los = new Int32Array(0);
  private streams = new Int32Array(0);
  private next = new Int32Array(0);
  /** Further anchors of tuples descending from several spout tuples (rare), by record. */
  private readonly more = new Map<number, number[]>();
  private free = -1;
  private used = 0;
  private held = 0;
  private readonly scratch = new TupleImpl([], new Fields([]), '', 0, '', 0, 0, 0, null);

  constructor(initial = 1024) {
    this.grow(initial);
  }

  /** Tracked tuples held. */
  size(): number {
    return this.held;
  }

  /** Remembers `t`'s acker ids in `list`; `t` itself is not kept. */
  append(list: AckList, t: TupleImpl): void {
    let i = this.free;
    if (i >= 0) this.free = this.next[i];
    else {
      if (this.used === this.roots.length) this.grow(this.roots.length * 2);
      i = this.used++;
    }
    this.roots[i] = t.root0;
    this.his[i] = t.edgeHi0 ^ t.ackHi;
    this.los[i] = t.edgeLo0 ^ t.ackLo;
    this.streams[i] = t.streamIndex;
    this.next[i] = -1;
    const m = t.moreAnchors;
    if (m !== null) {
      // ack values of the further roots, with what was anchored on `t` folded in (as BoltTask.ack does)
      const folded = m.slice();
      for (let k = 0; k < folded.length; k += 3) {
        folded[k + 1] ^= t.ackHi;
        folded[k + 2] ^= t.ackLo;
      }
      this.more.set(i, folded);
    }
    if (list.tail >= 0) this.next[list.tail] = i;
    else list.head = i;
    list.tail = i;
    list.size++;
    this.held++;
  }

  /** Moves every id of `from` to the end of `to` (sessions merging). */
  concat(to: AckList, from: AckList): void {
    if (from.head < 0) return;
    if (to.tail >= 0) this.next[to.tail] = from.head;
    else to.head = from.head;
    to.tail = from.tail;
    to.size += from.size;
    from.head = from.tail = -1;
    from.size = 0;
  }

  /** Acks (or fails) every tuple of `list` through `sink` and empties it. */
  release(list: AckList, sink: AckSink, ok: boolean): void {
    const s = this.scratch;
    let i = list.head;
    while (i >= 0) {
      s.root0 = this.roots[i];
      s.edgeHi0 = this.his[i];
      s.edgeLo0 = this.los[i];
      s.streamIndex = this.streams[i];
      s.moreAnchors = null;
      if (this.more.size > 0) {
        const m = this.more.get(i);
        if (m !== undefined) {
          s.moreAnchors = m;
          this.more.delete(i);
        }
      }
      s.done = 0;
      s.ackHi = 0;
      s.ackLo = 0;
      s.startMs = 0;
      if (ok) sink.ack(s);
      else sink.fail(s);
      const n = this.next[i];
      this.next[i] = this.free;
      this.free = i;
      i = n;
      this.held--;
    }
    s.moreAnchors = null;
    list.head = list.tail = -1;
    list.size = 0;
  }

  /** Plain data for checkpoints: each list as flat [root, hi, lo, stream] quadruples (+ more anchors). */
  snapshotList(list: AckList): number[][] {
    const out: number[][] = [];
    for (let i = list.head; i >= 0; i = this.next[i]) {
      const rec = [this.roots[i], this.his[i], this.los[i], this.streams[i]];
      const m = this.more.get(i);
      if (m !== undefined) rec.push(...m);
      out.push(rec);
    }
    return out;
  }

  restoreList(list: AckList, records: readonly number[][]): void {
    const s = this.scratch;
    for (const r of records) {
      s.root0 = r[0];
      s.edgeHi0 = r[1];
      s.edgeLo0 = r[2];
      s.streamIndex = r[3];
      s.ackHi = 0;
      s.ackLo = 0;
      s.moreAnchors = r.length > 4 ? r.slice(4) : null;
      this.append(list, s);
    }
    s.moreAnchors = null;
  }

  private grow(n: number): void {
    const copy = <T extends Float64Array | Int32Array>(old: T, make: (n: number) => T): T => {
      const a = make(n);
      a.set(old);
      return a;
    };
    this.roots = copy(this.roots, (k) => new Float64Array(k));
    this.his = copy(this.his, (k) => new Int32Array(k));
    this.los = copy(this.los, (k) => new Int32Array(k));
    this.streams = copy(this.streams, (k) => new Int32Array(k));
    this.next = copy(this.next, (k) => new Int32Array(k));
  }
}
