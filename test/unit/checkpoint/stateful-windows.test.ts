/**
 * A stateful windowed bolt (BaseStatefulWindowedBolt): its open windows are part of the
 * checkpoint, so after a rollback (exactly-once, a bolt upstream throws once) the half-filled
 * window comes back from the checkpoint and every window fires exactly once into the state.
 */
import { BaseBasicBolt, BaseStatefulWindowedBolt, Count, GeneratorSpout, TopologyBuilder, type BasicOutputCollector, type KeyValueState, type OutputFieldsDeclarer, type Tuple, type TupleWindow } from '../../../topology-api';
import { ManualClock } from '../../../common/clock';
import { LocalCluster } from '../../../local/local-cluster';
import type { BoltParticipant } from '../../../worker/checkpoint/bolt-participant';
import { clearInterimMemory } from '../../../worker/checkpoint/state-source';
import { until } from '../../helpers/components';

const failOnce = { at: 155 as number | null };
class Pass extends BaseBasicBolt {
  execute(t: Tuple, c: BasicOutputCollector): void {
    const n = t.getInteger(0);
    if (n === failOnce.at) {
      failOnce.at = null;
      throw new Error('once');
    }
    c.emit([n]);
  }
  declareOutputFields(d: OutputFieldsDeclarer): void {
    d.declare(['n']);
  }
}

class WindowTotals extends BaseStatefulWindowedBolt<KeyValueState<string, number>> {
  private state!: KeyValueState<string, number>;
  initState(state: KeyValueState<string, number>): void {
    this.state = state;
  }
  execute(window: TupleWindow): void {
    let sum = 0;
    for (const t of window.get()) sum += t.getInteger(0);
    this.state.put('total', this.state.get('total', 0) + sum);
    this.state.put('windows', this.state.get('windows', 0) + 1);
  }
}

describe('BaseStatefulWindowedBolt', () => {
  it('checkpoints its open windows: after a rollback every window fires exactly once', async () => {
    clearInterimMemory('swin');
    const clock = new ManualClock();
    const cluster = new LocalCluster({ clock, seed: 11 });
    const count = 300;
    try {
      const b = new TopologyBuilder();
      b.setSpout('numbers', () => new GeneratorSpout({ fields: ['n'], generate: (i) => [i], count }), 1);
      b.setBolt('pass', () => new Pass(), 2).shuffleGrouping('numbers');
      b.setBolt('windows', () => new WindowTotals().withTumblingWindow(Count.of(10)), 1).shuffleGrouping('pass');
      await cluster.submitTopology('swin', { 'topology.workers': 2, 'topology.processing.guarantee': 'exactly-once', 'topology.state.checkpoint.interval.ms': 100 }, b);
      const runtimes = await cluster.workerRuntimes('swin');
      const state = (): KeyValueState<string, number> | null => {
        for (const r of runtimes) for (const t of r.localTasks) {
          const p = r.checkpoints?.participant(t) as BoltParticipant | undefined;
          if (p?.component === 'windows' && p.state !== null) return p.state as unknown as KeyValueState<string, number>;
        }
        return null;
      };
      await until(() => {
        clock.advance(50);
        return state()?.get('windows', 0) === count / 10;
      }, 'every window fired');
      // a few more checkpoints: nothing fires twice
      for (let i = 0; i < 10; i++) clock.advance(50);
      await until(() => (state()?.get('windows', 0) ?? 0) >= count / 10, 'settled');
      expect(failOnce.at).toBeNull();
      expect(state()!.get('windows', 0)).toBe(count / 10);
      expect(state()!.get('total', 0)).toBe((count * (count - 1)) / 2);
    } finally {
      await cluster.close();
    }
  });
});
