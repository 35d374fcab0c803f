/**
 * A bolt task's side of the protocol, driven by hand: alignment holds a blocked channel's tuples
 * (and its later system tuples) in order, the hold is bounded, barrier counts catch lost tuples,
 * and after a rollback every channel is fenced until its marker (exactly-once).
 */
import { CHECKPOINT_STREAM_ID, Fields, TupleImpl, WATERMARK_STREAM_ID, type IBolt, type Tuple } from '../../../topology-api';
import { ManualClock } from '../../../common/clock';
import { silentLogger } from '../../../common/logging';
import { BoltParticipant, type BoltParticipantHost } from '../../../worker/checkpoint/bolt-participant';
import { PauseGate } from '../../../worker/checkpoint/participant';
import { BARRIER, Ctl, FailReason, ROLLBACK } from '../../../worker/checkpoint/protocol';
import type { KeyValueLike } from '../../../worker/checkpoint/state-access';
import type { BoltTask } from '../../../worker/tasks';

const DATA = 0;
const SYSTEM_START = 1; // stream 1: __checkpoint, 2: __watermark; 3: tick
const CKPT = 1;
const WM = 2;
const data = new Fields(['n']);
const ckptFields = new Fields(['action', 'txid', 'epoch', 'count', 'committed']);

function tuple(src: number, n: number): TupleImpl {
  const t = new TupleImpl([n], data, 'up', src, 'default', 0, 0, 0, null);
  t.streamIndex = DATA;
  return t;
}
function barrier(src: number, txid: number, epoch: number, count: number, committed = 0): TupleImpl {
  const t = new TupleImpl([BARRIER, txid, epoch, count, committed], ckptFields, 'up', src, CHECKPOINT_STREAM_ID, 0, 0, 0, null);
  t.streamIndex = CKPT;
  return t;
}
function marker(src: number, epoch: number, committed: number): TupleImpl {
  const t = new TupleImpl([ROLLBACK, committed, epoch, 0, committed], ckptFields, 'up', src, CHECKPOINT_STREAM_ID, 0, 0, 0, null);
  t.streamIndex = CKPT;
  return t;
}
function watermark(src: number, ms: number): TupleImpl {
  const t = new TupleImpl([ms], new Fields(['watermark']), 'up', src, WATERMARK_STREAM_ID, 0, 0, 0, null);
  t.streamIndex = WM;
  return t;
}

class MemState implements KeyValueLike {
  prepared: number[] = [];
  committed: number[] = [];
  rollbacks = 0;
  get(): unknown {
    return undefined;
  }
  put(): void {}
  prepareCommit(txid: number): void {
    this.prepared.push(txid);
  }
  commit(txid: number): void {
    this.committed.push(txid);
  }
  rollback(): void {
    this.rollbacks++;
  }
}

function setup(guarantee: 'at-least-once' | 'exactly-once', opts: { heldMax?: number; stateful?: boolean } = {}) {
  const clock = new ManualClock();
  const controls: Array<[Ctl, number, number, number, number]> = [];
  const forwarded: unknown[][] = [];
  const delivered: number[] = [];
  const executed: string[] = [];
  const state = new MemState();
  let releasing: BoltParticipant | null = null;
  const host: BoltParticipantHost = {
    guarantee,
    coordinatorTask: 99,
    clock,
    logger: silentLogger(),
    retryMs: 100,
    control: (kind, dest, a, b, c) => controls.push([kind, dest, a, b, c]),
    delivery: { sendAck: () => {}, ackerFor: () => 0 },
    openState: async () => state,
    instanceId: () => 7,
    wake: () => {},
    reportError: () => {},
    deliverSystem: (_task, t) => delivered.push(t.values[0] as number),
    releasing: (p) => {
      releasing = p;
    },
    forward: (_task, values) => forwarded.push(values(0)),
  };
  const bolt: IBolt & { initState?: (s: unknown) => void } = {
    prepare: () => {},
    execute: (t: Tuple) => {
      executed.push(`${t.getSourceTask()}:${t.getValue(0) as number}`);
    },
    declareOutputFields: () => {},
  };
  if (opts.stateful) bolt.initState = () => {};
  const task = { taskId: 5, component: 'b', reportError: () => {}, fail: () => {}, uncount: () => {}, execute: (t: TupleImpl) => p.execute(t) } as unknown as BoltTask;
  const pause = new PauseGate();
  const p = new BoltParticipant(host, pause, {
    task,
    bolt,
    stateful: opts.stateful === true,
    inputs: [1, 2],
    taskCount: 10,
    heldMax: opts.heldMax ?? 100,
    downstream: [],
    state: { namespace: 'ns' },
    systemStreamStart: SYSTEM_START,
    tickIndex: 3,
  });
  p.prepare({}, {} as never, {} as never);
  /** Delivers a tuple as the executor would: system tuples to the handler, data to execute. */
  const deliver = (t: TupleImpl): void => {
    // the executor takes nothing from its inbox while parked
    if (pause.isFull()) throw new Error('delivered to a parked executor');
    if (t.streamIndex >= SYSTEM_START) {
      if (!p.onSystemTuple(t)) host.deliverSystem(task, t);
    } else p.execute(t);
  };
  const drain = (): void => {
    while (releasing !== null && !releasing.drainHeld(2));
    releasing = null;
  };
  return { p, pause, controls, forwarded, delivered, executed, state, deliver, drain };
}

const settle = (): Promise<void> => new Promise((r) => setImmediate(r));

async function ready(s: ReturnType<typeof setup>, epoch = 1, committed = 0): Promise<void> {
  s.p.recover(epoch, committed);
  await settle();
  await settle();
  expect(s.p.ready).toBe(true);
  expect(s.pause.isFull()).toBe(false);
  s.controls.length = 0;
  s.forwarded.length = 0;
}

describe('BoltParticipant alignment', () => {
  it('holds a channel that delivered the barrier, snapshots when all have, then releases in order', async () => {
    const s = setup('at-least-once', { stateful: true });
    await ready(s);
    s.deliver(tuple(1, 1));
    s.deliver(barrier(1, 1, 1, 1)); // one tuple sent on channel 1 before it
    s.deliver(tuple(1, 2)); // held: channel 1 is past the barrier
    s.deliver(watermark(1, 50)); // held too, in order
    s.deliver(tuple(2, 3)); // channel 2 is not: executed
    expect(s.executed).toEqual(['1:1', '2:3']);
    expect(s.delivered).toEqual([]);
    expect(s.p.stats.heldTuples).toBe(2);
    s.deliver(barrier(2, 1, 1, 1));
    expect(s.state.prepared).toEqual([1]);
    expect(s.forwarded).toEqual([[BARRIER, 1, 1, 0, 0]]);
    expect(s.pause.isFull()).toBe(true); // parked while releasing
    s.drain();
    expect(s.executed).toEqual(['1:1', '2:3', '1:2']);
    expect(s.delivered).toEqual([50]);
    expect(s.pause.isFull()).toBe(false);
    await settle();
    expect(s.controls).toEqual([[Ctl.Prepared, 99, 1, 1, 0]]);
  });

  it('keeps a later barrier of a held channel in order behind that channel', async () => {
    const s = setup('at-least-once');
    await ready(s);
    s.deliver(barrier(1, 1, 1, 0));
    s.deliver(tuple(1, 1));
    s.deliver(barrier(1, 2, 1, 1));
    s.deliver(tuple(1, 2)); // after channel 1's second barrier
    s.deliver(barrier(2, 1, 1, 0));
    s.drain();
    // 1:2 waits for checkpoint 2's alignment
    expect(s.executed).toEqual(['1:1']);
    expect(s.forwarded).toEqual([[BARRIER, 1, 1, 0, 0]]);
    s.deliver(tuple(2, 3)); // channel 2 has not delivered barrier 2: runs
    s.deliver(barrier(2, 2, 1, 1));
    s.drain();
    expect(s.forwarded).toEqual([
      [BARRIER, 1, 1, 0, 0],
      [BARRIER, 2, 1, 0, 0],
    ]);
    expect(s.executed).toEqual(['1:1', '2:3', '1:2']);
  });

  it('fails the checkpoint instead of holding more than the bound, and lets everything through', async () => {
    const s = setup('at-least-once', { heldMax: 2 });
    await ready(s);
    s.deliver(barrier(1, 1, 1, 0));
    for (let i = 0; i < 3; i++) s.deliver(tuple(1, i));
    expect(s.controls).toEqual([[Ctl.Failed, 99, 1, 1, FailReason.AlignmentOverflow]]);
    s.drain();
    expect(s.executed).toEqual(['1:0', '1:1', '1:2']);
    expect(s.p.stats.failed).toBe(1);
    // the late barrier of the aborted checkpoint is ignored
    s.deliver(barrier(2, 1, 1, 0));
    expect(s.forwarded).toEqual([]);
  });

  it('exactly-once: a barrier counting more tuples than arrived fails the checkpoint', async () => {
    const s = setup('exactly-once');
    await ready(s);
    // a fresh epoch: channels fenced until their markers
    s.deliver(marker(1, 1, 0));
    s.deliver(marker(2, 1, 0));
    s.deliver(tuple(1, 1));
    s.deliver(barrier(1, 1, 1, 2)); // 2 sent, 1 arrived: a frame was lost
    expect(s.controls).toEqual([[Ctl.Failed, 99, 1, 1, FailReason.TuplesLost]]);
    s.deliver(tuple(2, 1));
    s.deliver(barrier(2, 1, 1, 1));
    expect(s.forwarded).toEqual([]); // no snapshot of an aborted checkpoint
  });

  it('exactly-once: after a rollback, each channel is dropped until its marker, then runs', async () => {
    const s = setup('exactly-once', { stateful: true });
    await ready(s);
    s.deliver(marker(1, 1, 0));
    s.deliver(marker(2, 1, 0));
    s.deliver(tuple(1, 1));
    s.deliver(tuple(2, 2));
    expect(s.executed).toEqual(['1:1', '2:2']);
    // channel 2's task rolled back to epoch 2: its marker arrives first
    s.deliver(marker(2, 2, 0));
    expect(s.p.ready).toBe(false);
    expect(s.pause.isFull()).toBe(true);
    await settle();
    await settle();
    expect(s.state.rollbacks).toBe(2); // the first restore, then this one
    expect(s.forwarded).toEqual([[ROLLBACK, 0, 2, 0, 0]]);
    expect(s.controls).toEqual([[Ctl.Ready, 99, 7, 2, 0]]);
    s.deliver(tuple(1, 3)); // pre-rollback: dropped
    s.deliver(watermark(1, 9)); // dropped with it
    s.deliver(tuple(2, 4)); // channel 2 is past its marker: runs
    s.deliver(marker(1, 2, 0));
    s.deliver(tuple(1, 5));
    expect(s.executed).toEqual(['1:1', '2:2', '2:4', '1:5']);
    expect(s.delivered).toEqual([]);
    expect(s.p.droppedStale).toBe(1);
  });
});
