import {
  BaseBasicBolt,
  BaseRichBolt,
  FailedException,
  ReportedFailedException,
  TopologyBuilder,
  TupleUtils,
  errorCode,
  type BasicOutputCollector,
  type OutputCollector,
  type OutputFieldsDeclarer,
  type TopologyConfig,
  type TopologyContext,
  type Tuple,
} from '../../../topology-api';
import { ManualClock } from '../../../common/clock';
import { LocalCluster } from '../../../local/local-cluster';
import { ListSpout, RecordingBolt, SpoutLedger, sorted, until, turns, type Seen } from '../../helpers/components';

const range = (n: number): unknown[][] => Array.from({ length: n }, (_, i) => [i]);

async function expectCode(p: Promise<unknown>, code: string): Promise<void> {
  await expect(p).rejects.toMatchObject({ code });
}

describe('LocalCluster', () => {
  let clock: ManualClock;
  let cluster: LocalCluster;
  beforeEach(() => {
    clock = new ManualClock();
    cluster = new LocalCluster({ clock, seed: 1 });
  });
  afterEach(() => cluster.close());

  function simple(ledger: SpoutLedger, n = 10, seen: Seen[] = []): TopologyBuilder {
    const b = new TopologyBuilder();
    b.setSpout('s', () => new ListSpout(range(n), ledger));
    b.setBolt('sink', () => new RecordingBolt(seen), 2).shuffleGrouping('s');
    return b;
  }

  it('runs several topologies side by side', async () => {
    const a = new SpoutLedger();
    const b = new SpoutLedger();
    await cluster.submitTopology('one', {}, simple(a, 50));
    await cluster.submitTopology('two', {}, simple(b, 70));
    await until(() => a.acked.length === 50 && b.acked.length === 70, 'both done');
    expect(await cluster.getTopologyNames()).toEqual(['one', 'two']);
    const info = await cluster.getTopologyInfo('two');
    expect(info).toMatchObject({ name: 'two', status: 'ACTIVE', numWorkers: 1, numExecutors: 4, numTasks: 4 });
    expect(info.id).toMatch(/^two-\d+-\d+$/);
  });

  it('refuses duplicate names, unknown names, bad names and bad config with coded errors', async () => {
    const ledger = new SpoutLedger();
    await cluster.submitTopology('dup', {}, simple(ledger));
    await expectCode(cluster.submitTopology('dup', {}, simple(ledger)), 'ERR_TOPOLOGY_EXISTS');
    await expectCode(cluster.activate('nope'), 'ERR_TOPOLOGY_NOT_FOUND');
    await expectCode(cluster.getTopologyInfo('nope'), 'ERR_TOPOLOGY_NOT_FOUND');
    await expectCode(cluster.submitTopology('a/b', {}, simple(ledger)), 'ERR_TOPOLOGY_INVALID');
    await expectCode(cluster.submitTopology('cfg', { 'topology.workers': -1 }, simple(ledger)), 'ERR_CONFIG_INVALID');
  });

  it('deactivate stops nextTuple; activate resumes it', async () => {
    const ledger = new SpoutLedger();
    await cluster.submitTopology('t', {}, simple(ledger, 1_000_000));
    await until(() => ledger.acked.length > 100, 'running');
    await cluster.deactivate('t');
    expect(ledger.deactivations).toBe(1);
    await turns(5);
    const calls = ledger.nextTupleCalls;
    await turns(50);
    expect(ledger.nextTupleCalls).toBe(calls);
    expect((await cluster.getTopologyInfo('t')).status).toBe('INACTIVE');
    await cluster.activate('t');
    expect(ledger.activations).toBe(2); // once at start, once now
    await until(() => ledger.nextTupleCalls > calls + 100, 'resumed');
  });

  it('kill deactivates the spouts at once and shuts down after the wait', async () => {
    const ledger = new SpoutLedger();
    await cluster.submitTopology('k', { 'topology.message.timeout.secs': 30 }, simple(ledger, 5));
    await until(() => ledger.acked.length === 5, 'acked');
    let killed = false;
    const kill = cluster.killTopology('k').then(() => (killed = true));
    await until(() => ledger.deactivations === 1, 'spouts deactivated at once');
    clock.advance(29_999);
    await turns(5);
    expect(killed).toBe(false);
    expect(ledger.closed).toBe(0);
    clock.advance(1);
    await kill;
    expect(ledger.closed).toBe(1);
    expect(await cluster.getTopologyNames()).toEqual([]);
    await cluster.submitTopology('k', {}, simple(new SpoutLedger(), 1)); // the name is free again
  });

  it('user code that throws fails the input, reports the error and keeps the worker running', async () => {
    const ledger = new SpoutLedger();
    const seen: Seen[] = [];
    class Picky extends BaseRichBolt {
      private collector!: OutputCollector;
      prepare(_c: Readonly<TopologyConfig>, _x: TopologyContext, c: OutputCollector): void {
        this.collector = c;
      }
      execute(t: Tuple): void {
        if ((t.getValue(0) as number) % 10 === 3) throw new Error(`cannot handle ${t.getValue(0)}`);
        this.collector.emit([t.getValue(0)], t);
        this.collector.ack(t);
      }
      declareOutputFields(d: OutputFieldsDeclarer): void {
        d.declare(['v']);
      }
    }
    const b = new TopologyBuilder();
    b.setSpout('s', () => new ListSpout(range(40), ledger));
    b.setBolt('picky', () => new Picky()).shuffleGrouping('s');
    b.setBolt('sink', () => new RecordingBolt(seen)).shuffleGrouping('picky');
    await cluster.submitTopology('errs', {}, b);
    await until(() => ledger.acked.length + ledger.failed.length === 40, 'all done');
    expect(sorted(ledger.failed)).toEqual([3, 13, 23, 33]);
    expect(seen).toHaveLength(36);
    const info = await cluster.getTopologyInfo('errs');
    const picky = info.bolts.find((c) => c.componentId === 'picky')!;
    expect(picky.lastError).toMatch(/^Error: cannot handle \d+/);
    expect(picky.errorHost).toBe('localhost');
    expect(picky.errorTime).toBeGreaterThan(0);
    expect(info.errors.picky).toHaveLength(4);
  });

  it('reports emits on undeclared streams and with the wrong arity, naming component and stream', async () => {
    const ledger = new SpoutLedger();
    const codes: unknown[] = [];
    class Wrong extends BaseBasicBolt {
      execute(t: Tuple, c: BasicOutputCollector): void {
        try {
          c.emit([1], 'nosuch');
        } catch (err) {
          codes.push(errorCode(err), (err as Error).message);
        }
        c.emit([1, 2]); // throws out of execute: reported, input failed
        void t;
      }
      declareOutputFields(d: OutputFieldsDeclarer): void {
        d.declare(['only']);
      }
    }
    const b = new TopologyBuilder();
    b.setSpout('s', () => new ListSpout(range(1), ledger));
    b.setBolt('wrong', () => new Wrong()).shuffleGrouping('s');
    await cluster.submitTopology('emits', {}, b);
    await until(() => ledger.failed.length === 1, 'failed');
    expect(codes).toEqual(['ERR_EMIT_UNDECLARED_STREAM', 'Emit on an undeclared stream: component "wrong" emitted on stream "nosuch", which it does not declare (it declares "default")']);
    const info = await cluster.getTopologyInfo('emits');
    expect(info.bolts[0].lastError).toContain('Emit with the wrong number of values: component "wrong" stream "default" declares 1 field(s) [only], but 2 value(s) were emitted');
  });

  it('BaseBasicBolt: a FailedException fails the input; a ReportedFailedException also reports it', async () => {
    const ledger = new SpoutLedger();
    class Basic extends BaseBasicBolt {
      execute(t: Tuple): void {
        const v = t.getValue(0) as number;
        if (v === 1) throw new FailedException('quietly');
        if (v === 2) throw new ReportedFailedException('loudly');
      }
    }
    const b = new TopologyBuilder();
    b.setSpout('s', () => new ListSpout(range(4), ledger));
    b.setBolt('basic', () => new Basic()).shuffleGrouping('s');
    await cluster.submitTopology('basic', {}, b);
    await until(() => ledger.acked.length + ledger.failed.length === 4, 'done');
    expect(sorted(ledger.failed)).toEqual([1, 2]);
    expect(sorted(ledger.acked)).toEqual([0, 3]);
    const info = await cluster.getTopologyInfo('basic');
    expect(info.errors.basic).toHaveLength(1);
    expect(info.errors.basic[0].error).toContain('loudly');
  });

  it('sends tick tuples at topology.tick.tuple.freq.secs (component setting wins)', async () => {
    const ticks: Array<{ c: string; at: number }> = [];
    class Ticked extends BaseRichBolt {
      private collector!: OutputCollector;
      private id = '';
      prepare(_c: Readonly<TopologyConfig>, ctx: TopologyContext, c: OutputCollector): void {
        this.collector = c;
        this.id = ctx.getThisComponentId();
      }
      execute(t: Tuple): void {
        if (TupleUtils.isTick(t)) ticks.push({ c: this.id, at: clock.now() });
        this.collector.ack(t);
      }
    }
    const b = new TopologyBuilder();
    b.setSpout('s', () => new ListSpout([], new SpoutLedger()));
    b.setBolt('fast', () => new Ticked()).shuffleGrouping('s').addConfiguration('topology.tick.tuple.freq.secs', 1);
    b.setBolt('slow', () => new Ticked()).shuffleGrouping('s');
    await cluster.submitTopology('ticks', { 'topology.tick.tuple.freq.secs': 5 }, b);
    for (let i = 0; i < 10; i++) {
      clock.advance(1000);
      await until(() => ticks.filter((t) => t.c === 'fast').length === i + 1, `tick ${i + 1}`);
    }
    await turns(5);
    expect(ticks.filter((t) => t.c === 'fast').map((t) => t.at)).toEqual([1, 2, 3, 4, 5, 6, 7, 8, 9, 10].map((s) => s * 1000));
    expect(ticks.filter((t) => t.c === 'slow').map((t) => t.at)).toEqual([5000, 10000]);
  });
});
