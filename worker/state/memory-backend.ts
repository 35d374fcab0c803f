/**
 * The in-memory backend (local mode, tests). Its rows live in a `MemoryStateStorage`, which the
 * owner of the process keeps (LocalCluster keeps one for all its in-process workers), so state
 * survives a worker's restart inside the process, as the durable backends make it survive a
 * process's. Writes apply synchronously, so every batch is atomic. Rows keep the buffers they
 * were written with (the writer never changes them).
 */
import { squallError } from '../../topology-api';
import { isDecided, type GroupMeta, type Row, type ScanPage, type StateBackend, type Table, type WriteOp } from './backend';

interface Group {
  committed: Map<string, Row>;
  staged: Map<string, Row>;
  committedTxid: number | null;
  stagedTxid: number | null;
}

/** Rows of every namespace of every topology that uses the memory backend in this process. */
export class MemoryStateStorage {
  private readonly namespaces = new Map<string, Map<number, Group>>();

  /** The groups of one namespace (created empty on first use). */
  groups(scope: string, ns: string): Map<number, Group> {
    const id = `${scope}\u0000${ns}`;
    let groups = this.namespaces.get(id);
    if (!groups) {
      groups = new Map();
      this.namespaces.set(id, groups);
    }
    return groups;
  }
}

function groupOf(groups: Map<number, Group>, kg: number): Group {
  let g = groups.get(kg);
  if (!g) {
    g = { committed: new Map(), staged: new Map(), committedTxid: null, stagedTxid: null };
    groups.set(kg, g);
  }
  return g;
}

const rowId = (key: Uint8Array): string => Buffer.from(key.buffer, key.byteOffset, key.byteLength).toString('latin1');

export class MemoryBackend implements StateBackend {
  readonly name = 'memory';
  private closed = false;

  /** `scope` keeps topologies apart in one storage (the topology's name). */
  constructor(
    private readonly storage: MemoryStateStorage,
    private readonly scope: string,
  ) {}

  async meta(ns: string, groups: readonly number[]): Promise<GroupMeta[]> {
    this.check();
    const all = this.storage.groups(this.scope, ns);
    return groups.map((kg) => {
      const g = all.get(kg);
      return { kg, committed: g?.committedTxid ?? null, staged: g?.stagedTxid ?? null };
    });
  }

  async scan(ns: string, kg: number, table: Table, cursor: unknown, limit: number): Promise<ScanPage> {
    this.check();
    const g = groupOf(this.storage.groups(this.scope, ns), kg);
    const it = (cursor as Iterator<Row> | null) ?? (table === 'committed' ? g.committed : g.staged).values();
    const rows: Row[] = [];
    while (rows.length < limit) {
      const next = it.next();
      if (next.done) return { rows, cursor: null };
      rows.push(next.value);
    }
    return { rows, cursor: it };
  }

  async write(ns: string, ops: readonly WriteOp[]): Promise<void> {
    this.check();
    const all = this.storage.groups(this.scope, ns);
    let g: Group | null = null;
    let gkg = -1;
    for (const o of ops) {
      if (o.kg !== gkg) {
        g = groupOf(all, o.kg);
        gkg = o.kg;
      }
      const group = g!;
      switch (o.op) {
        case 'put':
          group.committed.set(rowId(o.key), [o.key, o.value]);
          break;
        case 'del':
          group.committed.delete(rowId(o.key));
          break;
        case 'stage':
          group.staged.set(rowId(o.key), [o.key, o.value]);
          break;
        case 'clearStaged':
          group.staged.clear();
          group.stagedTxid = null;
          break;
        case 'mark':
          if (o.committed !== undefined) group.committedTxid = o.committed;
          if (o.staged !== undefined) group.stagedTxid = o.staged;
          break;
      }
    }
  }

  async fold(ns: string, kg: number): Promise<void> {
    this.check();
    const g = groupOf(this.storage.groups(this.scope, ns), kg);
    if (!isDecided(g.stagedTxid, g.committedTxid)) return;
    for (const [id, row] of g.staged) {
      if (row[1] === null) g.committed.delete(id);
      else g.committed.set(id, row);
    }
    g.staged.clear();
    g.stagedTxid = null;
  }

  async close(): Promise<void> {
    this.closed = true;
  }

  private check(): void {
    if (this.closed) throw squallError('ERR_CLOSED', 'memory state backend is closed');
  }
}
