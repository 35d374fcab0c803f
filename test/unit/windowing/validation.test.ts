import { Aggregates, BaseWindowedBolt, Count, Duration, TopologyBuilder, errorCode, resolveTopologyConfig, type TupleWindow, type WindowInfo } from '../../../topology-api';
import { ManualClock } from '../../../common/clock';
import type { BoltTask } from '../../../worker/tasks';
import { WindowedBoltExecutor } from '../../../worker/windowing/executor';
import { GatedSpout, SpoutLedger } from './helpers';

class Plain extends BaseWindowedBolt {
  execute(_w: TupleWindow): void {}
}
class WithResult extends BaseWindowedBolt {
  executeAggregate(_k: unknown, _r: unknown, _w: WindowInfo): void {}
}

/** Prepares a windowed bolt as the worker would, without a topology around it. */
function prepare(bolt: BaseWindowedBolt): unknown {
  const task = { component: 'w', taskId: 1 } as unknown as BoltTask;
  const ex = new WindowedBoltExecutor(bolt, task, { clock: new ManualClock(), streams: [], inputTasks: [2] });
  const conf = resolveTopologyConfig({ ...bolt.getComponentConfiguration() });
  try {
    ex.prepare(conf, {} as never, {} as never);
    return null;
  } catch (err) {
    return err;
  }
}

describe('windowed bolt validation', () => {
  it('refuses, when the worker prepares it, what cannot run', () => {
    const cases: Array<[BaseWindowedBolt, string]> = [
      [new Plain().withTumblingWindow(Count.of(3)).withAggregate(Aggregates.count()), 'withAggregate needs executeAggregate'],
      [new WithResult().withTumblingWindow(Count.of(3)).withAggregate({ create: () => undefined, add: (a) => a, merge: (a) => a, result: (a) => a }), 'create() returned undefined'],
      [new WithResult().withWindow(Count.of(3), Duration.seconds(1)).withAggregate(Aggregates.count()), 'both counts or both durations'],
      [new Plain(), 'it has no window'],
    ];
    for (const [bolt, why] of cases) {
      const err = prepare(bolt);
      expect(errorCode(err)).toBe('ERR_WINDOW_INVALID');
      expect((err as Error).message).toContain(why);
    }
    expect(prepare(new WithResult().withTumblingWindow(Count.of(3)).withAggregate(Aggregates.count()))).toBeNull();
  });

  it('refuses a windowed bolt without a window when the topology is built', () => {
    const b = new TopologyBuilder();
    b.setSpout('s', () => new GatedSpout([], { open: 0 }, new SpoutLedger()));
    b.setBolt('w', () => new Plain()).shuffleGrouping('s');
    expect(() => b.createTopology()).toThrow('bolt "w" is a windowed bolt without a window: call withWindow, withTumblingWindow or withSessionWindow');
  });

  it('writes Storm\'s keys into the component configuration', () => {
    const bolt = new Plain()
      .withWindow(Duration.minutes(1), Duration.seconds(1))
      .withTimestampField('ts')
      .withLag(Duration.seconds(5))
      .withWatermarkInterval(Duration.of(200))
      .withLateTupleStream('late');
    expect(bolt.getComponentConfiguration()).toEqual({
      'topology.bolts.window.length.duration.ms': 60_000,
      'topology.bolts.window.sliding.interval.duration.ms': 1000,
      'topology.bolts.tuple.timestamp.field.name': 'ts',
      'topology.bolts.tuple.timestamp.max.lag.ms': 5000,
      'topology.bolts.watermark.event.interval.ms': 200,
      'topology.bolts.late.tuple.stream': 'late',
    });
    expect(new Plain().withWindow(Count.of(10)).getComponentConfiguration()).toEqual({
      'topology.bolts.window.length.count': 10,
      'topology.bolts.window.sliding.interval.count': 1,
    });
    expect(() => Count.of(0)).toThrow(/integer >= 1/);
    expect(() => Duration.of(-1)).toThrow(/>= 0/);
  });
});
