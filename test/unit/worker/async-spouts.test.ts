import {
  BaseBasicBolt,
  BaseRichSpout,
  TopologyBuilder,
  type BasicOutputCollector,
  type OutputFieldsDeclarer,
  type SpoutOutputCollector,
  type TopologyConfig,
  type TopologyContext,
  type Tuple,
} from '../../../topology-api';
import { useManualCluster } from '../../helpers/manual-cluster';
import { completeTopology } from '../../../local/testing';
import { RecordingBolt, turns, until, type Seen } from '../../helpers/components';

const io = (): Promise<void> => new Promise((r) => setImmediate(r));

/** A spout that fetches batches asynchronously, as a broker client does; the test decides when each fetch completes. */
class FetchingSpout extends BaseRichSpout {
  private collector!: SpoutOutputCollector;
  constructor(
    private readonly s: {
      calls: number;
      running: number;
      maxRunning: number;
      fetches: Array<{ resolve: (batch: number[]) => void; reject: (e: unknown) => void }>;
      acked: unknown[];
      ackResult?: 'reject';
    },
  ) {
    super();
  }
  open(_c: Readonly<TopologyConfig>, _x: TopologyContext, collector: SpoutOutputCollector): void {
    this.collector = collector;
  }
  async nextTuple(): Promise<void> {
    const s = this.s;
    s.calls++;
    s.running++;
    s.maxRunning = Math.max(s.maxRunning, s.running);
    try {
      const batch = await new Promise<number[]>((resolve, reject) => s.fetches.push({ resolve, reject }));
      for (const v of batch) this.collector.emit([v], v);
    } finally {
      s.running--;
    }
  }
  async ack(id: unknown): Promise<void> {
    await io();
    this.s.acked.push(id);
    if (this.s.ackResult === 'reject') throw new Error(`commit of ${String(id)} failed`);
  }
  declareOutputFields(d: OutputFieldsDeclarer): void {
    d.declare(['value']);
  }
}

describe('async spouts', () => {
  const fx = useManualCluster(5);

  function state(extra: { ackResult?: 'reject' } = {}) {
    return { calls: 0, running: 0, maxRunning: 0, fetches: [] as Array<{ resolve: (batch: number[]) => void; reject: (e: unknown) => void }>, acked: [] as unknown[], ...extra };
  }

  async function submit(s: ReturnType<typeof state>, seen: Seen[], conf: TopologyConfig = {}, spoutConf: TopologyConfig = {}): Promise<void> {
    await fx.submit((b) => {
      b.setSpout('fetch', () => new FetchingSpout(s), 1).addConfigurations(spoutConf);
      b.setBolt('sink', () => new RecordingBolt(seen), 1).shuffleGrouping('fetch');
    }, conf);
  }

  it('does not call nextTuple again until its promise settles', async () => {
    const s = state();
    const seen: Seen[] = [];
    await submit(s, seen);
    await until(() => s.fetches.length === 1, 'first fetch');
    await turns(30);
    expect(s.calls).toBe(1);
    s.fetches[0].resolve([1, 2, 3]);
    await until(() => s.fetches.length === 2, 'second fetch');
    s.fetches[1].resolve([4]);
    await until(() => s.acked.length === 4, 'acked');
    expect(s.maxRunning).toBe(1);
    expect(seen.map((x) => x.values[0])).toEqual([1, 2, 3, 4]);
    expect(s.calls).toBe(3);
  });

  it('reports a rejected nextTuple promise and calls nextTuple again', async () => {
    const s = state();
    await submit(s, []);
    await until(() => s.fetches.length === 1, 'first fetch');
    s.fetches[0].reject(new Error('broker unreachable'));
    await until(() => s.fetches.length === 2, 'called again');
    const errors = (await fx.cluster.getTopologyInfo('t')).errors.fetch;
    expect(errors).toHaveLength(1);
    expect(errors[0].error).toContain('broker unreachable');
  });

  it('gives up on a nextTuple promise pending past topology.async.timeout.secs, and ignores its late settlement', async () => {
    const s = state();
    const seen: Seen[] = [];
    await submit(s, seen, { 'topology.message.timeout.secs': 600 }, { 'topology.async.timeout.secs': 4 });
    await until(() => s.fetches.length === 1, 'first fetch');
    fx.clock.advance(3_999);
    await turns(20);
    expect(s.fetches).toHaveLength(1);
    fx.clock.advance(2_001); // rotation every 2 s: given up on within 4–6 s
    await until(() => s.fetches.length === 2, 'called again after the timeout');
    expect((await fx.cluster.getTopologyInfo('t')).errors.fetch[0].error).toContain('topology.async.timeout.secs');
    // the stale promise settling does not release the current one: still one call pending
    s.fetches[0].resolve([7]);
    await until(() => s.acked.length === 1, 'its tuple still flows');
    await turns(20);
    expect(s.fetches).toHaveLength(2);
    s.fetches[1].resolve([8]);
    await until(() => s.fetches.length === 3 && s.acked.length === 2, 'the current one settled');
  });

  it('reports rejected ack promises without holding anything up', async () => {
    const s = state({ ackResult: 'reject' });
    await submit(s, []);
    await until(() => s.fetches.length === 1, 'first fetch');
    s.fetches[0].resolve([1, 2]);
    await until(() => s.acked.length === 2, 'acks ran');
    await until(async () => ((await fx.cluster.getTopologyInfo('t')).errors.fetch ?? []).length === 2, 'reported');
    const info = await fx.cluster.getTopologyInfo('t');
    expect(info.spouts[0]).toMatchObject({ acked: 2, failed: 0 });
  });
});

describe('completeTopology with async components', () => {
  it('waits for in-flight calls before it calls the topology complete', async () => {
    class Enrich extends BaseBasicBolt {
      async execute(t: Tuple, c: BasicOutputCollector): Promise<void> {
        await new Promise((r) => setTimeout(r, 30)); // longer than completeTopology's polls
        c.emit([`${String(t.getValue(0))}!`]);
      }
      declareOutputFields(d: OutputFieldsDeclarer): void {
        d.declare(['word']);
      }
    }
    class Src extends BaseRichSpout {
      open(): void {}
      nextTuple(): void {}
      declareOutputFields(d: OutputFieldsDeclarer): void {
        d.declare(['word']);
      }
    }
    const b = new TopologyBuilder();
    b.setSpout('words', Src);
    b.setBolt('enrich', Enrich, 2).shuffleGrouping('words');
    // acking off: no pending spout tuple keeps the topology busy, only the calls in flight
    const result = await completeTopology(b, { mockedSources: { words: [['a'], ['b'], ['c']] }, config: { 'topology.acker.executors': 0 } });
    expect(result.readTuples('enrich').map((v) => v[0]).sort()).toEqual(['a!', 'b!', 'c!']);
  });
});
