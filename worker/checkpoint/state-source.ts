import type { TopologyConfig } from '../../topology-api';
import type { KeyValueLike, StateSource } from './state-access';

/**
 * INTERIM, until the state providers (worker/state/, the state engineer's) land on main: an
 * in-memory key-value state with Storm's two-phase semantics, shared by every worker of this
 * process (so an in-process worker restarted by a LocalCluster finds its prepared state).
 */
interface Stored {
  committed: Map<unknown, unknown>;
  committedTxid: number;
  prepared: { txid: number; changes: Map<unknown, unknown> } | null;
}

const DELETED = Symbol('deleted');
const STORE = new Map<string, Stored>();

class InterimMemoryState implements KeyValueLike {
  private pending = new Map<unknown, unknown>();
  constructor(private readonly s: Stored) {}

  get(key: unknown, defaultValue?: unknown): unknown {
    for (const m of [this.pending, this.s.prepared?.changes]) {
      if (m?.has(key)) {
        const v = m.get(key);
        return v === DELETED ? defaultValue : v;
      }
    }
    return this.s.committed.has(key) ? this.s.committed.get(key) : defaultValue;
  }
  put(key: unknown, value: unknown): void {
    this.pending.set(key, value);
  }
  delete(key: unknown): void {
    this.pending.set(key, DELETED);
  }
  *[Symbol.iterator](): Iterator<[unknown, unknown]> {
    const seen = new Map<unknown, unknown>(this.s.committed);
    for (const m of [this.s.prepared?.changes, this.pending]) if (m) for (const [k, v] of m) seen.set(k, v);
    for (const [k, v] of seen) if (v !== DELETED) yield [k, v];
  }
  prepareCommit(txid: number): void {
    if (txid <= this.s.committedTxid) return;
    const changes = this.s.prepared?.changes ?? new Map<unknown, unknown>();
    for (const [k, v] of this.pending) changes.set(k, v);
    this.s.prepared = { txid, changes };
    this.pending = new Map();
  }
  commit(txid: number): void {
    const p = this.s.prepared;
    if (p === null || p.txid !== txid) return;
    for (const [k, v] of p.changes) {
      if (v === DELETED) this.s.committed.delete(k);
      else this.s.committed.set(k, v);
    }
    this.s.committedTxid = txid;
    this.s.prepared = null;
  }
  rollback(): void {
    this.pending = new Map();
    this.s.prepared = null;
  }
}

export function interimMemorySource(): StateSource {
  return {
    open(ref) {
      const groups = ref.keyGroups;
      const key = groups === undefined || groups.length === 0 ? ref.namespace : `${ref.namespace}#${groups[0]}-${groups[groups.length - 1]}`;
      let s = STORE.get(key);
      if (s === undefined) {
        s = { committed: new Map(), committedTxid: 0, prepared: null };
        STORE.set(key, s);
      }
      return new InterimMemoryState(s);
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
