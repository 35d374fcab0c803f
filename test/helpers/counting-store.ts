/**
 * Counts the writes that reach cluster state (each create, put, putEphemeral, set or delete of the
 * in-memory store is one ZooKeeper write; ZkStateStore issues one per call once parents exist),
 * with their bytes, by the first path segment under the root (`workerbeats`, `supervisors`, ...).
 * It wraps the store's methods on the prototype for the span of a measurement, so it also counts
 * inside LocalCluster, which makes its stores itself.
 */
import { MemoryStateStore } from '../../common/cluster-state/memory-store';

export interface WriteCounts {
  writes: number;
  bytes: number;
  byKind: Record<string, { writes: number; bytes: number }>;
}

const WRITES = ['create', 'put', 'putEphemeral', 'set', 'delete'] as const;

export function countStateWrites(root = '/squall'): { counts: WriteCounts; reset(): void; restore(): void } {
  const counts: WriteCounts = { writes: 0, bytes: 0, byKind: {} };
  const proto = MemoryStateStore.prototype as unknown as Record<string, (...args: unknown[]) => unknown>;
  const originals = new Map<string, (...args: unknown[]) => unknown>();
  for (const name of WRITES) {
    const original = proto[name];
    originals.set(name, original);
    proto[name] = function (this: unknown, ...args: unknown[]) {
      const path = String(args[0]);
      const bytes = args[1] instanceof Uint8Array ? args[1].byteLength : 0;
      const kind = path.startsWith(`${root}/`) ? path.slice(root.length + 1).split('/')[0] : path;
      counts.writes++;
      counts.bytes += bytes;
      const k = (counts.byKind[kind] ??= { writes: 0, bytes: 0 });
      k.writes++;
      k.bytes += bytes;
      return original.apply(this, args);
    };
  }
  return {
    counts,
    reset() {
      counts.writes = 0;
      counts.bytes = 0;
      counts.byKind = {};
    },
    restore() {
      for (const [name, original] of originals) proto[name] = original;
    },
  };
}
