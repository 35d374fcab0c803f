/**
 * Nimbus's in-memory copy of what it wrote to cluster state: each topology's record, its task
 * layout (derived) and its assignment. Nimbus is the only writer of both, so the copy is exact
 * once recovered at start.
 */
import type { Assignment, SupervisorInfo, TopologyRecord } from '../common/cluster-state/types';
import { squallError } from '../common/errors';
import { computeLayout, type TopologyLayout } from '../common/topology-layout';
import { slotKey } from './scheduler';

export interface Tracked {
  record: TopologyRecord;
  layout: TopologyLayout;
  assignment: Assignment | null;
}

export class TopologyTable {
  private readonly byId = new Map<string, Tracked>();

  get size(): number {
    return this.byId.size;
  }

  get(id: string): Tracked | undefined {
    return this.byId.get(id);
  }

  all(): Tracked[] {
    return [...this.byId.values()];
  }

  ids(): string[] {
    return [...this.byId.keys()];
  }

  add(record: TopologyRecord, assignment: Assignment | null): Tracked {
    const t: Tracked = { record, layout: layoutOf(record), assignment };
    this.byId.set(record.id, t);
    return t;
  }

  /** Replaces a record (its layout follows `componentExecutors`). */
  update(t: Tracked, record: TopologyRecord): void {
    t.record = record;
    t.layout = layoutOf(record);
  }

  delete(id: string): void {
    this.byId.delete(id);
  }

  /** By id first, then by name; ERR_TOPOLOGY_NOT_FOUND otherwise. */
  find(nameOrId: string): Tracked {
    const byId = this.byId.get(nameOrId);
    if (byId) return byId;
    for (const t of this.byId.values()) if (t.record.name === nameOrId) return t;
    throw squallError('ERR_TOPOLOGY_NOT_FOUND', `no topology with id or name ${JSON.stringify(nameOrId)}`);
  }

  /** ERR_TOPOLOGY_EXISTS while a topology of that name exists (killed ones until removed). */
  checkNameFree(name: string): void {
    for (const t of this.byId.values()) {
      if (t.record.name === name) {
        throw squallError('ERR_TOPOLOGY_EXISTS', `a topology named "${name}" is ${t.record.status === 'KILLED' ? 'being killed' : 'already running'} (${t.record.id})`);
      }
    }
  }

  usesBundle(hash: string): boolean {
    for (const t of this.byId.values()) if (t.record.bundleHash === hash) return true;
    return false;
  }

  /** `node:port` of every assigned slot on a live supervisor. */
  usedSlots(supervisors: readonly SupervisorInfo[]): Set<string> {
    const live = new Set<string>();
    for (const s of supervisors) for (const p of s.ports) live.add(slotKey(s.id, p));
    const used = new Set<string>();
    for (const t of this.byId.values()) {
      for (const e of t.assignment?.executors ?? []) if (live.has(slotKey(e.node, e.port))) used.add(slotKey(e.node, e.port));
    }
    return used;
  }
}

function layoutOf(record: TopologyRecord): TopologyLayout {
  return computeLayout(record.definition, record.config, record.componentExecutors, record.componentTasks);
}
