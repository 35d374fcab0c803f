import { squallError } from '../common/errors';

/**
 * Runs async tasks one at a time, in arrival order: Nimbus's mutations (submit, kill, rebalance,
 * monitor rounds) read-modify-write cluster state and must not interleave. Bounded: past
 * `pendingMax` waiting or running tasks, `run` fails at once with ERR_BUSY (overflow rule: refuse
 * the newcomer, never drop queued work).
 */
export class SerialQueue {
  private tail: Promise<void> = Promise.resolve();
  private pending = 0;

  constructor(private readonly pendingMax: number) {}

  run<T>(task: () => Promise<T>): Promise<T> {
    if (this.pending >= this.pendingMax) return Promise.reject(squallError('ERR_BUSY', `${this.pending} operations are already queued`));
    this.pending++;
    const result = this.tail.then(task);
    this.tail = result.then(
      () => this.done(),
      () => this.done(),
    );
    return result;
  }

  /** Tasks waiting or running. */
  size(): number {
    return this.pending;
  }

  /** Resolves once every task queued so far (and any they queue) has finished. */
  async idle(): Promise<void> {
    while (this.pending > 0) await this.tail;
  }

  private done(): void {
    this.pending--;
  }
}
