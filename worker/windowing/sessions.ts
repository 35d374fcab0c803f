import type { Aggregate, TupleImpl } from '../../topology-api';
import { AckList, type AckLog, type AckSink } from './ack-log';
import { FiredWindow, ResultInfo, type TupleCodec, type WindowEngine, type WindowOutput } from './engine';
import { MinHeap } from './heap';

class Session {
  /** Content changes; `firedVersion` is the version last fired. */
  version = 0;
  firedVersion = -1;
  /** Arrival sequence at the last firing (getNew of an update). */
  firedSeq = 0;
  dead = false;
  failed = false;
  readonly tuples: TupleImpl[] = [];
  readonly seqs: number[] = [];
  acc: unknown = undefined;
  readonly acks = new AckList();
  constructor(
    /** Creation order: sessions due at the same time fire in the order they began. */
    readonly id: number,
    readonly key: unknown,
    public start: number,
    public end: number,
  ) {}
}

const FIRE = 0;
const PURGE = 1;
interface Due {
  at: number;
  kind: number;
  s: Session;
}

/**
 * Session windows (beyond Storm): per key (or one stream of sessions without a key field), a
 * session is [first tuple's time, last tuple's time + gap); a tuple within the gap of a session
 * extends it, and a tuple that bridges two sessions merges them (Flink's merging windows:
 * sessions that touch merge). A session fires when time passes its end; with allowed lateness it
 * is kept that much longer, and a late tuple that changes it fires it again as an update. Holds
 * the tuples (`execute(window)`) or one accumulator per session (`withAggregate`).
 */
export class SessionWindows implements WindowEngine {
  private readonly byKey = new Map<unknown, Session[]>();
  private readonly heap = new MinHeap<Due>((a, b) => a.at < b.at || (a.at === b.at && (a.kind < b.kind || (a.kind === b.kind && a.s.id < b.s.id))));
  private time = -Infinity;
  private seq = 0;
  private created = 0;
  private sessions = 0;
  private held = 0;
  private readonly info = new ResultInfo();

  constructor(
    private readonly gapMs: number,
    private readonly latenessMs: number,
    private readonly agg: Aggregate | null,
    private readonly out: WindowOutput,
    private readonly ackLog: AckLog,
    private readonly sink: AckSink,
    private readonly codec: TupleCodec,
  ) {}

  add(t: TupleImpl, ts: number, key: unknown): boolean {
    const lo = ts;
    const hi = ts + this.gapMs;
    if (hi + this.latenessMs <= this.time) return false;
    let list = this.byKey.get(key);
    if (list === undefined) this.byKey.set(key, (list = []));
    let s: Session | null = null;
    for (let i = 0; i < list.length; i++) {
      const o = list[i];
      if (o.start > hi || lo > o.end) continue;
      if (s === null) s = o;
      else {
        this.absorb(s, o);
        list.splice(i--, 1);
      }
    }
    if (s === null) {
      s = new Session(++this.created, key, lo, hi);
      list.push(s);
      list.sort((a, b) => a.start - b.start);
      this.sessions++;
      this.heap.push({ at: hi, kind: FIRE, s });
    } else {
      if (lo < s.start) s.start = lo;
      if (hi > s.end) s.end = hi;
    }
    this.put(s, t);
    if (s.firedVersion >= 0 && s.end <= this.time) this.fire(s); // a late tuple updated a fired session
    return true;
  }

  private put(s: Session, t: TupleImpl): void {
    s.version++;
    this.seq++;
    if (this.agg === null) {
      s.tuples.push(t);
      s.seqs.push(this.seq);
      this.held++;
      return;
    }
    if (s.acc === undefined) s.acc = this.agg.create();
    s.acc = this.agg.add(s.acc, t);
    if (t.root0 !== 0) this.ackLog.append(s.acks, t);
    else this.sink.ack(t);
  }

  /** Merges `o` into `s` (a tuple bridged them). */
  private absorb(s: Session, o: Session): void {
    s.start = Math.min(s.start, o.start);
    s.end = Math.max(s.end, o.end);
    s.version++;
    if (o.firedVersion >= 0 && s.firedVersion < 0) s.firedVersion = 0; // an update of what fired
    s.failed ||= o.failed;
    if (this.agg === null) {
      for (let i = 0; i < o.tuples.length; i++) {
        s.tuples.push(o.tuples[i]);
        s.seqs.push(o.seqs[i]);
      }
    } else {
      if (o.acc !== undefined) s.acc = s.acc === undefined ? o.acc : this.agg.merge(s.acc, o.acc);
      this.ackLog.concat(s.acks, o.acks);
    }
    o.dead = true;
    this.sessions--;
  }

  advance(time: number): void {
    if (time <= this.time) return;
    this.time = time;
    const heap = this.heap;
    while (heap.size > 0 && heap.peek()!.at <= time) {
      const d = heap.pop()!;
      const s = d.s;
      if (s.dead) continue;
      if (d.kind === FIRE) {
        if (s.end > d.at) this.heap.push({ at: s.end, kind: FIRE, s }); // extended since
        else {
          if (s.firedVersion !== s.version) this.fire(s);
          this.heap.push({ at: s.end + this.latenessMs, kind: PURGE, s });
        }
      } else if (s.end + this.latenessMs > d.at) this.heap.push({ at: s.end, kind: FIRE, s }); // reopened by a late tuple
      else this.purge(s);
    }
  }

  private fire(s: Session): void {
    const update = s.firedVersion >= 0;
    let ok: boolean;
    if (this.agg === null) {
      const fresh: TupleImpl[] = [];
      for (let i = 0; i < s.tuples.length; i++) if (!update || s.seqs[i] > s.firedSeq) fresh.push(s.tuples[i]);
      ok = this.out.fireWindow(new FiredWindow(s.tuples.slice(), fresh, [], s.start, s.end, s.key, update));
      if (!ok) for (const t of s.tuples) this.out.failTuple(t);
    } else {
      ok = this.out.fireResult(s.key, this.agg.result(s.acc), this.info.set(s.start, s.end, s.key, update));
      if (!ok) s.failed = true;
    }
    s.firedVersion = s.version;
    s.firedSeq = this.seq;
  }

  private purge(s: Session): void {
    s.dead = true;
    this.sessions--;
    const list = this.byKey.get(s.key);
    if (list !== undefined) {
      const i = list.indexOf(s);
      if (i >= 0) list.splice(i, 1);
      if (list.length === 0) this.byKey.delete(s.key);
    }
    if (this.agg === null) {
      for (const t of s.tuples) this.out.expire(t);
      this.held -= s.tuples.length;
    } else this.ackLog.release(s.acks, this.sink, !s.failed);
  }

  nextDue(): number | null {
    return this.heap.peek()?.at ?? null;
  }

  openWindows(): number {
    return this.sessions;
  }
  heldTuples(): number {
    return this.agg === null ? this.held : this.ackLog.size();
  }
  buffered(): number {
    return this.agg === null ? this.held : this.sessions;
  }

  snapshot(): unknown {
    const out: unknown[] = [];
    for (const list of this.byKey.values()) {
      for (const s of list) {
        out.push({
          key: s.key,
          start: s.start,
          end: s.end,
          fired: s.firedVersion >= 0,
          changed: s.firedVersion !== s.version,
          firedSeq: s.firedSeq,
          failed: s.failed,
          tuples: s.tuples.map((t) => this.codec.encode(t)),
          seqs: s.seqs,
          acc: s.acc,
          acks: this.ackLog.snapshotList(s.acks),
        });
      }
    }
    return { time: this.time, seq: this.seq, sessions: out };
  }

  restore(snap0: unknown): void {
    const snap = snap0 as {
      time: number;
      seq: number;
      sessions: Array<{
        key: unknown;
        start: number;
        end: number;
        fired: boolean;
        changed: boolean;
        firedSeq: number;
        failed: boolean;
        tuples: unknown[];
        seqs: number[];
        acc: unknown;
        acks: number[][];
      }>;
    };
    for (const list of this.byKey.values()) for (const s of list) this.ackLog.release(s.acks, { ack() {}, fail() {} }, true);
    this.byKey.clear();
    this.heap.clear();
    this.sessions = 0;
    this.held = 0;
    this.time = snap.time;
    this.seq = snap.seq;
    for (const x of snap.sessions) {
      const s = new Session(++this.created, x.key, x.start, x.end);
      s.version = 1;
      s.firedVersion = x.fired ? (x.changed ? 0 : 1) : -1;
      s.firedSeq = x.firedSeq;
      s.failed = x.failed;
      for (const t of x.tuples) s.tuples.push(this.codec.decode(t));
      s.seqs.push(...x.seqs);
      s.acc = x.acc ?? undefined;
      this.ackLog.restoreList(s.acks, x.acks);
      this.held += s.tuples.length;
      let list = this.byKey.get(s.key);
      if (list === undefined) this.byKey.set(s.key, (list = []));
      list.push(s);
      this.sessions++;
      this.heap.push({ at: x.fired && !x.changed ? s.end + this.latenessMs : s.end, kind: x.fired && !x.changed ? PURGE : FIRE, s });
    }
  }
}
