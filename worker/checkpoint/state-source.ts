import type { TopologyConfig } from '../../topology-api';
import type { KeyValueLike, StateRef, StateSource } from './state-access';
import { keyGroupOf } from '../state/key-groups';

/**
 * INTERIM, until the state providers (worker/state/, the state engineer's) land on main: an
 * in-memory key-value state with Storm's two-phase semantics and key groups, shared by every
 * worker of this process (so an in-process worker restarted by a LocalCluster finds its state).
 */
interface Prepared {
  txid: number;
  changes: Map<unknown, unknown>;
}

/** One namespace: its committed keys (of every key group), and each opener's prepared changes. */
interface Stored {
  committed: Map<unknown, unknown>;
  prepared: Map<string, Prepared>;
}

const DELETED = Symbol('deleted');
const STORE = new Map<string, Stored>();

class InterimMemoryState implements KeyValueLike {
  private pending = new Map<unknown, unknown>();
  private readonly owned: Set<number> | null;

  constructor(
    private readonly s: Stored,
    private readonly slot: string,
    ref: StateRef,
  ) {
    this.owned = ref.keyGroups === undefined ? null : new Set(ref.keyGroups);
    this.max = ref.maxKeyGroups ?? 128;
  }
  private readonly max: number;

  private mine(key: unknown): boolean {
    return this.owned === null || this.owned.has(keyGroupOf(key, this.max));
  }
  get(key: unknown, defaultValue?: unknown): unknown {
    for (const m of [this.pending, this.s.prepared.get(this.slot)?.changes]) {
      if (m?.has(key)) {
        const v = m.get(key);
        return v === DELETED ? defaultValue : v;
      }
    }
    return this.s.committed.has(key) && this.mine(key) ? this.s.committed.get(key) : defaultValue;
  }
  put(key: unknown, value: unknown): void {
    this.pending.set(key, value);
  }
  delete(key: unknown): void {
    this.pending.set(key, DELETED);
  }
  *[Symbol.iterator](): Iterator<[unknown, unknown]> {
    const seen = new Map<unknown, unknown>();
    for (const [k, v] of this.s.committed) if (this.mine(k)) seen.set(k, v);
    for (const m of [this.s.prepared.get(this.slot)?.changes, this.pending]) if (m) for (const [k, v] of m) seen.set(k, v);
    for (const [k, v] of seen) if (v !== DELETED) yield [k, v];
  }
  prepareCommit(txid: number): void {
    const prev = this.s.prepared.get(this.slot);
    const changes = prev?.changes ?? new Map<unknown, unknown>();
    for (const [k, v] of this.pending) changes.set(k, v);
    this.s.prepared.set(this.slot, { txid, changes });
    this.pending = new Map();
  }
  commit(txid: number): void {
    const p = this.s.prepared.get(this.slot);
    if (p === undefined || p.txid !== txid) return;
    for (const [k, v] of p.changes) {
      if (v === DELETED) this.s.committed.delete(k);
      else this.s.committed.set(k, v);
    }
    this.s.prepared.delete(this.slot);
  }
  rollback(): void {
    this.pending = new Map();
    this.s.prepared.delete(this.slot);
  }
}

export function interimMemorySource(): StateSource {
  return {
    open(ref) {
      let s = STORE.get(ref.namespace);
      if (s === undefined) {
        s = { committed: new Map(), prepared: new Map() };
        STORE.set(ref.namespace, s);
      }
      const groups = ref.keyGroups;
      const slot = groups === undefined || groups.length === 0 ? '*' : `${groups[0]}-${groups[groups.length - 1]}`;
      return new InterimMemoryState(s, slot, ref);
    },
  };
}

/** Forgets every interim namespace starting with `prefix` (tests). */
export function clearInterimMemory(prefix = ''): void {
  for (const k of [...STORE.keys()]) if (k.startsWith(prefix)) STORE.delete(k);
}

/** The state source `topology.state.provider` names. */
export function defaultStateSource(_config: Readonly<TopologyConfig>): StateSource {
  return interimMemorySource();
}
