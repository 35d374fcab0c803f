/**
 * Writes worker heartbeats and errors into cluster state, one write at a time, off the slots'
 * path. Both queues are bounded: a heartbeat replaces the unwritten one of the same worker (only
 * the newest matters), and past ERRORS_QUEUED_MAX errors the oldest unwritten one is dropped and
 * counted. A failed write is logged and not retried: the next heartbeat supersedes it.
 */
import type { ClusterState } from '../common/cluster-state/cluster-state';
import type { ComponentError, WorkerBeat } from '../common/cluster-state/types';
import { describeError } from '../common/errors';
import type { Logger } from '../common/logging';

export const ERRORS_QUEUED_MAX = 100;

interface QueuedError {
  topologyId: string;
  component: string;
  error: ComponentError;
  historySize: number;
}

export class StateWriter {
  private readonly beats = new Map<string, WorkerBeat>();
  private readonly errors: QueuedError[] = [];
  private running: Promise<void> | null = null;
  private droppedErrors = 0;
  private closed = false;

  constructor(
    private readonly state: ClusterState,
    private readonly logger: Logger,
  ) {}

  beat(beat: WorkerBeat): void {
    if (this.closed) return;
    this.beats.set(`${beat.topologyId}/${beat.node}-${beat.port}`, beat);
    this.kick();
  }

  error(topologyId: string, component: string, error: ComponentError, historySize: number): void {
    if (this.closed) return;
    if (this.errors.length >= ERRORS_QUEUED_MAX) {
      this.errors.shift();
      this.droppedErrors += 1;
      if (this.droppedErrors === 1 || this.droppedErrors % 100 === 0) this.logger.warn({ droppedErrors: this.droppedErrors }, 'error reports arrive faster than cluster state takes them; dropping the oldest');
    }
    this.errors.push({ topologyId, component, error, historySize });
    this.kick();
  }

  /** Drops what is queued; the write in progress finishes on its own. */
  close(): void {
    this.closed = true;
    this.beats.clear();
    this.errors.length = 0;
  }

  private kick(): void {
    if (this.running) return;
    this.running = this.drain().finally(() => {
      this.running = null;
    });
  }

  private async drain(): Promise<void> {
    for (;;) {
      const error = this.errors.shift();
      if (error) {
        await this.write('error', error.topologyId, () => this.state.reportError(error.topologyId, error.component, error.error, error.historySize));
        continue;
      }
      const first = this.beats.entries().next();
      if (first.done) return;
      const [key, beat] = first.value;
      this.beats.delete(key);
      await this.write('heartbeat', beat.topologyId, () => this.state.setWorkerBeat(beat));
    }
  }

  private async write(what: string, topologyId: string, op: () => Promise<void>): Promise<void> {
    try {
      await op();
    } catch (err) {
      this.logger.warn({ topologyId, err: describeError(err) }, `writing a worker ${what} to cluster state failed`);
    }
  }
}
