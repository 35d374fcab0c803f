import { pack, unpack } from 'msgpackr';
import { Aggregates, Count, Duration, type BaseWindowedBolt } from '../../../topology-api';
import { executedAll, GatedSpout, RecordingAggregateBolt, RecordingWindowBolt, run, SpoutLedger, type Fired, type Result } from './helpers';

/** [key, value, ts], in order but for a few swaps within the lag. */
const input: unknown[][] = Array.from({ length: 120 }, (_, i) => [`k${i % 3}`, i, i * 50 + (i % 4 === 1 ? 40 : 0)]);

type Out = Array<Fired | Result>;

/**
 * Runs the bolt over `input` in one go, and again with a checkpoint in the middle: the windowing
 * executor's snapshot after the first half, through msgpack, restored into a fresh topology that then
 * gets the second half. The outputs must be the same.
 */
async function interrupted(make: (out: Out) => BaseWindowedBolt): Promise<{ straight: Out; resumed: Out }> {
  const conf = { 'topology.acker.executors': 0 };
  const whole = async (tuples: unknown[][], out: Out, restore?: unknown): Promise<unknown> => {
    const gate = { open: 0 };
    const { cluster, runtimes } = await run((b) => {
      b.setSpout('s', () => new GatedSpout(tuples, gate, new SpoutLedger(), ['key', 'value', 'ts']));
      b.setBolt('w', () => make(out)).shuffleGrouping('s');
    }, conf);
    try {
      const [rt] = await runtimes();
      const w = rt.layout.componentTasks.w[0];
      if (restore !== undefined) rt.windowing.executor(w)!.restore(restore);
      gate.open = tuples.length;
      await executedAll(cluster, 'w', tuples.length);
      return unpack(pack(rt.windowing.executor(w)!.snapshot()));
    } finally {
      await cluster.close();
    }
  };
  const straight: Out = [];
  await whole(input, straight);
  const resumed: Out = [];
  const snap = await whole(input.slice(0, 60), resumed);
  await whole(input.slice(60), resumed, snap);
  return { straight, resumed };
}

const tupleWindow = (out: Out): RecordingWindowBolt => new RecordingWindowBolt(out as Fired[], 1);
const aggregate = (out: Out): RecordingAggregateBolt => new RecordingAggregateBolt(out as Result[]).withAggregate(Aggregates.sum('value'));

describe("the window manager's snapshot and restore (for stateful windowed bolts)", () => {
  it('carries sliding event-time windows of tuples across a restore', async () => {
    const { straight, resumed } = await interrupted((o) => tupleWindow(o).withWindow(Duration.seconds(1), Duration.of(250)).withTimestampField('ts').withLag(Duration.of(100)));
    expect(straight.length).toBeGreaterThan(20);
    expect(resumed).toEqual(straight);
  });

  it('carries keyed accumulators across a restore', async () => {
    const { straight, resumed } = await interrupted((o) =>
      aggregate(o).withWindow(Duration.seconds(1), Duration.of(250)).withTimestampField('ts').withLag(Duration.of(100)).withKeyField('key'),
    );
    expect(straight.length).toBeGreaterThan(60);
    expect(resumed).toEqual(straight);
  });

  it('carries sessions and count windows across a restore', async () => {
    const sessions = await interrupted((o) => aggregate(o).withSessionWindow(Duration.of(120)).withTimestampField('ts').withKeyField('key'));
    expect(sessions.straight.length).toBeGreaterThan(0);
    expect(sessions.resumed).toEqual(sessions.straight);
    const counts = await interrupted((o) => tupleWindow(o).withWindow(Count.of(10), Count.of(4)).withKeyField('key'));
    const noEnd = (out: Out): Out => out.map((f) => ({ ...f, end: 0 }));
    expect(noEnd(counts.resumed)).toEqual(noEnd(counts.straight));
  });
});
