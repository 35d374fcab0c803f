/**
 * The one small interface every state backend implements (memory, SQLite, Redis): rows of bytes
 * per namespace and key group, in two tables, plus two txids per key group, written in atomic
 * batches. The two-phase protocol on top (two-phase.ts) is written once against it, and one
 * contract test (test/helpers/state-backend-contract.ts) runs against every backend.
 *
 * Per (namespace, key group):
 *   committed rows   key → value                  the committed state
 *   staged rows      key → value | null (delete)  the delta of a prepared checkpoint
 *   committed txid   last txid committed (null: never)
 *   staged txid      txid the staged rows were sealed as (null: none complete)
 */

export type Table = 'committed' | 'staged';

export interface GroupMeta {
  kg: number;
  committed: number | null;
  staged: number | null;
}

/**
 * A group whose staged rows belong to a committed txid (staged ≤ committed): they are to be
 * folded into its committed rows (roll forward). The Redis and SQLite backends test the same in
 * their own script and statement.
 */
export function isDecided(staged: number | null, committed: number | null): boolean {
  return staged !== null && committed !== null && staged <= committed;
}

/**
 * One row change. A batch never touches the same row twice. The buffers are the caller's to
 * give away: a backend may keep them, and the caller never changes them afterwards.
 */
export type WriteOp =
  | { op: 'put'; kg: number; key: Uint8Array; value: Uint8Array }
  | { op: 'del'; kg: number; key: Uint8Array }
  | { op: 'stage'; kg: number; key: Uint8Array; value: Uint8Array | null }
  /** Removes every staged row of the group and its staged txid. */
  | { op: 'clearStaged'; kg: number }
  /** Sets the group's txids (a field left out is unchanged; null clears it). */
  | { op: 'mark'; kg: number; committed?: number | null; staged?: number | null };

export type Row = [key: Uint8Array, value: Uint8Array | null];

export interface ScanPage {
  rows: Row[];
  /** Pass back to continue; null when the scan is complete. */
  cursor: unknown;
}

export interface StateBackend {
  readonly name: string;
  meta(ns: string, groups: readonly number[]): Promise<GroupMeta[]>;
  /**
   * Up to about `limit` rows of one table of one group, from `cursor` (null: the start). A row
   * may come twice in one scan (Redis's HSCAN); rows changed during a scan may or may not come.
   */
  scan(ns: string, kg: number, table: Table, cursor: unknown, limit: number): Promise<ScanPage>;
  /**
   * Applies every op or none. Resolves once a crash of this process can no longer undo it; with
   * `sync`, once a crash of the machine cannot either (where the backend can tell: SQLite's
   * fsync; Redis per its own `appendfsync`).
   */
  write(ns: string, ops: readonly WriteOp[], options?: { sync?: boolean }): Promise<void>;
  /**
   * Moves every staged row of the group into its committed rows (a null value deletes the row)
   * and clears its staged txid, atomically, inside the backend (one SQLite transaction, one Redis
   * script): a group is a fraction of a task's state, and this is its whole commit work. Does
   * nothing unless the group is decided (staged txid ≤ committed txid): a late fold must not move
   * the rows of a prepare sealed after it.
   */
  fold(ns: string, kg: number): Promise<void>;
  /** Idempotent; what is in flight fails with ERR_CLOSED or completes. */
  close(): Promise<void>;
}
