import { ManualClock } from '../../../common/clock';
import { silentLogger } from '../../../common/logging';
import { CheckpointCoordinator, type CoordinatorRecord } from '../../../worker/checkpoint/coordinator';
import { Ctl, FailReason } from '../../../worker/checkpoint/protocol';

/** A store whose saves the test completes (or fails) by hand. */
class HandStore {
  record: CoordinatorRecord | null = null;
  saves: Array<{ record: CoordinatorRecord; done: () => void; fail: (e: Error) => void }> = [];
  load = async (): Promise<CoordinatorRecord | null> => this.record;
  save = (record: CoordinatorRecord): Promise<void> =>
    new Promise((resolve, reject) => {
      this.saves.push({
        record,
        done: () => {
          this.record = record;
          resolve();
        },
        fail: reject,
      });
    });
  async completeAll(): Promise<void> {
    while (this.saves.length > 0) {
      this.saves.shift()!.done();
      await flush();
    }
  }
}

const flush = (): Promise<void> => new Promise((r) => setImmediate(r));

type Sent = [Ctl, number, number, number, number];

function setup(opts: { record?: CoordinatorRecord } = {}) {
  const clock = new ManualClock();
  const store = new HandStore();
  store.record = opts.record ?? null;
  const sent: Sent[] = [];
  const c = new CheckpointCoordinator({
    taskId: 9,
    participants: [1, 2, 3],
    sources: [1],
    intervalMs: 100,
    timeoutMs: 1000,
    retryMs: 200,
    clock,
    store,
    send: (kind, dest, a, b, cc) => sent.push([kind, dest, a, b, cc]),
    logger: silentLogger(),
  });
  const take = (kind: Ctl): Sent[] => {
    const out = sent.filter((s) => s[0] === kind);
    sent.length = 0;
    return out;
  };
  return { clock, store, sent, c, take };
}

/** Starts the coordinator and answers its start-up recovery (epoch 1 from an empty store). */
async function started() {
  const s = setup();
  s.c.start();
  await flush();
  await s.store.completeAll();
  expect(s.take(Ctl.Recover)).toEqual([
    [Ctl.Recover, 1, 1, 0, 0],
    [Ctl.Recover, 2, 1, 0, 0],
    [Ctl.Recover, 3, 1, 0, 0],
  ]);
  for (const t of [1, 2, 3]) s.c.handle(Ctl.Ready, t, 100 + t, 1, 0);
  expect(s.c.stats().phase).toBe('idle');
  return s;
}

describe('CheckpointCoordinator', () => {
  it('recovers at start, then triggers, waits for every task, saves the decision, then commits', async () => {
    const s = await started();
    s.clock.advance(99);
    expect(s.sent).toEqual([]);
    s.clock.advance(1);
    expect(s.take(Ctl.Trigger)).toEqual([[Ctl.Trigger, 1, 1, 1, 0]]);
    s.c.handle(Ctl.Prepared, 1, 1, 1, 0);
    s.c.handle(Ctl.Prepared, 2, 1, 1, 0);
    expect(s.store.saves).toHaveLength(0);
    s.c.handle(Ctl.Prepared, 3, 1, 1, 0);
    expect(s.c.stats().phase).toBe('committing');
    // nothing is committed anywhere before the decision is durable
    expect(s.take(Ctl.Commit)).toEqual([]);
    await s.store.completeAll();
    expect(s.store.record).toEqual({ epoch: 1, committed: 1 });
    expect(s.take(Ctl.Commit)).toEqual([
      [Ctl.Commit, 1, 1, 1, 0],
      [Ctl.Commit, 2, 1, 1, 0],
      [Ctl.Commit, 3, 1, 1, 0],
    ]);
    expect(s.c.stats()).toMatchObject({ phase: 'idle', committed: 1, completed: 1 });
    // the next trigger carries the committed txid (a task that missed Commit catches up)
    s.clock.advance(100);
    expect(s.take(Ctl.Trigger)).toEqual([[Ctl.Trigger, 1, 2, 1, 1]]);
  });

  it('a task failing the checkpoint aborts it: a new epoch is saved, then everyone rolls back', async () => {
    const s = await started();
    s.clock.advance(100);
    s.take(Ctl.Trigger);
    s.c.handle(Ctl.Prepared, 1, 1, 1, 0);
    s.c.handle(Ctl.Failed, 2, 1, 1, FailReason.AlignmentOverflow);
    expect(s.take(Ctl.Recover)).toEqual([]); // not before epoch 2 is durable
    await s.store.completeAll();
    expect(s.store.record).toEqual({ epoch: 2, committed: 0 });
    expect(s.take(Ctl.Recover).map((m) => m.slice(1))).toEqual([
      [1, 2, 0, 0],
      [2, 2, 0, 0],
      [3, 2, 0, 0],
    ]);
    expect(s.c.stats()).toMatchObject({ phase: 'recovering', aborted: 1, recoveries: 2 });
    // a late Prepared of the aborted checkpoint changes nothing
    s.c.handle(Ctl.Prepared, 3, 1, 1, 0);
    expect(s.c.stats().phase).toBe('recovering');
  });

  it('a task that restored and then failed an input, while others still recover, starts a new recovery', async () => {
    const s = setup();
    s.c.start();
    await flush();
    await s.store.completeAll();
    s.take(Ctl.Recover);
    s.c.handle(Ctl.Ready, 1, 101, 1, 0);
    s.c.handle(Ctl.Ready, 2, 102, 1, 0);
    // task 3 has not answered: a failure of its own before restoring changes nothing
    s.c.handle(Ctl.Failed, 3, 1, 1, FailReason.TupleFailed);
    expect(s.store.saves).toHaveLength(0);
    expect(s.c.stats()).toMatchObject({ phase: 'recovering', epoch: 1 });
    // task 2 restored, then an input failed there: its effect would be lost without a rollback
    s.c.handle(Ctl.Failed, 2, 1, 1, FailReason.TupleFailed);
    await s.store.completeAll();
    expect(s.store.record).toEqual({ epoch: 2, committed: 0 });
    expect(s.take(Ctl.Recover).map((m) => m.slice(1))).toEqual([
      [1, 2, 0, 0],
      [2, 2, 0, 0],
      [3, 2, 0, 0],
    ]);
    for (const t of [1, 2, 3]) s.c.handle(Ctl.Ready, t, 100 + t, 2, 0);
    expect(s.c.stats()).toMatchObject({ phase: 'idle', recoveries: 2 });
  });

  it('times out a checkpoint, and resends Trigger to sources that did not answer meanwhile', async () => {
    const s = await started();
    s.clock.advance(100);
    s.take(Ctl.Trigger);
    s.clock.advance(200);
    expect(s.take(Ctl.Trigger)).toEqual([[Ctl.Trigger, 1, 1, 1, 0]]);
    s.c.handle(Ctl.Prepared, 1, 1, 1, 0);
    s.clock.advance(800);
    await s.store.completeAll();
    expect(s.c.stats()).toMatchObject({ phase: 'recovering', epoch: 2, aborted: 1 });
  });

  it('resends Recover to tasks not ready, and a restarted task instance starts a new epoch', async () => {
    const s = setup();
    s.c.start();
    await flush();
    await s.store.completeAll();
    s.take(Ctl.Recover);
    s.c.handle(Ctl.Ready, 1, 101, 1, 0);
    s.clock.advance(200);
    expect(s.take(Ctl.Recover).map((m) => m[1])).toEqual([2, 3]);
    s.c.handle(Ctl.Ready, 2, 102, 1, 0);
    s.c.handle(Ctl.Ready, 3, 103, 1, 0);
    expect(s.c.stats().phase).toBe('idle');
    // the same instance saying hello again (a late retransmission) is nothing new
    s.c.handle(Ctl.Hello, 2, 102, 0, 0);
    expect(s.store.saves).toHaveLength(0);
    // another instance of task 2: its worker restarted
    s.c.handle(Ctl.Hello, 2, 202, 0, 0);
    await s.store.completeAll();
    expect(s.c.stats()).toMatchObject({ phase: 'recovering', epoch: 2 });
    // the old instance's late Ready is ignored; the new one's counts
    s.c.handle(Ctl.Ready, 1, 101, 2, 0);
    s.c.handle(Ctl.Ready, 3, 103, 2, 0);
    s.c.handle(Ctl.Ready, 2, 102, 2, 0);
    expect(s.c.stats().phase).toBe('recovering');
    s.c.handle(Ctl.Ready, 2, 202, 2, 0);
    expect(s.c.stats().phase).toBe('idle');
  });

  it('resumes from its saved record: a new epoch, the committed txid restored everywhere', async () => {
    const s = setup({ record: { epoch: 4, committed: 17 } });
    s.c.start();
    await flush();
    await s.store.completeAll();
    expect(s.take(Ctl.Recover)).toEqual([
      [Ctl.Recover, 1, 5, 17, 0],
      [Ctl.Recover, 2, 5, 17, 0],
      [Ctl.Recover, 3, 5, 17, 0],
    ]);
    for (const t of [1, 2, 3]) s.c.handle(Ctl.Ready, t, t, 5, 0);
    s.clock.advance(100);
    expect(s.take(Ctl.Trigger)).toEqual([[Ctl.Trigger, 1, 18, 5, 17]]);
  });

  it('keeps retrying a save the backend refuses, and commits only once it is durable', async () => {
    const s = await started();
    s.clock.advance(100);
    for (const t of [1, 2, 3]) s.c.handle(Ctl.Prepared, t, 1, 1, 0);
    s.store.saves.shift()!.fail(new Error('backend down'));
    await flush();
    expect(s.take(Ctl.Commit)).toEqual([]);
    s.clock.advance(200);
    expect(s.store.saves).toHaveLength(1);
    s.store.saves.shift()!.fail(new Error('still down'));
    await flush();
    s.clock.advance(200);
    await s.store.completeAll();
    expect(s.take(Ctl.Commit)).toHaveLength(3);
    expect(s.store.record).toEqual({ epoch: 1, committed: 1 });
  });

  it('a restart noticed while the decision is being saved rolls back after the commit', async () => {
    const s = await started();
    s.clock.advance(100);
    for (const t of [1, 2, 3]) s.c.handle(Ctl.Prepared, t, 1, 1, 0);
    s.c.handle(Ctl.Hello, 3, 999, 0, 0);
    await s.store.completeAll();
    expect(s.store.record).toEqual({ epoch: 2, committed: 1 });
    expect(s.take(Ctl.Recover).map((m) => m.slice(2))).toEqual([
      [2, 1, 0],
      [2, 1, 0],
      [2, 1, 0],
    ]);
  });

  it('catches up with a task ahead of its record (the record was lost), and recovers past it', async () => {
    const s = setup();
    s.c.start();
    await flush();
    await s.store.completeAll();
    s.take(Ctl.Recover);
    // a task still running from before answers with its own epoch and committed txid
    s.c.handle(Ctl.Ready, 2, 77, 9, 41);
    await s.store.completeAll();
    expect(s.store.record).toEqual({ epoch: 10, committed: 41 });
    expect(s.take(Ctl.Recover).map((m) => m.slice(1))).toEqual([
      [1, 10, 41, 0],
      [2, 10, 41, 0],
      [3, 10, 41, 0],
    ]);
    for (const t of [1, 2, 3]) s.c.handle(Ctl.Ready, t, 100 + t, 10, 41);
    s.clock.advance(100);
    expect(s.take(Ctl.Trigger)).toEqual([[Ctl.Trigger, 1, 42, 10, 41]]);
  });

  it('stops its timer on close', async () => {
    const s = await started();
    s.c.close();
    s.clock.advance(10_000);
    expect(s.sent).toEqual([]);
  });
});
