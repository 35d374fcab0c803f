/**
 * Squall's cluster state, typed, on top of any StateStore (Storm's `IStormClusterState`).
 *
 * Records are JSON with a `v` field: a record whose `v` this code does not know, or bytes that are
 * not a JSON record, fail with ERR_STATE_STORE naming the path. Single reads (`getTopology`, ...)
 * throw that error; listings (`listSupervisors`, `getWorkerBeats`, `getErrors`) log it and skip
 * the entry, so one bad node cannot stop scheduling. Entries that vanish between the listing and
 * the read are skipped too.
 */
import { errorCode, squallError } from '../errors';
import { silentLogger, type Logger } from '../logging';
import { statePaths, type StatePaths } from './paths';
import type { ConnectionListener, StateStore, Watcher } from './store';
import type { Assignment, ComponentError, NimbusInfo, SupervisorInfo, TopologyRecord, WorkerBeat } from './types';

/** The record version this code writes and reads. */
export const STATE_RECORD_VERSION = 1;

/** `/errors/<topologyId>/<component>`: newest last. */
export interface ComponentErrorsRecord {
  v: 1;
  errors: ComponentError[];
}

export interface ClusterStateOptions {
  /** Root of the tree; `/squall` by default. */
  root?: string;
  logger?: Logger;
}

/** Read-modify-write retries of `reportError` against concurrent reporters. */
const REPORT_ERROR_ATTEMPTS_MAX = 10;

interface Versioned {
  v: number;
}

export class ClusterState {
  readonly paths: StatePaths;
  private readonly logger: Logger;

  constructor(
    private readonly store: StateStore,
    options: ClusterStateOptions = {},
  ) {
    this.paths = statePaths(options.root);
    this.logger = (options.logger ?? silentLogger()).child({ stateRoot: this.paths.root });
  }

  /** Connection events of the underlying store (re-arm watches after 'expired' → 'reconnected'). */
  onConnectionChange(listener: ConnectionListener): () => void {
    return this.store.onConnectionChange(listener);
  }

  /** Creates the top-level nodes (optional: every write creates missing parents). */
  async ensureLayout(): Promise<void> {
    const p = this.paths;
    for (const path of [p.topologies(), p.assignments(), p.supervisors(), p.workerBeatsRoot(), p.errorsRoot()]) {
      try {
        await this.store.create(path, new Uint8Array(0));
      } catch (err) {
        if (errorCode(err) !== 'ERR_STATE_NODE_EXISTS') throw err;
      }
    }
  }

  // ---- topologies ----

  async setTopology(record: TopologyRecord): Promise<void> {
    await this.store.put(this.paths.topology(record.id), encode(record));
  }

  getTopology(topologyId: string, watch?: Watcher): Promise<TopologyRecord | null> {
    return this.read<TopologyRecord>(this.paths.topology(topologyId), watch);
  }

  listTopologyIds(watch?: Watcher): Promise<string[]> {
    return this.store.children(this.paths.topologies(), watch);
  }

  removeTopology(topologyId: string): Promise<void> {
    return this.store.delete(this.paths.topology(topologyId));
  }

  // ---- assignments ----

  async setAssignment(assignment: Assignment): Promise<void> {
    await this.store.put(this.paths.assignment(assignment.topologyId), encode(assignment));
  }

  getAssignment(topologyId: string, watch?: Watcher): Promise<Assignment | null> {
    return this.read<Assignment>(this.paths.assignment(topologyId), watch);
  }

  listAssignmentIds(watch?: Watcher): Promise<string[]> {
    return this.store.children(this.paths.assignments(), watch);
  }

  removeAssignment(topologyId: string): Promise<void> {
    return this.store.delete(this.paths.assignment(topologyId));
  }

  // ---- supervisors ----

  /** Ephemeral, owned by this store's session; calling again updates the data. */
  registerSupervisor(info: SupervisorInfo): Promise<void> {
    return this.store.putEphemeral(this.paths.supervisor(info.id), encode(info));
  }

  /** Removes a supervisor's node at once (clean shutdown; the session may be shared, e.g. squall dev). */
  removeSupervisor(supervisorId: string): Promise<void> {
    return this.store.delete(this.paths.supervisor(supervisorId));
  }

  getSupervisor(supervisorId: string, watch?: Watcher): Promise<SupervisorInfo | null> {
    return this.read<SupervisorInfo>(this.paths.supervisor(supervisorId), watch);
  }

  /** Sorted by id. The watch fires when a supervisor appears or vanishes, not on data updates. */
  async listSupervisors(watch?: Watcher): Promise<SupervisorInfo[]> {
    const ids = await this.store.children(this.paths.supervisors(), watch);
    return this.readAll<SupervisorInfo>(ids.map((id) => this.paths.supervisor(id)));
  }

  // ---- worker heartbeats ----

  async setWorkerBeat(beat: WorkerBeat): Promise<void> {
    await this.store.put(this.paths.workerBeat(beat.topologyId, beat.node, beat.port), encode(beat));
  }

  /** Sorted by `<node>-<port>`. */
  async getWorkerBeats(topologyId: string): Promise<WorkerBeat[]> {
    const names = await this.store.children(this.paths.workerBeats(topologyId));
    return this.readAll<WorkerBeat>(names.map((name) => this.paths.workerBeatNamed(topologyId, name)));
  }

  removeWorkerBeats(topologyId: string): Promise<void> {
    return this.store.delete(this.paths.workerBeats(topologyId), { recursive: true });
  }

  // ---- component errors ----

  /** Appends an error to the component's history, keeping the newest `historySize`. */
  async reportError(topologyId: string, component: string, error: ComponentError, historySize: number): Promise<void> {
    if (!Number.isInteger(historySize) || historySize < 1) {
      throw squallError('ERR_CONFIG_INVALID', `error history size must be an integer >= 1, got ${String(historySize)}`);
    }
    const path = this.paths.componentErrors(topologyId, component);
    for (let attempt = 0; attempt < REPORT_ERROR_ATTEMPTS_MAX; attempt++) {
      const current = await this.store.get(path);
      try {
        if (!current) {
          const first: ComponentErrorsRecord = { v: 1, errors: [error] };
          await this.store.create(path, encode(first));
        } else {
          const errors = decode<ComponentErrorsRecord>(path, current.data).errors;
          const next: ComponentErrorsRecord = { v: 1, errors: [...errors, error].slice(-historySize) };
          await this.store.set(path, encode(next), current.version);
        }
        return;
      } catch (err) {
        const code = errorCode(err);
        if (code !== 'ERR_STATE_CONFLICT' && code !== 'ERR_STATE_NODE_EXISTS' && code !== 'ERR_STATE_NO_NODE') throw err;
      }
    }
    throw squallError('ERR_STATE_CONFLICT', `${path}: too many concurrent error reports`);
  }

  /** Component → its errors, newest last. */
  async getErrors(topologyId: string): Promise<Record<string, ComponentError[]>> {
    const components = await this.store.children(this.paths.topologyErrors(topologyId));
    const records = await Promise.all(components.map((c) => this.readListed<ComponentErrorsRecord>(this.paths.componentErrors(topologyId, c))));
    const out: Record<string, ComponentError[]> = {};
    components.forEach((component, i) => {
      const record = records[i];
      if (record) out[component] = Array.isArray(record.errors) ? record.errors : [];
    });
    return out;
  }

  // ---- nimbus ----

  /** Ephemeral, owned by this store's session. */
  setNimbusInfo(info: NimbusInfo): Promise<void> {
    return this.store.putEphemeral(this.paths.nimbus(), encode(info));
  }

  getNimbusInfo(watch?: Watcher): Promise<NimbusInfo | null> {
    return this.read<NimbusInfo>(this.paths.nimbus(), watch);
  }

  // ---- whole topology ----

  /**
   * Removes everything about a topology: assignment first (supervisors stop its workers), then
   * heartbeats, errors, and the topology record. Every step is tried; the first failure is thrown.
   */
  async removeTopologyState(topologyId: string): Promise<void> {
    const steps: Array<() => Promise<void>> = [
      () => this.removeAssignment(topologyId),
      () => this.removeWorkerBeats(topologyId),
      () => this.store.delete(this.paths.topologyErrors(topologyId), { recursive: true }),
      () => this.removeTopology(topologyId),
    ];
    let first: unknown = null;
    for (const step of steps) {
      try {
        await step();
      } catch (err) {
        this.logger.warn({ err, topologyId }, 'removing part of a topology state failed');
        first ??= err;
      }
    }
    if (first !== null) throw first;
  }

  // ---- reading ----

  private async read<T extends Versioned>(path: string, watch?: Watcher): Promise<T | null> {
    const node = await this.store.get(path, watch);
    return node ? decode<T>(path, node.data) : null;
  }

  private async readAll<T extends Versioned>(paths: string[]): Promise<T[]> {
    const out: T[] = [];
    for (const record of await Promise.all(paths.map((path) => this.readListed<T>(path)))) if (record) out.push(record);
    return out;
  }

  /** A listed entry: null if it vanished or cannot be decoded (logged). */
  private async readListed<T extends Versioned>(path: string): Promise<T | null> {
    const node = await this.store.get(path);
    if (!node) return null;
    try {
      return decode<T>(path, node.data);
    } catch (err) {
      this.logger.warn({ err, path }, 'skipping an unreadable cluster-state record');
      return null;
    }
  }
}

const utf8 = new TextDecoder('utf-8', { fatal: true });

export function encode(record: Versioned): Uint8Array {
  return Buffer.from(JSON.stringify(record), 'utf8');
}

/** Parses a record, checking it is a JSON object of a known version. */
export function decode<T extends Versioned>(path: string, bytes: Uint8Array): T {
  let value: unknown;
  try {
    value = JSON.parse(utf8.decode(bytes));
  } catch (err) {
    throw squallError('ERR_STATE_STORE', `${path} does not hold a JSON record (${bytes.byteLength} bytes)`, { cause: err });
  }
  if (typeof value !== 'object' || value === null || Array.isArray(value)) {
    throw squallError('ERR_STATE_STORE', `${path} does not hold a record object`);
  }
  const v = (value as { v?: unknown }).v;
  if (v !== STATE_RECORD_VERSION) {
    throw squallError('ERR_STATE_STORE', `${path} holds a record of version ${JSON.stringify(v) ?? 'undefined'}; this Squall reads version ${STATE_RECORD_VERSION}`);
  }
  return value as T;
}
