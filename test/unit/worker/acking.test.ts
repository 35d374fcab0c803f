import {
  BaseBasicBolt,
  BaseRichBolt,
  FailedException,
  TopologyBuilder,
  type BasicOutputCollector,
  type OutputCollector,
  type OutputFieldsDeclarer,
  type TopologyConfig,
  type TopologyContext,
  type Tuple,
} from '../../../topology-api';
import { useManualCluster } from '../../helpers/manual-cluster';
import { FlakySink, ListSpout, RecordingBolt, SpoutLedger, sorted, until, turns, type Seen } from '../../helpers/components';

const range = (n: number): unknown[][] => Array.from({ length: n }, (_, i) => [i]);

/** Emits each input's value twice, anchored (or not) to the input, then acks it. */
class Doubler extends BaseRichBolt {
  private collector!: OutputCollector;
  constructor(private readonly anchored = true) {
    super();
  }
  prepare(_c: Readonly<TopologyConfig>, _ctx: TopologyContext, collector: OutputCollector): void {
    this.collector = collector;
  }
  execute(t: Tuple): void {
    this.collector.emit([t.getValue(0)], this.anchored ? t : null);
    this.collector.emit([t.getValue(0)], this.anchored ? [t] : undefined);
    this.collector.ack(t);
  }
  declareOutputFields(d: OutputFieldsDeclarer): void {
    d.declare(['value']);
  }
}

describe('acking through the runtime', () => {
  const fx = useManualCluster(11);
  const submit = fx.submit;

  it('acks a spout tuple once its whole tree is acked', async () => {
    const ledger = new SpoutLedger();
    const seen: Seen[] = [];
    await submit((b) => {
      b.setSpout('s', () => new ListSpout(range(100), ledger));
      b.setBolt('double', () => new Doubler(), 2).shuffleGrouping('s');
      b.setBolt('sink', () => new RecordingBolt(seen), 3).shuffleGrouping('double');
    });
    await until(() => ledger.acked.length === 100, 'all acked');
    expect(seen).toHaveLength(200);
    expect(ledger.failed).toEqual([]);
    expect(sorted(ledger.acked)).toEqual(range(100).map((v) => v[0]));
    expect((await fx.cluster.pendingCounts('t'))).toEqual({ spoutPending: 0, ackerTrees: 0 });
    const info = await fx.cluster.getTopologyInfo('t');
    expect(info.spouts[0]).toMatchObject({ emitted: 100, transferred: 100, acked: 100, failed: 0 });
    expect(info.bolts.find((c) => c.componentId === 'double')).toMatchObject({ executed: 100, emitted: 200, acked: 100 });
    expect(info.bolts.find((c) => c.componentId === 'sink')).toMatchObject({ executed: 200, acked: 200 });
  });

  it('completes every tree when spouts in several workers share the topology seed', async () => {
    // Every worker drew the same random sequence from topology.random.seed: spout tasks in two
    // workers made the same root and edge ids, their trees merged at the acker and never completed.
    const ledger = new SpoutLedger();
    const seen: Seen[] = [];
    await submit(
      (b) => {
        b.setSpout('s', () => new ListSpout(range(200), ledger), 4);
        b.setBolt('sink', () => new RecordingBolt(seen), 8).shuffleGrouping('s');
      },
      { 'topology.workers': 2 },
    );
    await until(() => ledger.acked.length === 800, 'every spout tuple of 4 tasks in 2 workers acked');
    expect(seen).toHaveLength(800);
    expect(await fx.cluster.pendingCounts('t')).toEqual({ spoutPending: 0, ackerTrees: 0 });
  });

  it('does not ack the root while a descendant is un-acked', async () => {
    const ledger = new SpoutLedger();
    await submit((b) => {
      b.setSpout('s', () => new ListSpout(range(5), ledger));
      b.setBolt('double', () => new Doubler(), 1).shuffleGrouping('s');
      b.setBolt('sink', () => new RecordingBolt([], 'none'), 1).shuffleGrouping('double');
    });
    await until(() => ledger.emitted.length === 5, 'emitted');
    await turns(20);
    expect(ledger.acked).toEqual([]);
    expect((await fx.cluster.pendingCounts('t')).spoutPending).toBe(5);
  });

  it('fails the root when any tuple of its tree fails, and replays it', async () => {
    const ledger = new SpoutLedger();
    await submit((b) => {
      b.setSpout('s', () => new ListSpout(range(30), ledger, { replay: true }));
      b.setBolt('double', () => new Doubler(), 2).shuffleGrouping('s');
      b.setBolt('sink', () => new FlakySink(new Set([3, 7, 11])), 1).shuffleGrouping('double');
    });
    await until(() => ledger.acked.length === 30, 'all acked after replays');
    expect(sorted(ledger.failed)).toEqual([3, 7, 11]);
    expect(new Set(ledger.acked).size).toBe(30);
    expect(ledger.emitted).toHaveLength(33);
  });

  it('times out an un-acked tuple and replays it (manual clock)', async () => {
    const ledger = new SpoutLedger();
    class DropFirst extends FlakySink {}
    const seen: Seen[] = [];
    let dropping = true;
    class Sometimes extends BaseRichBolt {
      private collector!: OutputCollector;
      prepare(_c: Readonly<TopologyConfig>, _ctx: TopologyContext, collector: OutputCollector): void {
        this.collector = collector;
      }
      execute(t: Tuple): void {
        seen.push({ task: 0, values: t.getValues(), stream: '', source: '' });
        if (!dropping) this.collector.ack(t); // while dropping: neither ack nor fail
      }
    }
    void DropFirst;
    await submit(
      (b) => {
        b.setSpout('s', () => new ListSpout(range(4), ledger, { replay: true }));
        b.setBolt('sink', () => new Sometimes(), 1).shuffleGrouping('s');
      },
      { 'topology.message.timeout.secs': 10 },
    );
    await until(() => seen.length === 4, 'delivered once');
    fx.clock.advance(9_999);
    await turns(10);
    expect(ledger.failed).toEqual([]); // not before the timeout
    dropping = false;
    fx.clock.advance(5_001); // rotation every 5 s: timed out within 10–15 s
    await until(() => ledger.acked.length === 4, 'replayed and acked');
    expect(sorted(ledger.failed)).toEqual([0, 1, 2, 3]);
    expect(seen).toHaveLength(8);
  });

  it('tracks tuples anchored to several inputs (multi-anchoring)', async () => {
    const left = new SpoutLedger();
    const right = new SpoutLedger();
    let release: Tuple[] = [];
    let sinkCollector!: OutputCollector;
    class Joiner extends BaseRichBolt {
      private collector!: OutputCollector;
      private held: Tuple[] = [];
      prepare(_c: Readonly<TopologyConfig>, _ctx: TopologyContext, collector: OutputCollector): void {
        this.collector = collector;
      }
      execute(t: Tuple): void {
        this.held.push(t);
        if (this.held.length === 2) {
          this.collector.emit(['joined'], this.held);
          for (const h of this.held) this.collector.ack(h);
          this.held = [];
        }
      }
      declareOutputFields(d: OutputFieldsDeclarer): void {
        d.declare(['value']);
      }
    }
    class Holder extends BaseRichBolt {
      prepare(_c: Readonly<TopologyConfig>, _ctx: TopologyContext, collector: OutputCollector): void {
        sinkCollector = collector;
      }
      execute(t: Tuple): void {
        release.push(t);
      }
    }
    await submit((b) => {
      b.setSpout('left', () => new ListSpout([['l']], left));
      b.setSpout('right', () => new ListSpout([['r']], right));
      b.setBolt('join', () => new Joiner(), 1).globalGrouping('left').globalGrouping('right');
      b.setBolt('hold', () => new Holder(), 1).shuffleGrouping('join');
    });
    await until(() => release.length === 1, 'joined tuple held');
    expect(release[0].getMessageId().getAnchors()).toHaveLength(2);
    await turns(10);
    expect(left.acked).toEqual([]);
    expect(right.acked).toEqual([]);
    sinkCollector.ack(release[0]);
    await until(() => left.acked.length === 1 && right.acked.length === 1, 'both roots acked');
    release = [];
  });

  it('fails every root of a multi-anchored tuple that fails', async () => {
    const a = new SpoutLedger();
    const b2 = new SpoutLedger();
    class Join extends BaseBasicBolt {
      private held: Tuple | null = null;
      execute(t: Tuple, c: BasicOutputCollector): void {
        if (!this.held) {
          this.held = t;
          throw new FailedException('wait for the second'); // fails only the first
        }
        c.emit(['x']);
      }
      declareOutputFields(d: OutputFieldsDeclarer): void {
        d.declare(['v']);
      }
    }
    await submit((b) => {
      b.setSpout('a', () => new ListSpout([['a']], a));
      b.setSpout('b', () => new ListSpout([['b']], b2));
      b.setBolt('j', () => new Join()).globalGrouping('a').globalGrouping('b');
      b.setBolt('sink', () => new FlakySink(new Set(['x'])), 1).shuffleGrouping('j');
    });
    await until(() => a.failed.length + a.acked.length === 1 && b2.failed.length + b2.acked.length === 1, 'both done');
    expect([...a.failed, ...b2.failed]).toHaveLength(2);
  });

  it('acks at once when topology.acker.executors is 0', async () => {
    const ledger = new SpoutLedger();
    await submit(
      (b) => {
        b.setSpout('s', () => new ListSpout(range(20), ledger));
        b.setBolt('sink', () => new RecordingBolt([], 'none'), 1).shuffleGrouping('s');
      },
      { 'topology.acker.executors': 0 },
    );
    await until(() => ledger.acked.length === 20, 'acked without tracking');
    expect((await fx.cluster.pendingCounts('t'))).toEqual({ spoutPending: 0, ackerTrees: 0 });
    const info = await fx.cluster.getTopologyInfo('t');
    expect(info.bolts.map((c) => c.componentId)).toEqual(['sink']);
  });

  it('does not track unanchored emits or emits without a message id', async () => {
    const anchoredOff = new SpoutLedger();
    const untracked = new SpoutLedger();
    await submit((b) => {
      b.setSpout('s', () => new ListSpout(range(10), anchoredOff));
      b.setSpout('u', () => new ListSpout(range(10), untracked, { tracked: false }));
      b.setBolt('double', () => new Doubler(false), 1).shuffleGrouping('s').shuffleGrouping('u');
      b.setBolt('sink', () => new RecordingBolt([], 'none'), 1).shuffleGrouping('double');
    });
    await until(() => anchoredOff.acked.length === 10, 'roots acked though descendants are not');
    expect(untracked.acked).toEqual([]);
    expect((await fx.cluster.pendingCounts('t'))).toEqual({ spoutPending: 0, ackerTrees: 0 });
  });

  it('holds topology.max.spout.pending', async () => {
    const ledger = new SpoutLedger();
    await submit(
      (b) => {
        b.setSpout('s', () => new ListSpout(range(100), ledger)).setMaxSpoutPending(7);
        b.setBolt('sink', () => new RecordingBolt([], 'none'), 1).shuffleGrouping('s');
      },
      { 'topology.message.timeout.secs': 10 },
    );
    await until(() => ledger.emitted.length === 7, 'seven emitted');
    await turns(30);
    expect(ledger.emitted).toHaveLength(7);
    expect(ledger.maxPending).toBe(7);
    fx.clock.advance(15_000); // all seven time out; seven more may go
    await until(() => ledger.emitted.length === 14, 'seven more after the timeouts');
    await turns(30);
    expect(ledger.emitted).toHaveLength(14);
    expect(ledger.failed).toHaveLength(7);
  });

  it('restarts a timeout with resetTimeout', async () => {
    const ledger = new SpoutLedger();
    const held: Tuple[] = [];
    let collector!: OutputCollector;
    class Slow extends BaseRichBolt {
      prepare(_c: Readonly<TopologyConfig>, _ctx: TopologyContext, c: OutputCollector): void {
        collector = c;
      }
      execute(t: Tuple): void {
        held.push(t);
      }
    }
    await submit(
      (b) => {
        b.setSpout('s', () => new ListSpout(range(1), ledger));
        b.setBolt('slow', () => new Slow()).shuffleGrouping('s');
      },
      { 'topology.message.timeout.secs': 10 },
    );
    await until(() => held.length === 1, 'held');
    for (let i = 0; i < 6; i++) {
      fx.clock.advance(5_000);
      collector.resetTimeout(held[0]);
      await turns(5);
    }
    expect(ledger.failed).toEqual([]); // 30 s passed, three timeouts' worth
    collector.ack(held[0]);
    await until(() => ledger.acked.length === 1, 'acked after 30 s');
  });
});
