function gcd(a: number, b: number): number {
  while (b !== 0) [a, b] = [b, a % b];
  return a;
}

/**
 * Time windows of `lengthMs` sliding by `slideMs` (tumbling when equal), aligned to `originMs`:
 * window j is [origin + j·slide − length, origin + j·slide). Time is cut into panes of
 * gcd(length, slide) ms, so a window is a run of whole panes and a tuple belongs to exactly one
 * pane: a sliding window keeps each tuple (or each key's accumulator) once per pane, not once per
 * window it is in.
 */
export class TimeGeometry {
  readonly paneMs: number;
  /** Panes per window. */
  readonly k: number;
  /** Panes per slide. */
  readonly step: number;

  constructor(
    readonly lengthMs: number,
    readonly slideMs: number,
    readonly originMs: number,
  ) {
    this.paneMs = gcd(lengthMs, slideMs);
    this.k = lengthMs / this.paneMs;
    this.step = slideMs / this.paneMs;
  }

  pane(ts: number): number {
    return Math.floor((ts - this.originMs) / this.paneMs);
  }
  /** Start time of pane `p`. */
  paneStart(p: number): number {
    return this.originMs + p * this.paneMs;
  }
  /** First and last window holding pane `p`. */
  firstWindow(p: number): number {
    return Math.floor(p / this.step) + 1;
  }
  lastWindow(p: number): number {
    return Math.floor((p + this.k) / this.step);
  }
  /** Panes of window j: [firstPane, endPane). */
  firstPane(j: number): number {
    return j * this.step - this.k;
  }
  endPane(j: number): number {
    return j * this.step;
  }
  end(j: number): number {
    return this.originMs + j * this.slideMs;
  }
  start(j: number): number {
    return this.end(j) - this.lengthMs;
  }
  /** The last window that ends at or before `time`. */
  lastDue(time: number): number {
    return Math.floor((time - this.originMs) / this.slideMs);
  }
}

/** Panes by id, with their ids kept sorted (panes mostly arrive in order: appending is the common case). */
export class PaneIndex<P extends { id: number }> {
  private readonly byId = new Map<number, P>();
  readonly ids: number[] = [];

  get size(): number {
    return this.ids.length;
  }
  get(id: number): P | undefined {
    return this.byId.get(id);
  }
  add(pane: P): void {
    this.byId.set(pane.id, pane);
    const ids = this.ids;
    let i = ids.length;
    while (i > 0 && ids[i - 1] > pane.id) i--;
    ids.splice(i, 0, pane.id);
  }
  /** The pane with the smallest id. */
  first(): P | undefined {
    return this.ids.length > 0 ? this.byId.get(this.ids[0]) : undefined;
  }
  removeFirst(): P | undefined {
    const id = this.ids.shift();
    if (id === undefined) return undefined;
    const p = this.byId.get(id);
    this.byId.delete(id);
    return p;
  }
  values(): P[] {
    return this.ids.map((id) => this.byId.get(id)!);
  }
  clear(): void {
    this.byId.clear();
    this.ids.length = 0;
  }

  /** Windows holding at least one pane that are not yet past `time` plus the lateness. */
  openWindows(geo: TimeGeometry, latenessMs: number, time: number): number {
    const ids = this.ids;
    if (ids.length === 0) return 0;
    let n = 0;
    this.forEachWindow(geo, geo.firstWindow(ids[0]) - 1, geo.lastWindow(ids[ids.length - 1]), (j) => {
      if (geo.end(j) + latenessMs > time) n++;
    });
    return n;
  }

  /**
   * Calls `fire(j)` for every window j in (after, upTo] that holds at least one pane, in order:
   * windows with no pane are skipped (as Storm skips empty windows), so a jump of the watermark
   * over a long empty stretch costs nothing.
   */
  forEachWindow(geo: TimeGeometry, after: number, upTo: number, fire: (j: number) => void): void {
    let j = after + 1;
    const ids = this.ids; // fire() adds and removes no pane
    for (let i = 0; i < ids.length; i++) {
      const p = ids[i];
      const lo = Math.max(geo.firstWindow(p), j);
      const hi = Math.min(geo.lastWindow(p), upTo);
      for (let w = lo; w <= hi; w++) fire(w);
      if (hi >= lo) j = hi + 1;
      if (j > upTo) return;
    }
  }
}
