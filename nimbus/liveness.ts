/**
 * Which assigned workers are alive, judged on Nimbus's own clock (Storm's heartbeat cache): a
 * worker's beat carries its supervisor's time, which Nimbus never compares with its own. Nimbus
 * remembers the last `timeMs` it saw for each worker and when (by its clock) that value last
 * changed; a worker whose value has not changed for `nimbus.task.timeout.secs` is dead. A newly
 * assigned worker has `nimbus.task.launch.secs` for its first heartbeat (Storm also keeps the
 * grace after that first beat; Squall does not, so a worker that hangs early is caught early).
 *
 * Beats come from two sources, each compared only with itself: supervisors push every heartbeat to
 * Nimbus (`push`, every `worker.heartbeat.frequency.secs`), and write a small liveness record to
 * cluster state a few times per timeout (`state`), which Nimbus reads each monitor round and which
 * keeps a worker alive if the push channel fails. Either source's value changing counts as a beat.
 *
 * A worker Nimbus has not tracked before (after a Nimbus restart) gets what is left of its launch
 * grace by the assignment's `workerStartMs`, and its current beat counts as fresh: a restarted
 * Nimbus waits a full timeout before declaring a heartbeating worker dead, as Storm does.
 */
import type { Assignment } from '../common/cluster-state/types';
import { slotKey } from './scheduler';

export type WorkerState = 'starting' | 'running' | 'dead';

/** Where a beat came from: the supervisor's push to Nimbus, or its record in cluster state. */
export type BeatSource = 'push' | 'state';

/** What liveness reads of a beat. */
export interface BeatLike {
  node: string;
  port: number;
  timeMs: number;
}

interface Entry {
  /** `workerStartMs` of the assignment this entry tracks: a new one starts over. */
  assignedMs: number;
  /** Last beat value seen from each source. */
  lastBeatTimeMs: Record<BeatSource, number | null>;
  /** Nimbus clock (monotonic) when `lastBeatTimeMs` last changed. */
  changedAtMs: number | null;
  /** Nimbus clock until which a silent worker counts as starting. */
  graceUntilMs: number;
}

export interface LivenessOptions {
  taskTimeoutMs: number;
  launchGraceMs: number;
}

export class WorkerLiveness {
  /** topologyId → worker key → entry. */
  private readonly entries = new Map<string, Map<string, Entry>>();

  constructor(private readonly options: LivenessOptions) {}

  /**
   * Records one round of heartbeats for an assignment (every worker in it) and forgets workers no
   * longer in it. `nowMs` is Nimbus's monotonic clock, `wallNowMs` its wall clock.
   */
  observe(assignment: Assignment, beats: readonly BeatLike[], nowMs: number, wallNowMs: number, source: BeatSource = 'state'): void {
    const workers = this.sync(assignment, nowMs, wallNowMs);
    for (const beat of beats) {
      const entry = workers.get(slotKey(beat.node, beat.port));
      if (entry && beat.timeMs !== entry.lastBeatTimeMs[source]) {
        entry.lastBeatTimeMs[source] = beat.timeMs;
        entry.changedAtMs = nowMs;
      }
    }
  }

  /** The state of each worker in the assignment (untracked ones are given their grace now). */
  states(assignment: Assignment, nowMs: number, wallNowMs: number): Map<string, WorkerState> {
    const out = new Map<string, WorkerState>();
    for (const [key, entry] of this.sync(assignment, nowMs, wallNowMs)) out.set(key, this.stateOf(entry, nowMs));
    return out;
  }

  /** Keys of the assignment's workers that are not dead (what the scheduler keeps). */
  alive(assignment: Assignment, nowMs: number, wallNowMs: number): Set<string> {
    const out = new Set<string>();
    for (const [key, state] of this.states(assignment, nowMs, wallNowMs)) if (state !== 'dead') out.add(key);
    return out;
  }

  forget(topologyId: string): void {
    this.entries.delete(topologyId);
  }

  /**
   * Nimbus was cut off from cluster state until `nowMs`: nobody could write or read heartbeats
   * meanwhile, so that time must not count against any worker. Every tracked worker gets a full
   * timeout (or what launch grace it had) from now.
   */
  forgive(nowMs: number): void {
    for (const workers of this.entries.values()) {
      for (const e of workers.values()) {
        if (e.changedAtMs !== null) e.changedAtMs = Math.max(e.changedAtMs, nowMs);
        else e.graceUntilMs = Math.max(e.graceUntilMs, nowMs + this.options.launchGraceMs);
      }
    }
  }

  private stateOf(entry: Entry, nowMs: number): WorkerState {
    // The launch grace covers the wait for a first heartbeat only: a worker that has heartbeated
    // and then went silent is dead after the timeout, even within its first launch seconds.
    if (entry.changedAtMs !== null) return nowMs - entry.changedAtMs < this.options.taskTimeoutMs ? 'running' : 'dead';
    return nowMs < entry.graceUntilMs ? 'starting' : 'dead';
  }

  private sync(assignment: Assignment, nowMs: number, wallNowMs: number): Map<string, Entry> {
    let workers = this.entries.get(assignment.topologyId);
    if (!workers) {
      workers = new Map();
      this.entries.set(assignment.topologyId, workers);
    }
    const keys = new Set(assignment.executors.map((e) => slotKey(e.node, e.port)));
    for (const key of workers.keys()) if (!keys.has(key)) workers.delete(key);
    for (const key of keys) {
      const assignedMs = assignment.workerStartMs[key] ?? wallNowMs;
      const entry = workers.get(key);
      if (entry && entry.assignedMs === assignedMs) continue;
      const graceLeftMs = Math.min(this.options.launchGraceMs, Math.max(0, assignedMs + this.options.launchGraceMs - wallNowMs));
      // A reassigned slot keeps the last beat value seen, so the old worker's beat is not taken
      // for the new worker's first one.
      workers.set(key, { assignedMs, lastBeatTimeMs: entry ? { ...entry.lastBeatTimeMs } : { push: null, state: null }, changedAtMs: null, graceUntilMs: nowMs + graceLeftMs });
    }
    return workers;
  }
}
