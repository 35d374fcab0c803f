/**
 * Keeps the supervisor's view of `/assignments` (children and every assignment node) and of the
 * topology records of the topologies placed on this node. Watches are one-shot: each one that
 * fires triggers a re-read that arms it again. Reads are serialized; a request during a read
 * schedules exactly one more. A periodic `requestSync()` (the supervisor's monitor timer) reads
 * without arming new watches, as a safety net for anything missed.
 *
 * After a session expiry the old watches never fire: `forgetWatches()` makes the next read arm
 * them all again.
 */
import type { ClusterState } from '../common/cluster-state/cluster-state';
import type { Watcher } from '../common/cluster-state/store';
import type { Assignment, TopologyRecord } from '../common/cluster-state/types';
import { describeError } from '../common/errors';
import type { Logger } from '../common/logging';
import { topologiesOnNode } from './targets';

export interface ClusterSnapshot {
  assignments: Map<string, Assignment>;
  /** Records of the topologies with executors on this node (those that could be read). */
  records: Map<string, TopologyRecord>;
  /** Topologies listed but not readable this time: their slots are left as they are. */
  unreadable: Set<string>;
}

export class AssignmentWatcher {
  /** Paths with a watch armed in the current session. */
  private readonly armed = new Set<string>();
  /** Bumped by `forgetWatches`: watches of an earlier generation no longer count as armed. */
  private generation = 0;
  private running: Promise<void> | null = null;
  private again = false;
  private closed = false;

  constructor(
    private readonly state: ClusterState,
    private readonly node: string,
    private readonly logger: Logger,
    private readonly onSnapshot: (snapshot: ClusterSnapshot) => void,
  ) {}

  /** Reads now, or once more after the read in progress. */
  requestSync(): void {
    if (this.closed) return;
    if (this.running) {
      this.again = true;
      return;
    }
    this.running = this.loop().finally(() => {
      this.running = null;
    });
  }

  /** Resolves when no read is in progress or pending. */
  async idle(): Promise<void> {
    while (this.running) await this.running;
  }

  forgetWatches(): void {
    this.armed.clear();
    this.generation += 1;
  }

  close(): void {
    this.closed = true;
    this.again = false;
  }

  private async loop(): Promise<void> {
    do {
      this.again = false;
      try {
        const snapshot = await this.read();
        if (!this.closed) this.onSnapshot(snapshot);
      } catch (err) {
        // The next watch event, reconnection or monitor tick reads again.
        this.logger.warn({ err: describeError(err) }, 'reading assignments failed');
      }
    } while (this.again && !this.closed);
  }

  private async read(): Promise<ClusterSnapshot> {
    const paths = this.state.paths;
    const ids = await this.watched(paths.assignments(), (w) => this.state.listAssignmentIds(w));
    const assignments = new Map<string, Assignment>();
    const unreadable = new Set<string>();
    for (const id of ids) {
      try {
        const a = await this.watched(paths.assignment(id), (w) => this.state.getAssignment(id, w));
        if (a) assignments.set(id, a);
      } catch (err) {
        unreadable.add(id);
        this.logger.warn({ topologyId: id, err: describeError(err) }, 'cannot read an assignment');
      }
    }
    const records = new Map<string, TopologyRecord>();
    for (const id of topologiesOnNode(this.node, assignments.values())) {
      try {
        const record = await this.watched(paths.topology(id), (w) => this.state.getTopology(id, w));
        if (record) records.set(id, record);
      } catch (err) {
        unreadable.add(id);
        this.logger.warn({ topologyId: id, err: describeError(err) }, 'cannot read a topology record');
      }
    }
    return { assignments, records, unreadable };
  }

  /** Runs a read, arming a watch on `path` unless one is armed already. */
  private async watched<T>(path: string, read: (watch?: Watcher) => Promise<T>): Promise<T> {
    if (this.armed.has(path)) return read();
    this.armed.add(path);
    const generation = this.generation;
    const watcher: Watcher = () => {
      if (generation === this.generation) this.armed.delete(path);
      this.requestSync();
    };
    try {
      return await read(watcher);
    } catch (err) {
      this.armed.delete(path);
      throw err;
    }
  }
}
