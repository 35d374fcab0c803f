import {
  Fields,
  TupleImpl,
  WATERMARK_STREAM_ID,
  squallError,
  windowSpec,
  isWindowedConfig,
  type Aggregate,
  type IBolt,
  type IWindowedBolt,
  type OutputCollector,
  type TimestampExtractor,
  type TopologyConfig,
  type TopologyContext,
  type Tuple,
  type WindowInfo,
  type WindowSpec,
} from '../../topology-api';
import type { Clock, TimerHandle } from '../../common/clock';
import type { StreamInfo } from '../../common/topology-layout';
import type { WindowingStats } from '../../common/window-stats';
import type { BoltTask } from '../tasks';
import { AckLog } from './ack-log';
import { AggregateTimeWindows } from './aggregate-time-windows';
import { CountClockWindows, TupleSequenceWindows } from './count-windows';
import type { FiredWindow, TupleCodec, WindowEngine, WindowOutput } from './engine';
import { ReorderedWindows } from './reorder';
import { SessionWindows } from './sessions';
import { TimeGeometry } from './time-geometry';
import { TupleTimeWindows } from './tuple-time-windows';
import { WatermarkTracker } from './watermarks';
import { WindowCollector } from './window-collector';

/** What a windowed executor needs from its worker. */
export interface WindowedEnv {
  readonly clock: Clock;
  /** The topology's streams by index (decoding snapshots). */
  readonly streams: readonly StreamInfo[];
  /** Every task feeding this bolt (the watermark's inputs). */
  readonly inputTasks: readonly number[];
}

const UNKNOWN = -1;

/**
 * Storm's WindowedBoltExecutor: runs an IWindowedBolt as a rich bolt. It finds each tuple's time
 * (event time from the timestamp field or extractor, or processing time) and key, feeds the window
 * engine the bolt's settings call for, keeps the watermark from the tuples and the upstream
 * progress markers, and turns what the engine fires into `execute(window)` (emits anchored to the
 * window's tuples) or `executeAggregate(key, result, window)` calls. Acks tuples as they leave
 * their last window; late tuples go to the late tuple stream or are dropped and counted.
 *
 * Processing time never reads the clock per tuple: a timer sends the task a tick through its own
 * inbox (a `__watermark` tuple addressed to itself), so ticks stay in order with the data, and
 * a tuple belongs to the pane of the ticks that came before it.
 */
export class WindowedBoltExecutor implements IBolt, WindowOutput, TupleCodec {
  private spec!: WindowSpec;
  private engine!: WindowEngine;
  private tracker: WatermarkTracker | null = null;
  private reorder: ReorderedWindows | null = null;
  private aggregate: Aggregate | null = null;
  private extractor: TimestampExtractor | null = null;
  private collector!: WindowCollector;
  private readonly ackLog = new AckLog();
  private readonly timers: TimerHandle[] = [];
  /** Per input stream index: position of the key and the timestamp fields (UNKNOWN until first seen). */
  private keyIndex = new Int32Array(0);
  private tsIndex = new Int32Array(0);
  private keyField: string | null = null;
  private tickIndex = 0;
  /** Processing time, time windows: the panes elapsed (ticks) and where they started (wall ms). */
  private ticks = 0;
  private originMs = 0;
  private paneMs = 0;
  /** Processing time: tuples carry the wall clock (sessions, duration lengths over counts). */
  private readsClock = false;
  private sessionTimer: TimerHandle | null = null;
  private maxHeld = Infinity;
  private late = 0;
  private lateDropped = 0;
  private overflowed = 0;
  private readonly fieldsCache = new Map<number, Fields>();

  constructor(
    readonly user: IWindowedBolt,
    private readonly task: BoltTask,
    private readonly env: WindowedEnv,
  ) {}

  prepare(conf: Readonly<TopologyConfig>, context: TopologyContext, collector: OutputCollector): void {
    const spec = windowSpec(conf);
    this.spec = spec;
    this.keyField = spec.keyField;
    this.maxHeld = spec.maxBufferedTuples;
    this.aggregate = this.user.getAggregate?.() ?? null;
    this.extractor = this.user.getTimestampExtractor?.() ?? null;
    this.tickIndex = this.env.streams.length;
    this.keyIndex = new Int32Array(this.tickIndex).fill(UNKNOWN);
    this.tsIndex = new Int32Array(this.tickIndex).fill(UNKNOWN);
    this.check(conf);
    this.collector = new WindowCollector(collector);
    this.engine = this.createEngine();
    if (spec.eventTime) {
      const idleAfter = spec.idleTimeoutMs === Infinity ? Infinity : Math.max(1, Math.ceil(spec.idleTimeoutMs / spec.watermarkIntervalMs));
      this.tracker = new WatermarkTracker(this.env.inputTasks, spec.lagMs, idleAfter);
    }
    this.user.prepare?.(conf, context, this.aggregate === null ? this.collector : collector);
  }

  private check(conf: Readonly<TopologyConfig>): void {
    const component = this.task.component;
    const fail = (why: string): never => {
      throw squallError('ERR_WINDOW_INVALID', `bolt "${component}": ${why}`);
    };
    if (!isWindowedConfig(conf)) fail('it has no window: call withWindow, withTumblingWindow or withSessionWindow');
    const agg = this.aggregate;
    if (agg !== null) {
      for (const m of ['create', 'add', 'merge', 'result'] as const) if (typeof agg[m] !== 'function') fail(`its aggregate has no ${m}()`);
      if (typeof this.user.executeAggregate !== 'function') fail('withAggregate needs executeAggregate(key, result, window)');
      if (agg.create() === undefined) fail("its aggregate's create() returned undefined");
      const s = this.spec;
      if (s.kind === 'sliding' && (s.lengthCount === null) !== (s.slideCount === null)) {
        fail('withAggregate needs a length and a slide of the same kind (both counts or both durations)');
      }
    }
    if (this.spec.eventTime && this.spec.timestampField === null && this.extractor === null) fail('event time is set but there is no timestamp field or extractor');
  }

  /** The engine for the bolt's windows (see docs/windowing.md, "How windows are kept"). */
  private createEngine(): WindowEngine {
    const s = this.spec;
    const agg = this.aggregate;
    const keyed = s.keyField !== null;
    const clock = this.env.clock;
    if (s.kind === 'session') {
      this.readsClock = !s.eventTime;
      return new SessionWindows(s.gapMs!, s.allowedLatenessMs, agg, this, this.ackLog, this.task, this);
    }
    if (s.lengthMs !== null && s.slideMs !== null) {
      const geo = new TimeGeometry(s.lengthMs, s.slideMs, 0);
      if (!s.eventTime) {
        this.paneMs = geo.paneMs;
        this.originMs = this.tickAligned(geo.paneMs);
      }
      return agg !== null
        ? new AggregateTimeWindows(geo, s.allowedLatenessMs, agg, this, this.ackLog, this.task)
        : new TupleTimeWindows(geo, s.allowedLatenessMs, keyed, this, this);
    }
    const countEnd = (): number => (this.reorder !== null ? this.reorder.watermark() : clock.wallNow());
    let inner: WindowEngine;
    if (s.lengthCount !== null && s.slideCount !== null) {
      const geo = new TimeGeometry(s.lengthCount, s.slideCount, 0);
      inner = new CountClockWindows(
        agg !== null
          ? new AggregateTimeWindows(geo, 0, agg, this, this.ackLog, this.task, countEnd)
          : new TupleTimeWindows(geo, 0, keyed, this, this, countEnd),
      );
    } else {
      inner = new TupleSequenceWindows(s, keyed, this, this, () => clock.wallNow());
      if (!s.eventTime) {
        this.readsClock = s.lengthMs !== null;
        if (s.slideMs !== null) this.tickAligned(s.slideMs);
      }
    }
    if (!s.eventTime) return inner;
    this.reorder = new ReorderedWindows(inner, s.slideMs, this);
    return this.reorder;
  }

  // ---- tuples ---------------------------------------------------------------------------------

  execute(input: Tuple): void {
    const t = input as TupleImpl;
    const si = t.streamIndex;
    if (si >= this.tickIndex) return; // tick tuples are not windowed (and untracked)
    if (this.engine.heldTuples() >= this.maxHeld) return this.overflow(t);
    const key = this.keyField === null ? null : t.values[this.keyIndex[si] >= 0 ? this.keyIndex[si] : this.keyPosition(t)];
    const tracker = this.tracker;
    if (tracker !== null) {
      const ts = this.timestamp(t);
      const moved = tracker.onData(t.sourceTask, ts);
      if (!this.engine.add(t, ts, key)) this.lateTuple(t);
      if (moved) this.engine.advance(tracker.watermark);
      return;
    }
    const ts = this.paneMs > 0 ? this.originMs + this.ticks * this.paneMs : this.readsClock ? this.env.clock.wallNow() : 0;
    this.engine.add(t, ts, key);
    if (this.sessionTimer === null && this.spec.kind === 'session') this.armSessionTimer();
  }

  private keyPosition(t: TupleImpl): number {
    const i = t.fields.fieldIndex(this.keyField!);
    this.keyIndex[t.streamIndex] = i;
    return i;
  }

  private timestamp(t: TupleImpl): number {
    let ts: unknown;
    if (this.extractor !== null) {
      try {
        ts = this.extractor.extractTimestamp(t);
      } catch (err) {
        throw squallError('ERR_WINDOW_TIMESTAMP', `bolt "${this.task.component}": the timestamp extractor threw on a tuple from ${t.sourceComponent}:${t.sourceStreamId}`, { cause: err });
      }
    } else {
      let i = this.tsIndex[t.streamIndex];
      if (i === UNKNOWN) {
        i = t.fields.contains(this.spec.timestampField!) ? t.fields.fieldIndex(this.spec.timestampField!) : -2;
        this.tsIndex[t.streamIndex] = i;
      }
      ts = i >= 0 ? t.values[i] : undefined;
    }
    if (typeof ts !== 'number' || !Number.isFinite(ts)) {
      const field = this.spec.timestampField;
      throw squallError(
        'ERR_WINDOW_TIMESTAMP',
        `bolt "${this.task.component}": a tuple from ${t.sourceComponent}:${t.sourceStreamId} has no usable timestamp (${field !== null ? `field "${field}"` : 'extractor'} gave ${JSON.stringify(ts) ?? String(ts)}); it needs a finite number of ms`,
      );
    }
    return ts;
  }

  private lateTuple(t: TupleImpl): void {
    this.late++;
    const stream = this.spec.lateStream;
    if (stream !== null) this.task.emit([t.values], t, stream);
    else this.lateDropped++;
    this.task.ack(t); // as Storm: a late tuple is acked (after its emit on the late stream)
  }

  private overflow(t: TupleImpl): void {
    this.overflowed++;
    this.task.fail(t);
    this.task.reportError(
      squallError('ERR_WINDOW_BUFFER_FULL', `bolt "${this.task.component}" task ${this.task.taskId} holds ${this.maxHeld} tuples (topology.bolts.window.max.buffered.tuples): failed ${this.overflowed} so far`),
    );
  }

  // ---- time -----------------------------------------------------------------------------------

  /** A `__watermark` tuple for this task: its own processing-time tick, or an upstream progress marker. */
  onSystem(tuple: TupleImpl): void {
    const value = tuple.values[0];
    if (tuple.sourceTask === this.task.taskId && typeof value === 'number') return this.onTick();
    const tracker = this.tracker;
    if (tracker !== null && tracker.onMarker(tuple.sourceTask)) this.engine.advance(tracker.watermark);
  }

  /**
   * Processing-time ticks every `periodMs`, on multiples of it in wall-clock time (as Flink aligns
   * processing-time windows), so every task in every worker cuts time at the same instants.
   * Returns the start of the current period.
   */
  private tickAligned(periodMs: number): number {
    const clock = this.env.clock;
    const now = clock.wallNow();
    const start = Math.floor(now / periodMs) * periodMs;
    const first = clock.setTimeout(() => {
      this.sendTick();
      this.timers.push(clock.setInterval(() => this.sendTick(), periodMs));
    }, start + periodMs - now);
    this.timers.push(first);
    return start;
  }

  private sendTick(): void {
    this.task.emitSystem(WATERMARK_STREAM_ID, [this.env.clock.wallNow()], [this.task.taskId]);
  }

  private onTick(): void {
    if (this.paneMs > 0) {
      this.ticks++;
      this.engine.advance(this.originMs + this.ticks * this.paneMs);
      return;
    }
    this.engine.advance(this.env.clock.wallNow());
    if (this.spec.kind === 'session') {
      this.sessionTimer = null;
      this.armSessionTimer();
    }
  }

  /** Processing-time sessions: one timer, at the earliest session end (sessions only ever end later). */
  private armSessionTimer(): void {
    const due = this.engine.nextDue?.() ?? null;
    if (due === null) return;
    const clock = this.env.clock;
    this.sessionTimer = clock.setTimeout(() => this.sendTick(), Math.max(0, due - clock.wallNow()));
  }

  // ---- what the engine fires --------------------------------------------------------------------

  fireWindow(window: FiredWindow): boolean {
    this.collector.window = window.tuples;
    try {
      this.user.execute(window);
      return true;
    } catch (err) {
      this.task.reportError(err);
      return false;
    } finally {
      this.collector.window = null;
    }
  }

  fireResult(key: unknown, result: unknown, info: WindowInfo): boolean {
    try {
      this.user.executeAggregate!(key, result, info);
      return true;
    } catch (err) {
      this.task.reportError(err);
      return false;
    }
  }

  expire(t: TupleImpl): void {
    this.task.ack(t);
  }

  failTuple(t: TupleImpl): void {
    this.task.fail(t);
  }

  // ---- snapshots (checkpoints) and stats ------------------------------------------------------

  encode(t: TupleImpl): unknown {
    let more = t.moreAnchors;
    if (more !== null) {
      more = more.slice(); // ack values of the further roots, with what was anchored on `t` folded in
      for (let k = 0; k < more.length; k += 3) {
        more[k + 1] ^= t.ackHi;
        more[k + 2] ^= t.ackLo;
      }
    }
    return [t.values, t.streamIndex, t.sourceTask, t.root0, t.edgeHi0 ^ t.ackHi, t.edgeLo0 ^ t.ackLo, more];
  }

  decode(x: unknown): TupleImpl {
    const [values, si, sourceTask, root, hi, lo, more] = x as [unknown[], number, number, number, number, number, number[] | null];
    const info = this.env.streams[si];
    let fields = this.fieldsCache.get(si);
    if (fields === undefined) this.fieldsCache.set(si, (fields = new Fields(info.fields)));
    const t = new TupleImpl(values, fields, info.component, sourceTask, info.stream, root, hi, lo, more);
    t.streamIndex = si;
    return t;
  }

  /** The window manager's whole state, as plain data: windows, held tuples or accumulators, watermark. */
  snapshot(): unknown {
    return {
      engine: this.engine.snapshot(),
      tracker: this.tracker?.snapshot() ?? null,
      ticks: this.ticks,
      late: this.late,
      lateDropped: this.lateDropped,
    };
  }

  restore(s: unknown): void {
    const snap = s as { engine: unknown; tracker: unknown; ticks: number; late: number; lateDropped: number };
    this.engine.restore(snap.engine);
    if (this.tracker !== null && snap.tracker !== null) this.tracker.restore(snap.tracker);
    this.ticks = snap.ticks;
    this.late = snap.late;
    this.lateDropped = snap.lateDropped;
  }

  stats(): WindowingStats {
    const w = this.tracker?.watermark ?? null;
    return {
      open: this.engine.openWindows(),
      buffered: this.engine.buffered(),
      watermarkMs: w !== null && Number.isFinite(w) ? w : null,
      late: this.late,
      lateDropped: this.lateDropped,
    };
  }

  cleanup(): void {
    for (const t of this.timers) this.env.clock.clear(t);
    this.timers.length = 0;
    if (this.sessionTimer !== null) this.env.clock.clear(this.sessionTimer);
    this.sessionTimer = null;
    this.user.cleanup?.();
  }

  declareOutputFields(): void {}
}
