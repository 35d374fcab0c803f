import { CHECKPOINT_COMPONENT_ID } from '../topology-api';
import type { ExecutorStats } from './cluster-state/types';

/** A topology's checkpoints at a glance (REST `checkpoint`, `squall monitor`, `squall local`). */
export interface CheckpointSummary {
  /** The last checkpoint every task committed (the coordinator's decision). */
  committedTxid: number;
  /** Trigger → every task prepared → decision durable, of that checkpoint (ms). */
  lastDurationMs: number;
  /** Checkpoints aborted (timed out, failed by a task, or cut short by a restarted task). */
  aborted: number;
  /** Bytes the tasks' last snapshots wrote, summed (when the backends say). */
  sizeBytes: number;
  /** The longest barrier alignment of a task in its last checkpoint (ms). */
  maxAlignmentMs: number;
  /** The longest snapshot of a task in its last checkpoint, aligned → durable (ms). */
  maxTaskDurationMs: number;
  /** Tuples held right now while aligning, over every task. */
  heldTuples: number;
}

/** Sums the executors' `checkpoint` figures; null when the topology does not checkpoint. */
export function checkpointSummary(stats: readonly ExecutorStats[]): CheckpointSummary | null {
  let out: CheckpointSummary | null = null;
  for (const s of stats) {
    const c = s.checkpoint;
    if (c === undefined) continue;
    out ??= { committedTxid: 0, lastDurationMs: 0, aborted: 0, sizeBytes: 0, maxAlignmentMs: 0, maxTaskDurationMs: 0, heldTuples: 0 };
    if (s.component === CHECKPOINT_COMPONENT_ID) {
      out.committedTxid = Math.max(out.committedTxid, c.txid);
      out.lastDurationMs = c.durationMs;
      out.aborted += c.failed;
      continue;
    }
    out.sizeBytes += c.sizeBytes;
    out.maxAlignmentMs = Math.max(out.maxAlignmentMs, c.alignmentMs);
    out.maxTaskDurationMs = Math.max(out.maxTaskDurationMs, c.durationMs);
    out.heldTuples += c.heldTuples;
  }
  return out;
}

/** `checkpoint 42 committed in 12 ms (8.1 KiB, alignment ≤ 3 ms, 0 held, 1 aborted)`. */
export function checkpointLine(c: CheckpointSummary): string {
  const kib = c.sizeBytes >= 1024 ? `${(c.sizeBytes / 1024).toFixed(1)} KiB` : `${c.sizeBytes} B`;
  return `checkpoint ${c.committedTxid} committed in ${Math.round(c.lastDurationMs)} ms (${kib}, alignment ≤ ${Math.round(c.maxAlignmentMs)} ms, ${c.heldTuples} held, ${c.aborted} aborted)`;
}
