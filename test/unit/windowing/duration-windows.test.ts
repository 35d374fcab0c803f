import { Count, Duration } from '../../../topology-api';
import { executedAll, GatedSpout, turns, RecordingWindowBolt, run, SpoutLedger, until, windowStats, type Fired } from './helpers';

const values = (n: number): unknown[][] => Array.from({ length: n }, (_, i) => [i]);
const WALL0 = 1_700_000_000_000; // ManualClock's wall clock at time 0

describe('duration windows (processing time, manual clock)', () => {
  it('tumble on the clock: a window holds what arrived during its span, and fires at its end', async () => {
    const fired: Fired[] = [];
    const ledger = new SpoutLedger();
    const gate = { open: 0 };
    const { cluster, clock } = await run((b) => {
      b.setSpout('s', () => new GatedSpout(values(10), gate, ledger));
      b.setBolt('w', () => new RecordingWindowBolt(fired).withTumblingWindow(Duration.seconds(1))).shuffleGrouping('s');
    });
    try {
      gate.open = 3;
      await executedAll(cluster, 'w', 3);
      clock.advance(999);
      gate.open = 5;
      await executedAll(cluster, 'w', 5);
      expect(fired).toEqual([]);
      clock.advance(1); // t = 1000: the first window ends
      await until(() => fired.length === 1, 'first window');
      expect(fired[0]).toMatchObject({ values: [0, 1, 2, 3, 4], start: WALL0, end: WALL0 + 1000, expired: [] });
      await until(() => ledger.acked.length === 5, 'its tuples acked');
      gate.open = 7;
      await executedAll(cluster, 'w', 7);
      clock.advance(1000); // a window with two tuples
      clock.advance(1000); // an empty window: not fired (as in Storm)
      gate.open = 8;
      await executedAll(cluster, 'w', 8);
      clock.advance(1000);
      await until(() => fired.length === 3, 'two more windows');
      expect(fired.map((f) => [f.values, f.start! - WALL0, f.end - WALL0])).toEqual([
        [[0, 1, 2, 3, 4], 0, 1000],
        [[5, 6], 1000, 2000],
        [[7], 3000, 4000],
      ]);
      expect(fired[2].expired).toEqual([5, 6]);
      expect(await windowStats(cluster, 'w')).toMatchObject({ open: 0, buffered: 0, watermarkMs: null });
    } finally {
      await cluster.close();
    }
  });

  it('slide by a duration: each window covers the last length ms, and a tuple is acked after its last one', async () => {
    const fired: Fired[] = [];
    const ledger = new SpoutLedger();
    const gate = { open: 0 };
    const { cluster, clock } = await run((b) => {
      b.setSpout('s', () => new GatedSpout(values(10), gate, ledger));
      b.setBolt('w', () => new RecordingWindowBolt(fired).withWindow(Duration.of(300), Duration.of(200))).shuffleGrouping('s');
    });
    try {
      // panes of 100 ms: tuple i arrives in the pane starting at 100·i
      for (let i = 0; i < 5; i++) {
        gate.open = i + 1;
        await executedAll(cluster, 'w', i + 1);
        clock.advance(100);
        if (i === 1) await until(() => fired.length === 1, 'window ending at 200');
        if (i === 3) await until(() => fired.length === 2, 'window ending at 400');
      }
      clock.advance(100); // t = 600
      await until(() => fired.length === 3, 'window ending at 600');
      // windows [-100, 200), [100, 400), [300, 600)
      expect(fired.map((f) => [f.values, f.start! - WALL0, f.end - WALL0])).toEqual([
        [[0, 1], -100, 200],
        [[1, 2, 3], 100, 400],
        [[3, 4], 300, 600],
      ]);
      expect(fired.map((f) => f.fresh)).toEqual([[0, 1], [2, 3], [4]]);
      expect(fired.map((f) => f.expired)).toEqual([[], [0], [1, 2]]);
      // 0 left with the window ending at 200, 1 and 2 with the one at 400, 3 and 4 with the one at 600
      await until(() => ledger.acked.length === 5, 'acks');
      expect(ledger.acked).toEqual([0, 1, 2, 3, 4]);
      gate.open = 6;
      await executedAll(cluster, 'w', 6); // at t = 600, in one window only: [500, 800)
      clock.advance(100);
      await turns(10);
      expect(ledger.acked).toHaveLength(5);
      clock.advance(100);
      await until(() => fired.length === 4 && ledger.acked.length === 6, 'window ending at 800, and its ack');
      expect(fired[3]).toMatchObject({ values: [5], expired: [3, 4] });
    } finally {
      await cluster.close();
    }
  });

  it('count length sliding by a duration: the last n tuples at every slide', async () => {
    const fired: Fired[] = [];
    const ledger = new SpoutLedger();
    const gate = { open: 0 };
    const { cluster, clock } = await run((b) => {
      b.setSpout('s', () => new GatedSpout(values(10), gate, ledger));
      b.setBolt('w', () => new RecordingWindowBolt(fired).withWindow(Count.of(3), Duration.of(500))).shuffleGrouping('s');
    });
    try {
      gate.open = 5;
      await executedAll(cluster, 'w', 5);
      clock.advance(500);
      await until(() => fired.length === 1, 'first');
      expect(fired[0]).toMatchObject({ values: [2, 3, 4], fresh: [2, 3, 4], expired: [0, 1], start: null, end: WALL0 + 500 });
      clock.advance(500); // nothing new: no window
      gate.open = 6;
      await executedAll(cluster, 'w', 6);
      clock.advance(500);
      await until(() => fired.length === 2, 'second');
      expect(fired[1]).toMatchObject({ values: [3, 4, 5], fresh: [5], expired: [2], end: WALL0 + 1500 });
      await until(() => ledger.acked.length === 3, 'evicted ones acked');
      expect([...ledger.acked].sort()).toEqual([0, 1, 2]);
    } finally {
      await cluster.close();
    }
  });

  it('duration length sliding by a count: the tuples of the last length ms, every n tuples', async () => {
    const fired: Fired[] = [];
    const ledger = new SpoutLedger();
    const gate = { open: 0 };
    const { cluster, clock } = await run((b) => {
      b.setSpout('s', () => new GatedSpout(values(10), gate, ledger));
      b.setBolt('w', () => new RecordingWindowBolt(fired).withWindow(Duration.of(1000), Count.of(2))).shuffleGrouping('s');
    });
    try {
      gate.open = 2;
      await executedAll(cluster, 'w', 2);
      await until(() => fired.length === 1, 'first');
      clock.advance(600);
      gate.open = 4;
      await executedAll(cluster, 'w', 4);
      await until(() => fired.length === 2, 'second');
      clock.advance(600); // t = 1200: 0 and 1 (at t = 0) are out of (200, 1200]
      gate.open = 6;
      await executedAll(cluster, 'w', 6);
      await until(() => fired.length === 3, 'third');
      expect(fired.map((f) => f.values)).toEqual([[0, 1], [0, 1, 2, 3], [2, 3, 4, 5]]);
      expect(fired[2]).toMatchObject({ expired: [0, 1], start: WALL0 + 200, end: WALL0 + 1200 });
    } finally {
      await cluster.close();
    }
  });
});
