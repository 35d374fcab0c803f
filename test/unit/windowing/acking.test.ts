import { Count, Duration, TopologyBuilder, type Tuple, type TupleWindow, type OutputCollector, type TopologyConfig, type TopologyContext, BaseWindowedBolt, errorCode } from '../../../topology-api';
import { ManualClock } from '../../../common/clock';
import { LocalCluster } from '../../../local/local-cluster';
import { GatedSpout, run, SpoutLedger, until } from './helpers';

const values = (n: number): unknown[][] => Array.from({ length: n }, (_, i) => [i]);

/** Throws on its first window; fails tuple 4 explicitly the first time it sees it. */
class Flaky extends BaseWindowedBolt {
  private collector!: OutputCollector;
  private windows = 0;
  private failed4 = false;
  constructor(private readonly seen: unknown[][]) {
    super();
  }
  prepare(_c: Readonly<TopologyConfig>, _x: TopologyContext, collector: OutputCollector): void {
    this.collector = collector;
  }
  execute(w: TupleWindow): void {
    this.seen.push(w.get().map((t) => t.getValue(0)));
    if (this.windows++ === 0) throw new Error('first window fails');
    const four = w.get().find((t: Tuple) => t.getValue(0) === 4);
    if (four && !this.failed4) {
      this.failed4 = true;
      this.collector.fail(four);
    }
  }
}

describe('windowed bolts and acking', () => {
  it('a failure inside a window fails its tuples, and the spout replays them', async () => {
    const seen: unknown[][] = [];
    const ledger = new SpoutLedger();
    const gate = { open: 8 };
    const { cluster } = await run((b) => {
      // 8 tuples + 3 replayed after the first window + tuple 4 replayed: 12, four windows of 3
      b.setSpout('s', () => new GatedSpout(values(8), gate, ledger, ['value'], true));
      b.setBolt('w', () => new Flaky(seen).withTumblingWindow(Count.of(3))).shuffleGrouping('s');
    });
    try {
      await until(() => ledger.acked.length === 8, 'every tuple acked in the end');
      expect(seen[0]).toEqual([0, 1, 2]);
      expect([...ledger.failed].sort()).toEqual([0, 1, 2, 4]);
      expect([...ledger.acked].sort()).toEqual([0, 1, 2, 3, 4, 5, 6, 7]);
      expect(ledger.emitted).toHaveLength(12);
      expect((await cluster.pendingCounts('t')).spoutPending).toBe(0);
    } finally {
      await cluster.close();
    }
  });

  it('refuses a topology whose message timeout cannot outlast a window, naming the bolt and the shortfall', async () => {
    const cluster = new LocalCluster({ clock: new ManualClock() });
    try {
      const b = new TopologyBuilder();
      b.setSpout('s', () => new GatedSpout(values(1), { open: 0 }, new SpoutLedger()));
      b.setBolt('minute', () => new Flaky([]).withWindow(Duration.seconds(20), Duration.seconds(15))).shuffleGrouping('s');
      b.setBolt('fine', () => new Flaky([]).withTumblingWindow(Duration.seconds(10))).shuffleGrouping('s');
      const err = await cluster.submitTopology('t', { 'topology.message.timeout.secs': 30 }, b).then(
        () => null,
        (e: unknown) => e,
      );
      expect(errorCode(err)).toBe('ERR_WINDOW_OUTLASTS_TIMEOUT');
      expect((err as Error).message).toContain('bolt "minute" holds tuples up to 35000 ms');
      expect((err as Error).message).toContain('5000 ms longer than topology.message.timeout.secs (30 s)');
      expect((err as Error).message).not.toContain('"fine"');
      // the same topology passes with a longer timeout, or without acking
      await cluster.submitTopology('t', { 'topology.message.timeout.secs': 36 }, b);
      await cluster.submitTopology('u', { 'topology.acker.executors': 0 }, b);
    } finally {
      await cluster.close();
    }
  });

  it('refuses contradictory window settings when the topology is built', () => {
    const b = new TopologyBuilder();
    b.setSpout('s', () => new GatedSpout(values(1), { open: 0 }, new SpoutLedger()));
    const bolt = new Flaky([]).withWindow(Count.of(2), Count.of(5)).withAllowedLateness(Duration.seconds(1));
    b.setBolt('w', bolt).shuffleGrouping('s');
    expect(() => b.createTopology()).toThrow(/component "w" window: the sliding interval \(5 tuples\) is longer than the window \(2\)/);
    try {
      b.createTopology();
    } catch (err) {
      expect(errorCode(err)).toBe('ERR_TOPOLOGY_INVALID');
      expect((err as { problems: string[] }).problems).toEqual([
        'component "w" window: the sliding interval (5 tuples) is longer than the window (2)',
        'component "w" window: allowed lateness needs event time (withTimestampField or withTimestampExtractor)',
        'component "w" window: allowed lateness needs windows measured in time (a Duration length and slide) or sessions',
      ]);
    }
  });
});
