/**
 * Window figures of windowed bolts (ExecutorStats.windows; docs/windowing.md): summed over tasks
 * and executors, the watermark as the lowest (the one holding windows back).
 */
export interface WindowingStats {
  /** Windows holding state. */
  open: number;
  /** Tuples buffered, or accumulators with incremental aggregation. */
  buffered: number;
  /** Lowest event-time watermark (ms); null in processing time or before the first one. */
  watermarkMs: number | null;
  /** Tuples too late for every window. */
  late: number;
  /** Of those, dropped because no late tuple stream is set. */
  lateDropped: number;
}

/** Sums window figures (undefined entries are skipped); undefined when there are none. */
export function sumWindowStats(list: ReadonlyArray<WindowingStats | undefined>): WindowingStats | undefined {
  let out: WindowingStats | undefined;
  for (const w of list) {
    if (w === undefined) continue;
    if (out === undefined) {
      out = { ...w };
      continue;
    }
    out.open += w.open;
    out.buffered += w.buffered;
    out.late += w.late;
    out.lateDropped += w.lateDropped;
    out.watermarkMs = out.watermarkMs === null ? w.watermarkMs : w.watermarkMs === null ? out.watermarkMs : Math.min(out.watermarkMs, w.watermarkMs);
  }
  return out;
}
