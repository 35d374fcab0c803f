/**
 * The checkpoint protocol's messages (docs/state.md, "The checkpoint algorithm").
 *
 * Two paths:
 * - In-band, on the `__checkpoint` system stream, in order behind the data of each channel (a
 *   source task → target task pair): barriers `['barrier', txid, epoch, count, committed]` and
 *   rollback markers `['rollback', restoredTxid, epoch, 0, restoredTxid]`. `count` is how many
 *   data tuples the sender put on this channel since its previous barrier or marker, so a
 *   receiver that counted fewer knows frames were lost (a link that broke between two live
 *   workers) and fails the checkpoint rather than commit state that misses them.
 * - Out of band, between the coordinator and every task: records of the acker's message layout
 *   (six numbers: kind, destination task, then three values and the sender task), so they travel
 *   the acker's queues and frames, are never parked by backpressure, and cost no new wire format.
 *   The third number (the acker's root) must be an integer >= 1 and the next two int32.
 */

/** Control kinds; the acker's own kinds are 1..7 (worker/queues.ts AckKind). */
export const enum Ctl {
  /** task → coordinator: a task instance started and waits for Recover. [instance, 0, 0] */
  Hello = 16,
  /** coordinator → task: restore the committed checkpoint and enter the epoch. [epoch, committedTxid, 0] */
  Recover = 17,
  /** coordinator → spout task: start checkpoint txid. [txid, epoch, committedTxid] */
  Trigger = 18,
  /** coordinator → task: every task prepared txid; make it durable. [txid, epoch, 0] */
  Commit = 19,
  /** task → coordinator: restored, running in the epoch. [instance, epoch, committed txid] */
  Ready = 20,
  /** task → coordinator: state of txid prepared (durable). [txid, epoch, 0] */
  Prepared = 21,
  /** task → coordinator: txid cannot complete (FailReason), or a tuple failed in exactly-once. [txid or 1, epoch, reason] */
  Failed = 22,
}

export const CONTROL_KIND_MIN = 16;
export const CONTROL_KIND_MAX = 22;

export function isControlKind(kind: number): boolean {
  return kind >= CONTROL_KIND_MIN && kind <= CONTROL_KIND_MAX;
}

/** Why a task failed a checkpoint (the `lo` of a Failed record; shown in logs). */
export const enum FailReason {
  /** More tuples held while aligning than topology.state.checkpoint.alignment.max.tuples. */
  AlignmentOverflow = 1,
  /** A barrier said more tuples were sent on its channel than arrived: frames were lost. */
  TuplesLost = 2,
  /** The state backend refused the snapshot (prepareCommit threw or rejected). */
  StateError = 3,
  /** A bolt failed a tuple in exactly-once: the topology replays from the last checkpoint. */
  TupleFailed = 4,
}

export const FAIL_REASONS: Readonly<Record<number, string>> = {
  1: 'alignment overflow',
  2: 'tuples lost on a link',
  3: 'state backend error',
  4: 'a tuple failed',
};

export const BARRIER = 'barrier';
export const ROLLBACK = 'rollback';

/** Index of each value in a `__checkpoint` tuple (SYSTEM_STREAMS fields). */
export const enum BarrierField {
  Action = 0,
  Txid = 1,
  Epoch = 2,
  Count = 3,
  Committed = 4,
}
