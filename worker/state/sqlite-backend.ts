/**
 * The embedded durable backend: one SQLite file per topology (better-sqlite3), shared by the
 * topology's workers on this machine (WAL mode: readers never block the writer; SQLite's file
 * locks serialise the writers of several processes). Every batch is one transaction.
 *
 * Durability: page and fold batches commit with `synchronous=NORMAL` (in WAL mode they survive a
 * crash of the process, and a power loss can only drop a suffix of them, each atomic), and the
 * commit points (`sync` batches: seals and commit marks) with `synchronous=FULL`, whose fsync of
 * the WAL also makes every batch before it durable. `synchronous: 'normal'` in the provider config
 * skips those fsyncs (a power loss may then lose the last checkpoints, never corrupt one).
 *
 * better-sqlite3 is synchronous: a batch runs on the event loop. The two-phase store keeps
 * batches to a page (4096 rows, a few milliseconds) and yields between them.
 */
import * as fs from 'node:fs';
import * as path from 'node:path';
import Database from 'better-sqlite3';
import { squallError } from '../../topology-api';
import type { GroupMeta, Row, ScanPage, StateBackend, Table, WriteOp } from './backend';

const SCHEMA = `
CREATE TABLE IF NOT EXISTS squall_state (ns TEXT NOT NULL, kg INTEGER NOT NULL, k BLOB NOT NULL, v BLOB NOT NULL, PRIMARY KEY (ns, kg, k)) WITHOUT ROWID;
CREATE TABLE IF NOT EXISTS squall_staged (ns TEXT NOT NULL, kg INTEGER NOT NULL, k BLOB NOT NULL, v BLOB, PRIMARY KEY (ns, kg, k)) WITHOUT ROWID;
CREATE TABLE IF NOT EXISTS squall_groups (ns TEXT NOT NULL, kg INTEGER NOT NULL, committed INTEGER, staged INTEGER, PRIMARY KEY (ns, kg)) WITHOUT ROWID;
`;

export interface SqliteBackendOptions {
  /** The database file (created with its directory). */
  file: string;
  synchronous?: 'full' | 'normal';
  /** How long a write waits for another process's write lock (default 5000 ms). */
  busyTimeoutMs?: number;
}

const EMPTY = Buffer.alloc(0);
const buf = (b: Uint8Array): Buffer => (Buffer.isBuffer(b) ? b : Buffer.from(b.buffer, b.byteOffset, b.byteLength));

export class SqliteBackend implements StateBackend {
  readonly name = 'sqlite';
  private readonly db: Database.Database;
  private readonly fsyncCommitPoints: boolean;
  private readonly st: ReturnType<SqliteBackend['prepareStatements']>;
  private readonly applyBatch: (ns: string, ops: readonly WriteOp[]) => void;
  private readonly foldGroup: (ns: string, kg: number) => void;
  private closed = false;

  constructor(options: SqliteBackendOptions) {
    try {
      fs.mkdirSync(path.dirname(options.file), { recursive: true });
      this.db = new Database(options.file, { timeout: options.busyTimeoutMs ?? 5000 });
      this.db.pragma('journal_mode = WAL');
      this.db.pragma('synchronous = NORMAL');
      this.db.exec(SCHEMA);
    } catch (err) {
      throw backendError(`cannot open ${options.file}`, err);
    }
    this.fsyncCommitPoints = (options.synchronous ?? 'full') === 'full';
    this.st = this.prepareStatements();
    this.applyBatch = this.db.transaction((ns: string, ops: readonly WriteOp[]) => {
      for (const o of ops) this.apply(ns, o);
    });
    // set-based: ~3x fewer statements than moving the rows one by one
    this.foldGroup = this.db.transaction((ns: string, kg: number) => {
      if (this.st.decided.get(ns, kg) === undefined) return;
      this.st.foldPuts.run(ns, kg);
      this.st.foldDeletes.run(ns, kg, ns, kg);
      this.st.clearStaged.run(ns, kg);
      this.st.markStaged.run(null, ns, kg);
    });
  }

  private prepareStatements() {
    const db = this.db;
    return {
      meta: db.prepare('SELECT kg, committed, staged FROM squall_groups WHERE ns = ?').raw(),
      scanCommitted: db.prepare('SELECT k, v FROM squall_state WHERE ns = ? AND kg = ? AND k > ? ORDER BY k LIMIT ?').raw(),
      scanStaged: db.prepare('SELECT k, v FROM squall_staged WHERE ns = ? AND kg = ? AND k > ? ORDER BY k LIMIT ?').raw(),
      put: db.prepare('INSERT INTO squall_state (ns, kg, k, v) VALUES (?, ?, ?, ?) ON CONFLICT (ns, kg, k) DO UPDATE SET v = excluded.v'),
      del: db.prepare('DELETE FROM squall_state WHERE ns = ? AND kg = ? AND k = ?'),
      stage: db.prepare('INSERT INTO squall_staged (ns, kg, k, v) VALUES (?, ?, ?, ?) ON CONFLICT (ns, kg, k) DO UPDATE SET v = excluded.v'),
      foldPuts: db.prepare(
        'INSERT INTO squall_state (ns, kg, k, v) SELECT ns, kg, k, v FROM squall_staged WHERE ns = ? AND kg = ? AND v IS NOT NULL ON CONFLICT (ns, kg, k) DO UPDATE SET v = excluded.v',
      ),
      foldDeletes: db.prepare('DELETE FROM squall_state WHERE ns = ? AND kg = ? AND k IN (SELECT k FROM squall_staged WHERE ns = ? AND kg = ? AND v IS NULL)'),
      clearStaged: db.prepare('DELETE FROM squall_staged WHERE ns = ? AND kg = ?'),
      decided: db.prepare('SELECT 1 FROM squall_groups WHERE ns = ? AND kg = ? AND staged IS NOT NULL AND committed IS NOT NULL AND staged <= committed'),
      ensureGroup: db.prepare('INSERT INTO squall_groups (ns, kg) VALUES (?, ?) ON CONFLICT (ns, kg) DO NOTHING'),
      markCommitted: db.prepare('UPDATE squall_groups SET committed = ? WHERE ns = ? AND kg = ?'),
      markStaged: db.prepare('UPDATE squall_groups SET staged = ? WHERE ns = ? AND kg = ?'),
    };
  }

  async meta(ns: string, groups: readonly number[]): Promise<GroupMeta[]> {
    this.check();
    const known = new Map<number, GroupMeta>();
    try {
      for (const [kg, committed, staged] of this.st.meta.all(ns) as Array<[number, number | null, number | null]>) known.set(kg, { kg, committed, staged });
    } catch (err) {
      throw backendError('reading key-group txids', err);
    }
    return groups.map((kg) => known.get(kg) ?? { kg, committed: null, staged: null });
  }

  async scan(ns: string, kg: number, table: Table, cursor: unknown, limit: number): Promise<ScanPage> {
    this.check();
    let rows: Row[];
    try {
      const stmt = table === 'committed' ? this.st.scanCommitted : this.st.scanStaged;
      rows = stmt.all(ns, kg, (cursor as Buffer | null) ?? EMPTY, limit) as Row[];
    } catch (err) {
      throw backendError(`scanning ${table} rows`, err);
    }
    return { rows, cursor: rows.length < limit ? null : rows[rows.length - 1][0] };
  }

  async write(ns: string, ops: readonly WriteOp[], options: { sync?: boolean } = {}): Promise<void> {
    this.check();
    const fsync = options.sync === true && this.fsyncCommitPoints;
    try {
      if (fsync) this.db.pragma('synchronous = FULL');
      this.applyBatch(ns, ops);
    } catch (err) {
      throw backendError('writing a batch', err);
    } finally {
      if (fsync) this.db.pragma('synchronous = NORMAL');
    }
  }

  async fold(ns: string, kg: number): Promise<void> {
    this.check();
    try {
      this.foldGroup(ns, kg);
    } catch (err) {
      throw backendError('folding staged rows', err);
    }
  }

  private apply(ns: string, o: WriteOp): void {
    const st = this.st;
    switch (o.op) {
      case 'put':
        st.put.run(ns, o.kg, buf(o.key), buf(o.value));
        break;
      case 'del':
        st.del.run(ns, o.kg, buf(o.key));
        break;
      case 'stage':
        st.stage.run(ns, o.kg, buf(o.key), o.value === null ? null : buf(o.value));
        break;
      case 'clearStaged':
        st.clearStaged.run(ns, o.kg);
        st.markStaged.run(null, ns, o.kg);
        break;
      case 'mark':
        st.ensureGroup.run(ns, o.kg);
        if (o.committed !== undefined) st.markCommitted.run(o.committed, ns, o.kg);
        if (o.staged !== undefined) st.markStaged.run(o.staged, ns, o.kg);
        break;
    }
  }

  async close(): Promise<void> {
    if (this.closed) return;
    this.closed = true;
    this.db.close();
  }

  private check(): void {
    if (this.closed) throw squallError('ERR_CLOSED', 'sqlite state backend is closed');
  }
}

function backendError(what: string, err: unknown): Error {
  return squallError('ERR_STATE_BACKEND', `sqlite: ${what}: ${(err as Error)?.message ?? String(err)}`, { cause: err });
}
