import { Count, Duration } from '../../../topology-api';
import { Collect, executedAll, GatedSpout, RecordingWindowBolt, run, seededShuffle, SpoutLedger, TaskGatedSpout, turns, until, windowStats, type Fired } from './helpers';

/** [value, ts] tuples. */
const events = (ts: number[]): unknown[][] => ts.map((t, i) => [i, t]);
const summary = (fired: Fired[]): Array<[number | null, number, unknown[]]> =>
  fired.map((f) => [f.start, f.end, [...f.values].sort((a, b) => (a as number) - (b as number))]);

describe('event-time windows', () => {
  async function tumbling(input: unknown[][], lagMs: number): Promise<Fired[]> {
    const fired: Fired[] = [];
    const ledger = new SpoutLedger();
    const gate = { open: input.length };
    const { cluster } = await run((b) => {
      b.setSpout('s', () => new GatedSpout(input, gate, ledger, ['value', 'ts']));
      b.setBolt('w', () => new RecordingWindowBolt(fired).withTumblingWindow(Duration.seconds(1)).withTimestampField('ts').withLag(Duration.of(lagMs))).shuffleGrouping('s');
    });
    try {
      await executedAll(cluster, 'w', input.length);
      await until(() => fired.length === 6, 'six windows');
      await turns(10);
      expect(await windowStats(cluster, 'w')).toMatchObject({ late: 0, lateDropped: 0, watermarkMs: 10_000 - lagMs });
      return fired;
    } finally {
      await cluster.close();
    }
  }

  it('give the same windows for out-of-order input within the lag as for input in order', async () => {
    const ts = Array.from({ length: 60 }, (_, i) => i * 100); // 0 .. 5900
    const inOrder = events([...ts, 10_000]);
    // shuffle within runs of five (400 ms apart at most, under the 500 ms lag)
    const shuffled: unknown[][] = [];
    for (let i = 0; i < 60; i += 5) shuffled.push(...seededShuffle(inOrder.slice(i, i + 5), 17 + i));
    shuffled.push(inOrder[60]);
    expect(shuffled).not.toEqual(inOrder);
    const a = await tumbling(inOrder, 500);
    const b = await tumbling(shuffled, 500);
    expect(summary(b)).toEqual(summary(a));
    expect(summary(a).map(([s, e, v]) => [s, e, v.length])).toEqual([
      [0, 1000, 10],
      [1000, 2000, 10],
      [2000, 3000, 10],
      [3000, 4000, 10],
      [4000, 5000, 10],
      [5000, 6000, 10],
    ]);
  });

  it('send tuples too late for every window to the late tuple stream (acked), and take those whose window is still open', async () => {
    const fired: Fired[] = [];
    const late: unknown[][] = [];
    const ledger = new SpoutLedger();
    const gate = { open: 0 };
    const input = events([100, 200, 1500, 300, 1200, 2500]);
    const { cluster } = await run((b) => {
      b.setSpout('s', () => new GatedSpout(input, gate, ledger, ['value', 'ts']));
      b.setBolt('w', () => new RecordingWindowBolt(fired).withTumblingWindow(Duration.seconds(1)).withTimestampField('ts').withLateTupleStream('late')).shuffleGrouping('s');
      b.setBolt('late', () => new Collect(late)).shuffleGrouping('w', 'late');
    });
    try {
      gate.open = 3;
      await until(() => fired.length === 1, 'window [0, 1000) fired by the tuple at 1500');
      expect(fired[0]).toMatchObject({ values: [0, 1], start: 0, end: 1000 });
      gate.open = 6;
      await until(() => fired.length === 2 && late.length === 1, 'the next window, and the late tuple');
      expect(late).toEqual([[[3, 300]]]); // late_tuple: the tuple's values
      expect(fired[1]).toMatchObject({ values: [2, 4], start: 1000, end: 2000 }); // 1200 was behind the watermark, its window open
      expect(await windowStats(cluster, 'w')).toMatchObject({ late: 1, lateDropped: 0, watermarkMs: 2500 });
      await until(() => ledger.acked.length === 5, 'all but the tuple in the open window acked');
      expect([...ledger.acked].sort()).toEqual([0, 1, 2, 3, 4]);
    } finally {
      await cluster.close();
    }
  });

  it('drop and count late tuples without a late tuple stream; read timestamps with an extractor', async () => {
    const fired: Fired[] = [];
    const ledger = new SpoutLedger();
    const gate = { open: 4 };
    const input = [[100], [1500], [300], [2500]];
    const { cluster } = await run((b) => {
      b.setSpout('s', () => new GatedSpout(input, gate, ledger, ['ts']));
      b.setBolt('w', () => new RecordingWindowBolt(fired).withTumblingWindow(Duration.seconds(1)).withTimestampExtractor((t) => t.getIntegerByField('ts'))).shuffleGrouping('s');
    });
    try {
      await until(() => fired.length === 2, 'two windows');
      expect(fired.map((f) => f.values)).toEqual([[100], [1500]]);
      expect(await windowStats(cluster, 'w')).toMatchObject({ late: 1, lateDropped: 1 });
      await until(() => ledger.acked.length === 3, 'acks, the dropped tuple included');
    } finally {
      await cluster.close();
    }
  });

  it('fail a tuple without a usable timestamp, and report why', async () => {
    const fired: Fired[] = [];
    const ledger = new SpoutLedger();
    const { cluster } = await run((b) => {
      b.setSpout('s', () => new GatedSpout([[1, 'soon'], [2, 2500]], { open: 2 }, ledger, ['value', 'ts']));
      b.setBolt('w', () => new RecordingWindowBolt(fired).withTumblingWindow(Duration.seconds(1)).withTimestampField('ts')).shuffleGrouping('s');
    });
    try {
      await until(() => ledger.failed.length === 1, 'failed');
      expect(ledger.failed).toEqual([0]);
      const info = await cluster.getTopologyInfo('t');
      expect(JSON.stringify(info)).toContain('Tuple without a usable timestamp');
    } finally {
      await cluster.close();
    }
  });
});

describe('count windows in event time', () => {
  it('count tuples in timestamp order, as the watermark passes them', async () => {
    const fired: Fired[] = [];
    const ledger = new SpoutLedger();
    // out of order within the 1 s lag; 10_000 moves the watermark past everything before it
    const input = events([300, 100, 200, 600, 400, 500, 900, 700, 800, 10_000]);
    const { cluster } = await run((b) => {
      b.setSpout('s', () => new GatedSpout(input, { open: input.length }, ledger, ['value', 'ts']));
      b.setBolt('w', () => new RecordingWindowBolt(fired, 1).withTumblingWindow(Count.of(3)).withTimestampField('ts').withLag(Duration.seconds(1))).shuffleGrouping('s');
    });
    try {
      await until(() => fired.length === 3, 'three windows');
      expect(fired.map((f) => f.values)).toEqual([
        [100, 200, 300],
        [400, 500, 600],
        [700, 800, 900],
      ]);
      expect(fired.map((f) => f.end)).toEqual([9000, 9000, 9000]); // count windows end at the watermark that released them
      await until(() => ledger.acked.length === 9, 'acked');
    } finally {
      await cluster.close();
    }
  });
});

describe('watermarks across workers', () => {
  /** Two spout tasks (one per worker), each emitting its own [value, ts] list when its gate opens. */
  async function twoInputs(idleMs?: number) {
    const fired: Fired[] = [];
    const lists = [events([500, 1500, 3500]), events([400, 1600, 2100])];
    const gates = [{ open: 0 }, { open: 0 }];
    const ledgers = [new SpoutLedger(), new SpoutLedger()];
    const ctx = await run(
      (b) => {
        b.setSpout('s', () => new TaskGatedSpout(lists, gates, ledgers, ['value', 'ts']), 2);
        const make = (): RecordingWindowBolt => {
          const bolt = new RecordingWindowBolt(fired).withTumblingWindow(Duration.seconds(1)).withTimestampField('ts').withWatermarkInterval(Duration.seconds(1));
          return idleMs === undefined ? bolt : bolt.withIdleness(Duration.of(idleMs));
        };
        b.setBolt('w', make).shuffleGrouping('s');
      },
      { 'topology.workers': 2 },
    );
    const runtimes = await ctx.runtimes();
    const spoutTasks = runtimes.map((r) => r.localTasks.filter((t) => t >= 1 && t <= 4 && r.layout.taskComponent[t] === 's'));
    expect(spoutTasks.map((t) => t.length)).toEqual([1, 1]); // one spout task in each worker
    return { ...ctx, fired, gates, ledgers };
  }

  it('fire a window only when every input task has passed its end', async () => {
    const { cluster, fired, gates } = await twoInputs();
    try {
      gates[0].open = 3; // task 0 at 3500
      gates[1].open = 1; // task 1 at 400
      await executedAll(cluster, 'w', 4);
      await turns(20);
      expect(fired).toEqual([]);
      expect((await windowStats(cluster, 'w')).watermarkMs).toBe(400);
      gates[1].open = 3; // task 1 at 2100
      await until(() => fired.length === 2, 'windows up to 2000');
      expect(summary(fired)).toEqual([
        [0, 1000, [0, 0]],
        [1000, 2000, [1, 1]],
      ]);
      expect((await windowStats(cluster, 'w')).watermarkMs).toBe(2100);
    } finally {
      await cluster.close();
    }
  });

  it('stop counting an idle input after the idle timeout, and count it again when its data returns', async () => {
    const { cluster, clock, fired, gates } = await twoInputs(3000);
    try {
      gates[0].open = 2; // task 0 at 1500; task 1 sends nothing
      await executedAll(cluster, 'w', 2);
      clock.advance(2000); // two progress markers from each task
      await turns(20);
      expect(fired).toEqual([]);
      clock.advance(1000); // the third: task 1 has been silent for the idle timeout
      await until(() => fired.length === 1, 'the first window, task 1 idle');
      expect(summary(fired)).toEqual([[0, 1000, [0]]]);
      gates[1].open = 2; // task 1 is back: 400 is behind the watermark (late), 1600 is not
      await executedAll(cluster, 'w', 4);
      expect(await windowStats(cluster, 'w')).toMatchObject({ late: 1, watermarkMs: 1500 });
      gates[0].open = 3; // task 0 at 3500
      await executedAll(cluster, 'w', 5);
      await turns(20);
      expect(fired).toHaveLength(1); // task 1 counts again: the watermark is 1600, not 3500
      expect((await windowStats(cluster, 'w')).watermarkMs).toBe(1600);
      gates[1].open = 3; // task 1 at 2100
      await until(() => fired.length === 2, 'the second window');
      expect(summary(fired)[1]).toEqual([1000, 2000, [1, 1]]);
    } finally {
      await cluster.close();
    }
  });
});
