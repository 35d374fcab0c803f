import type { TupleImpl } from '../../topology-api';

/**
 * The tuples a task holds while it aligns a barrier, and their release: in passes, in arrival
 * order, a bounded number per loop turn. A tuple whose channel is blocked again (a later barrier
 * of that channel was held and has run) stays held, and so does every later tuple of that channel
 * in the same pass, so each channel keeps its order; a pass that ends while a retained channel is
 * no longer blocked starts another. Overflow rule: the owner checks `size` against its bound and
 * gives up the checkpoint instead of holding more.
 */
export class HeldTuples {
  private held: TupleImpl[] = [];
  /** Next index to release in `held`; -1: not releasing. */
  private at = -1;
  private retained: TupleImpl[] = [];
  /** Channels with a tuple retained in the current pass. */
  private readonly retainedFrom: Uint8Array;

  constructor(taskCount: number) {
    this.retainedFrom = new Uint8Array(taskCount);
  }

  /** Tuples held, released ones of the current pass excluded. */
  get size(): number {
    return this.held.length - Math.max(0, this.at) + this.retained.length;
  }

  get releasing(): boolean {
    return this.at >= 0;
  }

  push(t: TupleImpl): void {
    this.held.push(t);
  }

  /** Starts releasing; false when there is nothing to release or a release runs already. */
  startRelease(): boolean {
    if (this.at >= 0 || this.held.length === 0) return false;
    this.at = 0;
    return true;
  }

  /**
   * Releases up to `budget` tuples through `run` while `canRun()`; `blocked(src)` says whether a
   * channel holds its tuples again. True when the release is over (nothing left to release now).
   */
  drain(budget: number, canRun: () => boolean, blocked: (src: number) => boolean, run: (t: TupleImpl) => void): boolean {
    if (this.at < 0) return true;
    const held = this.held;
    let n = 0;
    while (this.at < held.length && n < budget) {
      if (!canRun()) return false;
      const t = held[this.at];
      held[this.at++] = undefined as unknown as TupleImpl;
      n++;
      const src = t.sourceTask;
      if (src > 0 && (blocked(src) || this.retainedFrom[src] !== 0)) {
        this.retainedFrom[src] = 1;
        this.retained.push(t);
      } else run(t);
      if (this.held !== held) return true; // everything was dropped meanwhile (a rollback)
    }
    if (this.at < held.length) return false;
    const retained = this.retained;
    this.retained = [];
    let again = false;
    for (const t of retained) {
      this.retainedFrom[t.sourceTask] = 0;
      if (!blocked(t.sourceTask)) again = true;
    }
    this.held = retained;
    this.at = again ? 0 : -1;
    return !again;
  }

  /** Drops everything held; returns how many tuples were. */
  dropAll(): number {
    const n = this.size;
    for (const t of this.retained) this.retainedFrom[t.sourceTask] = 0;
    this.held = [];
    this.retained = [];
    this.at = -1;
    return n;
  }
}
