/**
 * The in-memory backend (local mode, tests). Its rows live in a `MemoryStateStorage`, which the
 * owner of the process keeps (LocalCluster keeps one for all its in-process workers), so state
 * survives a worker's restart inside the process, as the durable backends make it survive a
 * process's. Writes apply synchronously, so every batch is atomic.
 */
import { squallError } from '../../topology-api';
import type { GroupMeta, Row, ScanPage, StateBackend, Table, WriteOp } from './backend';

interface Group {
  committed: Map<string, Row>;
  staged: Map<string, Row>;
  committedTxid: number | null;
  stagedTxid: number | null;
}

/** Rows of every namespace of every topology that uses the memory backend in this process. */
export class MemoryStateStorage {
  private readonly groups = new Map<string, Group>();

  group(scope: string, ns: string, kg: number): Group {
    const id = `${scope}\u0000${ns}\u0000${kg}`;
    let g = this.groups.get(id);
    if (!g) {
      g = { committed: new Map(), staged: new Map(), committedTxid: null, stagedTxid: null };
      this.groups.set(id, g);
    }
    return g;
  }
}

const rowId = (key: Uint8Array): string => Buffer.from(key.buffer, key.byteOffset, key.byteLength).toString('latin1');

/** Copies, so a caller's later change to a buffer cannot reach the stored rows. */
const copy = (b: Uint8Array): Uint8Array => Uint8Array.from(b);

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
    return groups.map((kg) => {
      const g = this.storage.group(this.scope, ns, kg);
      return { kg, committed: g.committedTxid, staged: g.stagedTxid };
    });
  }

  async scan(ns: string, kg: number, table: Table, cursor: unknown, limit: number): Promise<ScanPage> {
    this.check();
    const g = this.storage.group(this.scope, ns, kg);
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
    for (const o of ops) {
      const g = this.storage.group(this.scope, ns, o.kg);
      switch (o.op) {
        case 'put':
          g.committed.set(rowId(o.key), [copy(o.key), copy(o.value)]);
          break;
        case 'del':
          g.committed.delete(rowId(o.key));
          break;
        case 'stage':
          g.staged.set(rowId(o.key), [copy(o.key), o.value === null ? null : copy(o.value)]);
          break;
        case 'unstage':
          g.staged.delete(rowId(o.key));
          break;
        case 'clearStaged':
          g.staged.clear();
          g.stagedTxid = null;
          break;
        case 'mark':
          if (o.committed !== undefined) g.committedTxid = o.committed;
          if (o.staged !== undefined) g.stagedTxid = o.staged;
          break;
      }
    }
  }

  async close(): Promise<void> {
    this.closed = true;
  }

  private check(): void {
    if (this.closed) throw squallError('ERR_CLOSED', 'memory state backend is closed');
  }
}
