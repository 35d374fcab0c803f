import type { ExecutorStats } from '../../../common/cluster-state/types';
import { checkpointLine, checkpointSummary } from '../../../common/checkpoint-stats';

function exec(component: string, checkpoint?: ExecutorStats['checkpoint']): ExecutorStats {
  return {
    component,
    start: 1,
    end: 1,
    kind: 'bolt',
    emitted: {},
    transferred: {},
    executed: {},
    acked: {},
    failed: {},
    executeMsTotal: 0,
    processMsTotal: 0,
    processCount: 0,
    completeMsTotal: 0,
    capacity: 0,
    uptimeSecs: 1,
    ...(checkpoint ? { checkpoint } : {}),
  };
}

describe('checkpoint figures of a topology', () => {
  it('takes the committed txid from the coordinator and sums or maxes the tasks', () => {
    const s = checkpointSummary([
      exec('__checkpointspout', { txid: 42, durationMs: 12.4, sizeBytes: 0, alignmentMs: 0, heldTuples: 0, failed: 1 }),
      exec('count', { txid: 42, durationMs: 5, sizeBytes: 4096, alignmentMs: 3, heldTuples: 2, failed: 0 }),
      exec('split', { txid: 43, durationMs: 1, sizeBytes: 0, alignmentMs: 7, heldTuples: 1, failed: 0 }),
      exec('__acker'),
    ]);
    expect(s).toEqual({ committedTxid: 42, lastDurationMs: 12.4, aborted: 1, sizeBytes: 4096, maxAlignmentMs: 7, maxTaskDurationMs: 5, heldTuples: 3 });
    expect(checkpointLine(s!)).toBe('checkpoint 42 committed in 12 ms (4.0 KiB, alignment ≤ 7 ms, 3 held, 1 aborted)');
  });

  it('is null for a topology that does not checkpoint', () => {
    expect(checkpointSummary([exec('count'), exec('__acker')])).toBeNull();
  });
});
