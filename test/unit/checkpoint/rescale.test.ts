/**
 * Rescaling keeps state: a keyed stateful word count (exactly-once) rebalanced from 2 to 4 count
 * tasks and back to 2 while its input continues; after each step the committed counts are exact,
 * and every word's count is held by exactly one task, the one its key group belongs to.
 */
import {
  BaseBasicBolt,
  BaseRichSpout,
  BaseStatefulBolt,
  TopologyBuilder,
  expectedWordCounts,
  generatedSentence,
  type BasicOutputCollector,
  type KeyValueState,
  type OutputCollector,
  type OutputFieldsDeclarer,
  type SpoutOutputCollector,
  type TopologyConfig,
  type TopologyContext,
  type Tuple,
} from '../../../topology-api';
import { ManualClock } from '../../../common/clock';
import { LocalCluster } from '../../../local/local-cluster';
import type { WorkerRuntime } from '../../../worker/runtime';
import type { BoltParticipant } from '../../../worker/checkpoint/bolt-participant';
import { clearInterimMemory } from '../../../worker/checkpoint/state-source';
import { keyGroupOf, keyGroupRange } from '../../../worker/state/key-groups';
import { until } from '../../helpers/components';

/** Sentences below `gate.limit`, task k of n taking the indexes ≡ k (mod n); rewindable. */
const gate = { limit: 0 };
class GatedSentences extends BaseRichSpout {
  private collector!: SpoutOutputCollector;
  private next = 0;
  private k = 0;
  private n = 1;
  open(_c: Readonly<TopologyConfig>, ctx: TopologyContext, collector: SpoutOutputCollector): void {
    this.collector = collector;
    this.k = ctx.getThisTaskIndex();
    this.n = ctx.getComponentTasks(ctx.getThisComponentId()).length;
  }
  nextTuple(): void {
    const i = this.k + this.next * this.n;
    if (i >= gate.limit) return;
    this.next++;
    this.collector.emit([generatedSentence(i)], i);
  }
  offsets(): { next: number } {
    return { next: this.next };
  }
  seek(o: unknown): void {
    this.next = (o as { next?: number } | null)?.next ?? 0;
  }
  declareOutputFields(d: OutputFieldsDeclarer): void {
    d.declare(['sentence']);
  }
}

class Split extends BaseBasicBolt {
  execute(t: Tuple, c: BasicOutputCollector): void {
    for (const w of t.getString(0).split(' ')) c.emit([w]);
  }
  declareOutputFields(d: OutputFieldsDeclarer): void {
    d.declare(['word']);
  }
}

class Count extends BaseStatefulBolt<KeyValueState<string, number>> {
  private counts!: KeyValueState<string, number>;
  private collector!: OutputCollector;
  prepare(_c: Readonly<TopologyConfig>, _x: TopologyContext, collector: OutputCollector): void {
    this.collector = collector;
  }
  initState(state: KeyValueState<string, number>): void {
    this.counts = state;
  }
  execute(t: Tuple): void {
    const w = t.getString(0);
    this.counts.put(w, this.counts.get(w, 0) + 1);
    this.collector.ack(t);
  }
}

/** Each count task's state: task index → word → count. */
function states(runtimes: WorkerRuntime[]): Map<number, Map<string, number>> {
  const out = new Map<number, Map<string, number>>();
  for (const r of runtimes) {
    const tasks = r.layout.componentTasks.count;
    for (const t of r.localTasks) {
      const p = r.checkpoints?.participant(t) as BoltParticipant | undefined;
      if (p?.component !== 'count' || p.state === null || !p.ready) continue;
      out.set(tasks.indexOf(t), new Map(p.state as unknown as Iterable<[string, number]>));
    }
  }
  return out;
}

describe('rescaling a keyed stateful bolt', () => {
  it('2 → 4 → 2 tasks: the counts stay exact and each word lives in its key group owner', async () => {
    clearInterimMemory('rescale');
    gate.limit = 0;
    const clock = new ManualClock();
    const cluster = new LocalCluster({ clock, seed: 9 });
    const maxKeyGroups = 128;
    try {
      const b = new TopologyBuilder();
      b.setSpout('sentences', () => new GatedSentences(), 2);
      b.setBolt('split', () => new Split(), 2).shuffleGrouping('sentences');
      b.setBolt('count', () => new Count(), 2).fieldsGrouping('split', ['word']);
      await cluster.submitTopology('rescale', { 'topology.workers': 2, 'topology.processing.guarantee': 'exactly-once', 'topology.state.checkpoint.interval.ms': 100 }, b);

      const settle = async (limit: number, tasks: number): Promise<void> => {
        gate.limit = limit;
        const expected = Object.fromEntries([...expectedWordCounts(limit)].sort());
        await until(
          async () => {
            clock.advance(50);
            const s = states(await cluster.workerRuntimes('rescale'));
            if (s.size !== tasks) return false;
            const merged = new Map<string, number>();
            for (const m of s.values()) for (const [w, n] of m) merged.set(w, (merged.get(w) ?? 0) + n);
            return JSON.stringify(Object.fromEntries([...merged].sort())) === JSON.stringify(expected);
          },
          `exact counts of ${limit} sentences on ${tasks} tasks`,
        );
        // committed: two more checkpoints complete (what a rescale restores from)
        const committed = async (): Promise<number> => (await cluster.workerRuntimes('rescale')).map((r) => r.checkpoints?.coordinatorStats()?.committed ?? -1).reduce((a, x) => Math.max(a, x), -1);
        const from = await committed();
        await until(async () => {
          clock.advance(50);
          return (await committed()) >= from + 2;
        }, 'two more checkpoints committed');
        // no word in two tasks, each in the task owning its key group
        const s = states(await cluster.workerRuntimes('rescale'));
        for (const [index, m] of s) {
          const range = keyGroupRange(index, tasks, maxKeyGroups);
          for (const w of m.keys()) {
            const g = keyGroupOf(w, maxKeyGroups);
            expect({ w, inRange: g >= range.start && g < range.end }).toEqual({ w, inRange: true });
          }
        }
      };

      /** Rebalances while the manual clock moves (supervisors time their kills with it). */
      const rebalance = async (count: number): Promise<void> => {
        let done = false;
        const ticking = (async () => {
          while (!done) {
            clock.advance(100);
            await new Promise((r) => setTimeout(r, 2));
          }
        })();
        try {
          await cluster.rebalance('rescale', { waitSecs: 0, executors: { count } });
        } finally {
          done = true;
          await ticking;
        }
      };

      await settle(600, 2);
      await rebalance(4);
      await settle(1200, 4);
      await rebalance(2);
      await settle(1800, 2);
    } finally {
      await cluster.close();
    }
  });
});
