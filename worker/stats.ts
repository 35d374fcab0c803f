import { Histogram } from '../common/histogram';
import { UserMetricsRegistry } from './user-metrics';
import type { ExecutorStats } from '../common/cluster-state/types';
import type { StreamInfo } from '../common/topology-layout';
import { ACKER_COMPONENT_ID, SYSTEM_COMPONENT_ID, SYSTEM_TICK_STREAM_ID } from '../topology-api';

/**
 * Exact counters of one executor, kept in typed arrays indexed by the topology's stream numbers
 * so counting is one array increment (no map lookup, no allocation per tuple). Input streams use
 * the same numbering; `tickIndex` counts tick tuples and `ackerIndex` the acker's own messages.
 * Latencies are sums measured per batch (one clock read per batch, not per tuple), so their
 * averages are exact means over every tuple; complete latency also keeps a histogram.
 */
export class ExecutorStatsCollector {
  readonly emitted: Float64Array;
  readonly transferred: Float64Array;
  readonly executed: Float64Array;
  readonly acked: Float64Array;
  readonly failed: Float64Array;
  executeMsTotal = 0;
  processMsTotal = 0;
  processCount = 0;
  completeMsTotal = 0;
  readonly complete = new Histogram();
  /** Async bolts: calls of this executor's tasks unfinished now, and calls that timed out. */
  inflight = 0;
  asyncTimedOut = 0;
  /** Set at the first async call; snapshots carry `inflight` and `asyncTimedOut` from then on. */
  asyncSeen = false;
  /** Busy time and wall time of the current capacity window. */
  private windowBusyMs = 0;
  private windowStartMs: number;
  private lastCapacity = 0;
  readonly tickIndex: number;
  readonly ackerIndex: number;

  constructor(
    readonly component: string,
    readonly start: number,
    readonly end: number,
    readonly kind: 'spout' | 'bolt',
    private readonly streams: readonly StreamInfo[],
    private readonly startedMs: number,
  ) {
    const n = streams.length + 2;
    this.tickIndex = streams.length;
    this.ackerIndex = streams.length + 1;
    this.emitted = new Float64Array(n);
    this.transferred = new Float64Array(n);
    this.executed = new Float64Array(n);
    this.acked = new Float64Array(n);
    this.failed = new Float64Array(n);
    this.windowStartMs = startedMs;
  }

  /** User metrics its tasks registered (context.register*). */
  readonly userMetrics = new UserMetricsRegistry();
  /** Execute latency of bolts, one entry per tuple at its batch's mean (recorded per batch). */
  readonly execute = new Histogram();
  /** Time parked by backpressure, closed periods; `parkedSinceMs` is the open one (-1: none). */
  backpressureMs = 0;
  private parkedSinceMs = -1;

  /** Busy time of a batch; with `tuples`, also the batch's mean into the execute histogram. */
  addBusy(ms: number, tuples = 0): void {
    this.executeMsTotal += ms;
    this.windowBusyMs += ms;
    if (tuples > 0) this.execute.recordManyUs((ms * 1000) / tuples, tuples);
  }

  /** Called once per loop turn: whether the executor is parked (has work, a queue it feeds is full). */
  trackParked(parked: boolean, nowMs: number): void {
    if (parked) {
      if (this.parkedSinceMs < 0) this.parkedSinceMs = nowMs;
    } else if (this.parkedSinceMs >= 0) {
      this.backpressureMs += nowMs - this.parkedSinceMs;
      this.parkedSinceMs = -1;
    }
  }

  /** Backpressure time including a period still open at `nowMs`. */
  backpressureMsAt(nowMs: number): number {
    return this.backpressureMs + (this.parkedSinceMs >= 0 ? Math.max(0, nowMs - this.parkedSinceMs) : 0);
  }

  /**
   * An async call settled (or timed out) `ms` after execute returned its promise: execute latency
   * counts it in full (so it measures to settlement); capacity counts it as a 1/`limit` share of
   * the task, so a task at its in-flight limit for a whole window is at capacity 1.
   */
  addAsync(ms: number, limit: number): void {
    this.executeMsTotal += ms;
    this.windowBusyMs += ms / limit;
  }

  /**
   * Capacity (busy fraction) over the window since the last roll; Storm's "capacity". A window
   * shorter than a second is kept open, so two reads in quick succession do not report zero.
   */
  rollCapacity(nowMs: number): number {
    const span = nowMs - this.windowStartMs;
    if (span < 1000) return this.lastCapacity;
    this.lastCapacity = this.windowBusyMs / span;
    this.windowBusyMs = 0;
    this.windowStartMs = nowMs;
    return this.lastCapacity;
  }

  private streamName(i: number, input: boolean): string {
    if (i === this.tickIndex) return `${SYSTEM_COMPONENT_ID}:${SYSTEM_TICK_STREAM_ID}`;
    if (i === this.ackerIndex) return ACKER_COMPONENT_ID;
    const s = this.streams[i];
    return input ? `${s.component}:${s.stream}` : s.stream;
  }

  private toRecord(counts: Float64Array, input: boolean): Record<string, number> {
    const out: Record<string, number> = {};
    for (let i = 0; i < counts.length; i++) if (counts[i] !== 0) out[this.streamName(i, input)] = counts[i];
    return out;
  }

  /** Cumulative stats; `realNowMs` is the loop's clock (performance.now), for backpressure time. */
  snapshot(nowMs: number, realNowMs = nowMs): ExecutorStats {
    const byInput = this.kind === 'bolt';
    const s: ExecutorStats = {
      component: this.component,
      start: this.start,
      end: this.end,
      kind: this.kind,
      emitted: this.toRecord(this.emitted, false),
      transferred: this.toRecord(this.transferred, false),
      executed: this.toRecord(this.executed, true),
      acked: this.toRecord(this.acked, byInput),
      failed: this.toRecord(this.failed, byInput),
      executeMsTotal: this.executeMsTotal,
      processMsTotal: this.processMsTotal,
      processCount: this.processCount,
      completeMsTotal: this.completeMsTotal,
      capacity: this.lastCapacity,
      uptimeSecs: Math.max(0, Math.floor((nowMs - this.startedMs) / 1000)),
      backpressureMs: this.backpressureMsAt(realNowMs),
    };
    if (this.asyncSeen) {
      s.inflight = this.inflight;
      s.asyncTimedOut = this.asyncTimedOut;
    }
    const metrics = this.userMetrics.snapshot();
    if (metrics) s.metrics = metrics;
    if (this.kind === 'spout') s.completeHistogram = this.complete.toSparse();
    else if (this.execute.total > 0) s.executeHistogram = this.execute.toSparse();
    return s;
  }
}

export function sum(counts: Record<string, number>): number {
  let n = 0;
  for (const k in counts) n += counts[k];
  return n;
}
