import { BaseRichBolt, BaseRichSpout, TopologyBuilder, WATERMARK_STREAM_ID, CHECKPOINT_STREAM_ID, type OutputFieldsDeclarer, type SpoutOutputCollector, type Tuple } from '../../../topology-api';
import { ManualClock } from '../../../common/clock';
import { computeLayout, SYSTEM_STREAMS } from '../../../common/topology-layout';
import { resolveTopologyConfig } from '../../../topology-api';
import { LocalCluster } from '../../../local/local-cluster';
import type { SpoutTask } from '../../../worker/tasks';
import { until } from '../../helpers/components';

/** Sends one watermark to every downstream task on its first call, then emits `n` data tuples. */
class MarkingSpout extends BaseRichSpout {
  private collector!: SpoutOutputCollector;
  private sent = 0;
  constructor(private readonly n: number) {
    super();
  }
  open(_c: unknown, _ctx: unknown, collector: SpoutOutputCollector): void {
    this.collector = collector;
  }
  nextTuple(): void {
    if (!go) return;
    const task = this.collector as unknown as SpoutTask;
    if (this.sent === 0) task.emitSystem(WATERMARK_STREAM_ID, [42], task.downstreamTasks());
    if (this.sent < this.n) this.collector.emit([this.sent++]);
  }
  declareOutputFields(d: OutputFieldsDeclarer): void {
    d.declare(['n']);
  }
}

const executed: unknown[] = [];
/** Set once the test has registered its handlers. */
let go = false;
class Sink extends BaseRichBolt {
  prepare(): void {}
  execute(t: Tuple): void {
    executed.push(t.getValue(0));
  }
}

describe('system streams', () => {
  it('are numbered after every user stream, one per component and system stream', () => {
    const b = new TopologyBuilder();
    b.setSpout('s', () => new MarkingSpout(0));
    b.setBolt('b', () => new Sink(), 2).shuffleGrouping('s');
    const layout = computeLayout(b.createTopology().definition, resolveTopologyConfig({}));
    const user = layout.streams.filter((s) => !s.system);
    expect(user.map((s) => `${s.component}:${s.stream}`)).toEqual(['s:default']);
    expect(layout.systemStreamStart).toBe(1);
    const system = layout.streams.slice(layout.systemStreamStart);
    expect(system.map((s) => `${s.component}:${s.stream}`)).toEqual([`b:${CHECKPOINT_STREAM_ID}`, `b:${WATERMARK_STREAM_ID}`, `s:${CHECKPOINT_STREAM_ID}`, `s:${WATERMARK_STREAM_ID}`]);
    for (const s of system) expect(s.fields).toEqual([...SYSTEM_STREAMS[s.stream]]);
  });

  it('reach the registered handler of every downstream task across workers, never execute', async () => {
    executed.length = 0;
    const cluster = new LocalCluster({ clock: new ManualClock(), seed: 3 });
    try {
      const b = new TopologyBuilder();
      b.setSpout('s', () => new MarkingSpout(10));
      b.setBolt('b', () => new Sink(), 2).shuffleGrouping('s');
      await cluster.submitTopology('t', { 'topology.workers': 2, 'topology.acker.executors': 0 }, b);
      const got: Array<[number, number, unknown]> = [];
      const runtimes = await cluster.workerRuntimes('t');
      expect(runtimes).toHaveLength(2);
      for (const r of runtimes) r.onSystemStream(WATERMARK_STREAM_ID, (task, tuple) => got.push([task.taskId, tuple.getSourceTask(), tuple.getValueByField('watermark')]));
      go = true;
      await until(() => executed.length === 10 && got.length === 2, 'watermarks and data delivered');
      // task ids: b = 1, 2; s = 3
      expect(got.sort()).toEqual([
        [1, 3, 42],
        [2, 3, 42],
      ]);
      expect([...executed].sort()).toEqual([0, 1, 2, 3, 4, 5, 6, 7, 8, 9]);
    } finally {
      await cluster.close();
    }
  });
});
