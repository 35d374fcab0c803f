/**
 * Reads the ledger a LedgerSpout component keeps (bench/chaos/components.ts) from outside the
 * topology, incrementally: `refresh()` reads only what was appended since the last call, and only
 * complete lines (a line being written, or cut by a kill -9, is read once it is whole, or never).
 *
 * What it answers: which message ids were emitted and acked (and when, first), how many emits
 * were replays, which ids are still unacked, and for a fault at time F how long the topology took
 * to recover: until every message emitted before F was acked.
 */
import * as fs from 'node:fs';
import * as path from 'node:path';

interface LedgerLine {
  id?: number;
  pid: number;
  t: number;
  event?: string;
}

/** One file read from an offset; a partial last line waits for its end. */
class Tail {
  private offset = 0;
  private rest = '';

  constructor(readonly file: string) {}

  read(onLine: (line: LedgerLine) => void): void {
    let fd: number;
    try {
      fd = fs.openSync(this.file, 'r');
    } catch (err) {
      if ((err as NodeJS.ErrnoException).code === 'ENOENT') return;
      throw err;
    }
    try {
      const size = fs.fstatSync(fd).size;
      if (size <= this.offset) return;
      const buf = Buffer.allocUnsafe(size - this.offset);
      const n = fs.readSync(fd, buf, 0, buf.length, this.offset);
      this.offset += n;
      const text = this.rest + buf.toString('utf8', 0, n);
      const end = text.lastIndexOf('\n');
      this.rest = text.slice(end + 1);
      if (end < 0) return;
      for (const line of text.slice(0, end).split('\n')) if (line.length > 0) onLine(JSON.parse(line) as LedgerLine);
    } finally {
      fs.closeSync(fd);
    }
  }
}

/** How a topology came back from one fault, from the ledger's times (wall ms). */
export interface Recovery {
  /** When the fault was injected. */
  faultMs: number;
  /** Messages emitted before the fault and not acked by then: what the fault put at risk. */
  inFlight: number;
  /** From the fault until every message emitted before it was acked (0 when none was in flight). */
  recoveredMs: number;
  /** The longest time without any ack, from the last ack before the fault until recovery. */
  stallMs: number;
  /**
   * From the fault to the start of the first 500 ms window after it with at least half as many acks
   * as such a window held on average in the 5 s before it (0: the rate never dropped), or null
   * while the rate is not back. It counts messages emitted after the fault, which `recoveredMs`
   * does not look at.
   */
  resumedMs: number | null;
}

/** The ack rate before a fault is measured over this long. */
const BASELINE_MS = 5_000;
/** Throughput is "back" once a window of this length holds half the acks it held before the fault. */
const RATE_WINDOW_MS = 500;

export class SpoutLedger {
  private readonly tails = new Map<string, Tail>();
  /** id → time of its first emit / first ack. */
  readonly firstEmit = new Map<number, number>();
  readonly firstAck = new Map<number, number>();
  /** Every ack time, in reading order (sort before use). */
  private readonly ackTimes: number[] = [];
  emits = 0;
  acks = 0;
  fails = 0;
  opens = 0;
  /** Spout processes seen (pids in the ledger). */
  readonly pids = new Set<number>();

  constructor(
    readonly dir: string,
    readonly component: string,
  ) {}

  /** Reads what was appended to the component's ledger files since the last call. */
  refresh(): this {
    const pattern = new RegExp(`^${this.component.replace(/[.*+?^${}()|[\]\\]/g, '\\$&')}-\\d+\\.(emitted|acked|events)\\.jsonl$`);
    let names: string[];
    try {
      names = fs.readdirSync(this.dir);
    } catch (err) {
      if ((err as NodeJS.ErrnoException).code === 'ENOENT') return this;
      throw err;
    }
    for (const name of names) {
      const m = pattern.exec(name);
      if (!m) continue;
      let tail = this.tails.get(name);
      if (!tail) this.tails.set(name, (tail = new Tail(path.join(this.dir, name))));
      const kind = m[1];
      tail.read((line) => this.add(kind, line));
    }
    return this;
  }

  private add(kind: string, line: LedgerLine): void {
    this.pids.add(line.pid);
    if (kind === 'emitted') {
      this.emits++;
      if (!this.firstEmit.has(line.id as number)) this.firstEmit.set(line.id as number, line.t);
    } else if (kind === 'acked') {
      this.acks++;
      this.ackTimes.push(line.t);
      if (!this.firstAck.has(line.id as number)) this.firstAck.set(line.id as number, line.t);
    } else if (line.event === 'fail') this.fails++;
    else if (line.event === 'open') this.opens++;
  }

  /** Distinct ids acked. */
  get acked(): number {
    return this.firstAck.size;
  }

  /** Distinct ids emitted. */
  get emitted(): number {
    return this.firstEmit.size;
  }

  /** Emits beyond the first of each id. */
  get replays(): number {
    return this.emits - this.firstEmit.size;
  }

  /** Acks beyond the first of each id (a message acked, then replayed by a restarted task and acked again). */
  get duplicateAcks(): number {
    return this.acks - this.firstAck.size;
  }

  /** Ids emitted and never acked, ascending. */
  unacked(): number[] {
    const out: number[] = [];
    for (const id of this.firstEmit.keys()) if (!this.firstAck.has(id)) out.push(id);
    return out.sort((a, b) => a - b);
  }

  /** Ids in [0, count) not acked, ascending (for a finite input). */
  missingBelow(count: number): number[] {
    const out: number[] = [];
    for (let id = 0; id < count; id++) if (!this.firstAck.has(id)) out.push(id);
    return out;
  }

  /**
   * Ids that should have been emitted and were not acked: for each of the `tasks` shares (ids ≡ i
   * mod tasks), every id up to the highest one of that share first emitted by `untilMs`. A gap in
   * the emitted ids (a message a restarted spout skipped) counts as well as an unacked one.
   */
  gaps(tasks: number, untilMs = Infinity): number[] {
    const highest = new Array<number>(tasks).fill(-1);
    for (const [id, t] of this.firstEmit) if (t <= untilMs && id > highest[id % tasks]) highest[id % tasks] = id;
    const out: number[] = [];
    for (let share = 0; share < tasks; share++) for (let id = share; id <= highest[share]; id += tasks) if (!this.firstAck.has(id)) out.push(id);
    return out.sort((a, b) => a - b);
  }

  /** The highest id emitted so far (-1 before any). */
  highestEmitted(): number {
    let h = -1;
    for (const id of this.firstEmit.keys()) if (id > h) h = id;
    return h;
  }

  /**
   * Recovery from a fault at `faultMs`, or null while some message emitted before it is unacked.
   * Call `refresh()` first.
   */
  recovery(faultMs: number): Recovery | null {
    let inFlight = 0;
    let lastAckMs = faultMs;
    for (const [id, emittedMs] of this.firstEmit) {
      if (emittedMs > faultMs) continue;
      const ackedMs = this.firstAck.get(id);
      if (ackedMs === undefined) return null;
      if (ackedMs > faultMs) {
        inFlight++;
        if (ackedMs > lastAckMs) lastAckMs = ackedMs;
      }
    }
    const resumedMs = this.resumedAfter(faultMs);
    // the stall is looked for until recovery, and through the first window at the usual rate
    const endMs = Math.max(lastAckMs, faultMs + (resumedMs ?? 0) + RATE_WINDOW_MS);
    return { faultMs, inFlight, recoveredMs: lastAckMs - faultMs, stallMs: this.longestGap(faultMs, endMs), resumedMs };
  }

  /** See `Recovery.resumedMs`. */
  resumedAfter(faultMs: number): number | null {
    const times = this.ackTimes.filter((t) => t >= faultMs - BASELINE_MS).sort((a, b) => a - b);
    const before = times.filter((t) => t <= faultMs).length;
    const wanted = Math.ceil((0.5 * before * RATE_WINDOW_MS) / BASELINE_MS);
    if (wanted === 0) return 0;
    let lo = times.findIndex((t) => t > faultMs);
    if (lo < 0) return null;
    // windows (t - RATE_WINDOW_MS, t] ending at each ack after the fault, counting only acks after it
    for (let hi = lo; hi < times.length; hi++) {
      while (times[lo] <= times[hi] - RATE_WINDOW_MS) lo++;
      if (hi - lo + 1 >= wanted) return Math.max(0, times[hi] - RATE_WINDOW_MS - faultMs);
    }
    return null;
  }

  /** The longest time without an ack that overlaps [fromMs, toMs] (from the last ack before `fromMs`). */
  longestGap(fromMs: number, toMs: number): number {
    const times = this.ackTimes.filter((t) => t <= toMs).sort((a, b) => a - b);
    let i = times.findIndex((t) => t > fromMs);
    if (i < 0) return Math.max(0, toMs - (times.at(-1) ?? fromMs));
    let gap = 0;
    let prev = i > 0 ? times[i - 1] : fromMs;
    for (; i < times.length; i++) {
      gap = Math.max(gap, times[i] - prev);
      prev = times[i];
    }
    return Math.max(gap, toMs - prev);
  }
}
