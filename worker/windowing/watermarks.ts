/**
 * Event-time progress of one windowed task: the watermark is the minimum, over the task's input
 * tasks, of the newest event time each has sent, minus the lag. Input tasks that are idle do not
 * count (Flink's idleness).
 *
 * Idleness is decided from progress markers, not from a clock: every upstream task sends a marker
 * on the `__watermark` system stream at the watermark interval, in band behind its data. An input
 * that sent `idleAfter` markers in a row with no data between them has been silent for at least
 * the idle timeout, and, because the markers travel behind the data, nothing it sent before them
 * is still on its way: it is idle. A link that stalls delivers no markers either, so a stalled
 * input keeps holding the watermark back (its data is late, not absent). Data from an idle input
 * makes it count again at once.
 *
 * When every input is idle, nothing is in flight anywhere: the watermark moves up to the newest
 * event time any input sent (minus the lag), so the windows that data closes fire instead of
 * waiting for input that may never come. The watermark never goes back: an input that resumes
 * behind it sends late tuples.
 */
export class WatermarkTracker {
  /** Newest event time per input task (by task id); -Infinity before its first tuple. */
  private readonly maxTs: Float64Array;
  /** Markers in a row without data, per input task. */
  private readonly quiet: Int32Array;
  /** Data since the last marker, per input task. */
  private readonly dataSinceMarker: Uint8Array;
  private readonly idle: Uint8Array;
  private readonly isInput: Uint8Array;
  /** The input holding the watermark back (the recompute is needed only when it moves). */
  private minTask = -1;
  watermark = -Infinity;

  constructor(
    private readonly inputs: readonly number[],
    private readonly lagMs: number,
    /** Quiet markers in a row after which an input is idle (Infinity: never). */
    private readonly idleAfter: number,
  ) {
    const n = Math.max(0, ...inputs) + 1;
    this.maxTs = new Float64Array(n).fill(-Infinity);
    this.quiet = new Int32Array(n);
    this.dataSinceMarker = new Uint8Array(n);
    this.idle = new Uint8Array(n);
    this.isInput = new Uint8Array(n);
    for (const t of inputs) this.isInput[t] = 1;
    this.minTask = inputs.length > 0 ? inputs[0] : -1;
  }

  /** A data tuple with event time `ts` from `task`; true when the watermark moved. */
  onData(task: number, ts: number): boolean {
    if (task >= this.isInput.length || this.isInput[task] === 0) return false; // not an input (a self-loop, a direct emit)
    this.dataSinceMarker[task] = 1;
    if (this.idle[task] === 1) {
      this.idle[task] = 0;
      this.quiet[task] = 0;
      if (ts > this.maxTs[task]) this.maxTs[task] = ts;
      return this.recompute();
    }
    if (ts > this.maxTs[task]) {
      this.maxTs[task] = ts;
      if (task === this.minTask) return this.recompute();
    }
    return false;
  }

  /** A progress marker from `task`; true when the watermark moved (the task went idle). */
  onMarker(task: number): boolean {
    if (task >= this.isInput.length || this.isInput[task] === 0) return false;
    if (this.dataSinceMarker[task] === 1) {
      this.dataSinceMarker[task] = 0;
      this.quiet[task] = 0;
      return false;
    }
    if (this.idle[task] === 1) return false;
    if (++this.quiet[task] < this.idleAfter) return false;
    this.idle[task] = 1;
    return this.recompute();
  }

  /** Whether an input currently counts as idle. */
  isIdle(task: number): boolean {
    return this.idle[task] === 1;
  }

  private recompute(): boolean {
    let min = Infinity;
    let minTask = -1;
    let max = -Infinity;
    const inputs = this.inputs;
    for (let i = 0; i < inputs.length; i++) {
      const t = inputs[i];
      if (this.maxTs[t] > max) max = this.maxTs[t];
      if (this.idle[t] === 1) continue;
      if (this.maxTs[t] < min) {
        min = this.maxTs[t];
        minTask = t;
      }
    }
    if (minTask >= 0) this.minTask = minTask;
    else min = max; // every input idle: up to the newest event time seen
    const w = min - this.lagMs;
    if (w <= this.watermark) return false;
    this.watermark = w;
    return true;
  }

  snapshot(): unknown {
    return { watermark: this.watermark, maxTs: this.inputs.map((t) => this.maxTs[t]) };
  }

  restore(s: unknown): void {
    const snap = s as { watermark: number; maxTs: number[] };
    this.watermark = snap.watermark;
    this.inputs.forEach((t, i) => {
      this.maxTs[t] = snap.maxTs[i] ?? -Infinity;
      this.idle[t] = 0;
      this.quiet[t] = 0;
    });
    this.recompute();
  }
}
