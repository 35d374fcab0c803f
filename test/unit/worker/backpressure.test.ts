import { BaseRichBolt, TopologyBuilder, type OutputCollector, type OutputFieldsDeclarer, type TopologyConfig, type TopologyContext, type Tuple } from '../../../topology-api';
import { LocalCluster } from '../../../local/local-cluster';
import { ListSpout, SpoutLedger, until } from '../../helpers/components';

/** Burns CPU per tuple, so it is far slower than the spout; checks how much is queued ahead of it. */
class SlowBolt extends BaseRichBolt {
  private collector!: OutputCollector;
  constructor(
    private readonly state: { executed: number; maxQueued: number; produced: () => number },
    private readonly fanOut = 0,
  ) {
    super();
  }
  prepare(_c: Readonly<TopologyConfig>, _x: TopologyContext, collector: OutputCollector): void {
    this.collector = collector;
  }
  execute(t: Tuple): void {
    this.state.executed++;
    this.state.maxQueued = Math.max(this.state.maxQueued, this.state.produced() - this.state.executed);
    const until = performance.now() + 0.02;
    while (performance.now() < until); // 20 µs of work
    for (let i = 0; i < this.fanOut; i++) this.collector.emit([t.getValue(0)], t);
    this.collector.ack(t);
  }
  declareOutputFields(d: OutputFieldsDeclarer): void {
    d.declare(['value']);
  }
}

describe('backpressure', () => {
  let cluster: LocalCluster;
  beforeEach(() => (cluster = new LocalCluster({ seed: 3 })));
  afterEach(() => cluster.close());

  it.each([
    ['acking off', { 'topology.acker.executors': 0 }],
    ['acking on, no max pending', {}],
  ])('bounds what waits ahead of a slow bolt (%s) and drops nothing', async (_label, conf) => {
    const N = 3000;
    const capacity = 16;
    const ledger = new SpoutLedger();
    const state = { executed: 0, maxQueued: 0, produced: () => ledger.emitted.length };
    const b = new TopologyBuilder();
    b.setSpout('fast', () => new ListSpout(Array.from({ length: N }, (_, i) => [i]), ledger));
    b.setBolt('slow', () => new SlowBolt(state), 1).shuffleGrouping('fast');
    await cluster.submitTopology('bp', { ...conf, 'topology.executor.receive.buffer.size': capacity }, b);
    await until(() => state.executed === N, 'every tuple executed', 20_000);
    // Seen from inside execute (the current tuple already taken out): the inbox held at most its
    // capacity, and it did fill up, so the spout really was parked rather than never fast enough.
    expect(state.maxQueued).toBeLessThanOrEqual(capacity);
    expect(state.maxQueued).toBeGreaterThanOrEqual(capacity - 1);
    await until(() => ledger.acked.length === N, 'every tuple acked');
  });

  it('propagates through a chain: a slow last bolt slows the spout', async () => {
    const N = 2000;
    const capacity = 32;
    const ledger = new SpoutLedger();
    const mid = { executed: 0, maxQueued: 0, produced: () => ledger.emitted.length };
    const last = { executed: 0, maxQueued: 0, produced: () => mid.executed * 3 };
    const b = new TopologyBuilder();
    b.setSpout('fast', () => new ListSpout(Array.from({ length: N }, (_, i) => [i]), ledger));
    b.setBolt('mid', () => new SlowBolt(mid, 3), 1).shuffleGrouping('fast');
    b.setBolt('last', () => new SlowBolt(last), 1).shuffleGrouping('mid');
    await cluster.submitTopology('chain', { 'topology.executor.receive.buffer.size': capacity }, b);
    await until(() => ledger.acked.length === N, 'every tree acked', 30_000);
    expect(last.executed).toBe(3 * N);
    // mid's inbox: at most its capacity; last's: capacity plus what one execute of mid emits past it
    expect(mid.maxQueued).toBeLessThanOrEqual(capacity);
    expect(last.maxQueued).toBeLessThanOrEqual(capacity + 2);
    expect(last.maxQueued).toBeGreaterThanOrEqual(capacity - 1);
    const info = await cluster.getTopologyInfo('chain');
    expect(info.bolts.find((c) => c.componentId === 'last')!.executed).toBe(3 * N);
    expect(ledger.emitted).toHaveLength(N);
  });
});
