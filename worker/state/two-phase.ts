/**
 * The two-phase commit of a task's state over the key groups it owns, written once against the
 * backend interface (backend.ts). Per key group the backend keeps committed rows, staged rows and
 * two txids; the **commit point** is one atomic batch setting the committed txid of every group
 * staged as the txid. After it, each key group's staged rows are folded into its committed rows,
 * one atomic step per group inside the backend (a group is 1/maxKeyGroups of the state), with the
 * event loop running between groups. A crash anywhere leaves one of three readable states:
 *
 *   staged rows without a staged txid, or with one above the committed txid  → undecided: ignored
 *     by readers; cleared by the next prepare; committed if a replayed commit names that txid
 *   staged txid ≤ committed txid  → decided: readers finish the fold first (roll forward)
 *   no staged txid, no staged rows → clean
 *
 * so a reader always sees exactly the last committed state, never half of a checkpoint.
 */
import { setImmediate as yieldToLoop } from 'node:timers/promises';
import { squallError } from '../../topology-api';
import { isDecided as decided, type GroupMeta, type Row, type StateBackend, type WriteOp } from './backend';

/** A row of a checkpoint's delta (value null: the key is deleted), as the backend takes it. */
export type StagedEntry = Extract<WriteOp, { op: 'stage' }>;

/** Rows per scan page (loading a state): a few milliseconds of work each. */
export const PAGE_ROWS = 4096;

/**
 * Key groups worked on at once: a remote backend (Redis) then has this many round trips in
 * flight instead of one, which turns 128 groups × 3 round trips per commit into a few waits.
 */
const GROUPS_IN_FLIGHT = 16;

async function forEachGroup(groups: readonly number[], fn: (kg: number) => Promise<void>): Promise<void> {
  let next = 0;
  const lane = async (): Promise<void> => {
    while (next < groups.length) await fn(groups[next++]);
  };
  await Promise.all(Array.from({ length: Math.min(GROUPS_IN_FLIGHT, groups.length) }, lane));
}

const isDecided = (m: GroupMeta): boolean => decided(m.staged, m.committed);

export class KeyGroupStore {
  constructor(
    readonly backend: StateBackend,
    readonly ns: string,
    readonly groups: readonly number[],
    private readonly pageRows = PAGE_ROWS,
  ) {}

  /**
   * Finishes any commit decided before a crash (roll forward) and returns the committed txid:
   * the lowest of the groups', null when one never committed.
   */
  async recover(): Promise<number | null> {
    const metas = await this.backend.meta(this.ns, this.groups);
    await this.fold(metas.filter(isDecided).map((m) => m.kg));
    let lowest: number | null = null;
    for (const m of metas) {
      if (m.committed === null) return null;
      if (lowest === null || m.committed < lowest) lowest = m.committed;
    }
    return lowest;
  }

  /** Streams the committed rows of every group (after `recover`). */
  async load(onRows: (kg: number, rows: Row[]) => void): Promise<void> {
    await forEachGroup(this.groups, async (kg) => {
      let cursor: unknown = null;
      do {
        const page = await this.backend.scan(this.ns, kg, 'committed', cursor, this.pageRows);
        if (page.rows.length > 0) onRows(kg, page.rows);
        cursor = page.cursor;
        await yieldToLoop();
      } while (cursor !== null);
    });
  }

  /** The start of a prepare: folds decided staging (never dropped), then clears the rest. */
  async beginStage(): Promise<void> {
    const metas = await this.backend.meta(this.ns, this.groups);
    await this.fold(metas.filter(isDecided).map((m) => m.kg));
    await this.backend.write(
      this.ns,
      this.groups.map((kg) => ({ op: 'clearStaged', kg })),
    );
  }

  /** Stages a slice of the delta (not visible to readers until sealed and committed). */
  async stage(entries: readonly StagedEntry[]): Promise<void> {
    await this.backend.write(this.ns, entries);
  }

  /** Marks the staged delta complete as `txid`, durably: the end of a prepare. */
  async seal(txid: number): Promise<void> {
    await this.backend.write(
      this.ns,
      this.groups.map((kg) => ({ op: 'mark', kg, staged: txid })),
      { sync: true },
    );
  }

  /**
   * The commit point, then the fold. Returns whether this call committed anything (false: a
   * replay of a commit already made, or a namespace with no record at all: a task new to the
   * topology, which starts empty). ERR_STATE_TXID when a group was not prepared as `txid`.
   */
  async commit(txid: number): Promise<boolean> {
    const metas = await this.backend.meta(this.ns, this.groups);
    if (metas.every((m) => m.committed === null && m.staged === null)) return false;
    const done = (m: GroupMeta): boolean => m.committed !== null && m.committed >= txid;
    const unprepared = metas.filter((m) => m.staged !== txid && !done(m)).map((m) => m.kg);
    if (unprepared.length > 0) {
      throw squallError('ERR_STATE_TXID', `${this.ns}: commit of txid ${txid}, which key groups ${unprepared.join(',')} did not prepare`);
    }
    const toMark = metas.filter((m) => m.staged === txid && !done(m));
    if (toMark.length > 0) {
      await this.backend.write(
        this.ns,
        toMark.map((m) => ({ op: 'mark', kg: m.kg, committed: txid })),
        { sync: true },
      );
    }
    await this.fold(metas.filter((m) => m.staged === txid).map((m) => m.kg));
    return toMark.length > 0;
  }

  /** Moves the staged rows of decided groups into their committed rows; idempotent. */
  private async fold(groups: readonly number[]): Promise<void> {
    await forEachGroup(groups, async (kg) => {
      await this.backend.fold(this.ns, kg);
      await yieldToLoop();
    });
  }
}
