/**
 * Stateful word count in a LocalCluster (real runtime, in-memory links, manual clock): barriers
 * flow, stateful bolts get their state, checkpoints commit, and the committed counts are exact
 * under each guarantee, including after a rollback in exactly-once.
 */
import {
  BaseBasicBolt,
  BaseRichBolt,
  SentenceGeneratorSpout,
  TopologyBuilder,
  expectedWordCounts,
  type BasicOutputCollector,
  type OutputCollector,
  type OutputFieldsDeclarer,
  type Tuple,
} from '../../../topology-api';
import { ManualClock } from '../../../common/clock';
import { LocalCluster } from '../../../local/local-cluster';
import type { WorkerRuntime } from '../../../worker/runtime';
import type { BoltParticipant } from '../../../worker/checkpoint/bolt-participant';
import { clearInterimMemory } from '../../../worker/checkpoint/state-source';
import { until } from '../../helpers/components';

class Split extends BaseBasicBolt {
  execute(t: Tuple, c: BasicOutputCollector): void {
    for (const w of t.getString(0).split(' ')) c.emit([w]);
  }
  declareOutputFields(d: OutputFieldsDeclarer): void {
    d.declare(['word']);
  }
}

interface KV {
  get(k: unknown, d?: unknown): unknown;
  put(k: unknown, v: unknown): void;
}

/** Storm's stateful WordCountBolt; `failAt` makes its first execution of that word throw once. */
class StatefulCount extends BaseRichBolt {
  private state!: KV;
  private collector!: OutputCollector;
  initialized = 0;
  constructor(private readonly failOnce: { word: string | null }) {
    super();
  }
  prepare(_c: unknown, _x: unknown, collector: OutputCollector): void {
    this.collector = collector;
  }
  initState(state: KV): void {
    this.initialized++;
    this.state = state;
  }
  execute(t: Tuple): void {
    const w = t.getString(0);
    if (this.failOnce.word === w) {
      this.failOnce.word = null;
      throw new Error(`failing "${w}" once`);
    }
    this.state.put(w, ((this.state.get(w, 0) as number) ?? 0) + 1);
    this.collector.ack(t);
  }
}

function topology(count: number, failOnce: { word: string | null }): TopologyBuilder {
  const b = new TopologyBuilder();
  b.setSpout('sentences', () => new SentenceGeneratorSpout({ count }), 2);
  b.setBolt('split', () => new Split(), 2).shuffleGrouping('sentences');
  b.setBolt('count', () => new StatefulCount(failOnce), 3).fieldsGrouping('split', ['word']);
  return b;
}

/** Committed counts: every count task's state, read through its participant. */
function committedCounts(runtimes: WorkerRuntime[]): Map<string, number> {
  const out = new Map<string, number>();
  for (const r of runtimes) {
    const ckpt = r.checkpoints!;
    for (const t of r.localTasks) {
      const p = ckpt.participant(t) as BoltParticipant | undefined;
      if (p === undefined || p.component !== 'count' || p.state === null) continue;
      for (const [k, v] of p.state as unknown as Iterable<[string, number]>) out.set(k, (out.get(k) ?? 0) + v);
    }
  }
  return out;
}

function committedTxid(runtimes: WorkerRuntime[]): number {
  for (const r of runtimes) {
    const c = r.checkpoints?.coordinatorStats();
    if (c) return c.committed;
  }
  return -1;
}

async function run(guarantee: string, failOnce: { word: string | null }, count = 300) {
  const name = `wc-${guarantee}-${failOnce.word ?? 'ok'}`;
  clearInterimMemory(name);
  const clock = new ManualClock();
  const cluster = new LocalCluster({ clock, seed: 7 });
  try {
    await cluster.submitTopology(name, { 'topology.workers': 2, 'topology.processing.guarantee': guarantee, 'topology.state.checkpoint.interval.ms': 100 }, topology(count, failOnce));
    const runtimes = await cluster.workerRuntimes(name);
    const expected = expectedWordCounts(count);
    const total = [...expected.values()].reduce((a, b) => a + b, 0);
    // checkpoints run on the manual clock; the data flows on its own
    await until(
      async () => {
        clock.advance(50);
        const counts = committedCounts(runtimes);
        let sum = 0;
        for (const v of counts.values()) sum += v;
        return sum >= total && (await cluster.pendingCounts(name)).spoutPending === 0;
      },
      `every sentence counted and committed (${guarantee})`,
    );
    // a few more checkpoints: nothing moves once everything is committed
    const txid = committedTxid(runtimes);
    await until(() => {
      clock.advance(50);
      return committedTxid(runtimes) >= txid + 2;
    }, 'two more checkpoints');
    return { counts: committedCounts(runtimes), expected, runtimes, cluster };
  } finally {
    await cluster.close();
  }
}

describe('stateful word count, checkpointed', () => {
  it('at-least-once: committed counts are exact when nothing fails', async () => {
    const { counts, expected } = await run('at-least-once', { word: null });
    expect(Object.fromEntries(counts)).toEqual(Object.fromEntries(expected));
  });

  it('exactly-once: committed counts are exact', async () => {
    const { counts, expected } = await run('exactly-once', { word: null });
    expect(Object.fromEntries(counts)).toEqual(Object.fromEntries(expected));
  });

  it('exactly-once: a bolt that throws rolls everything back, and the counts stay exact', async () => {
    const { counts, expected, runtimes } = await run('exactly-once', { word: 'moon' });
    expect(Object.fromEntries(counts)).toEqual(Object.fromEntries(expected));
    const coordinator = runtimes.map((r) => r.checkpoints?.coordinatorStats()).find((c) => c !== null)!;
    expect(coordinator.recoveries).toBeGreaterThanOrEqual(2); // start-up, then the rollback
  });

  it('at-most-once: no acker, state still checkpointed', async () => {
    const { counts, expected } = await run('at-most-once', { word: null });
    expect(Object.fromEntries(counts)).toEqual(Object.fromEntries(expected));
  });
});

/** A stateful count whose execute is async: its update lands after a turn of the event loop. */
const asyncFailOnce = { word: 'apple' as string | null };
class AsyncCount extends BaseRichBolt {
  private state!: KV;
  private collector!: OutputCollector;
  prepare(_c: unknown, _x: unknown, collector: OutputCollector): void {
    this.collector = collector;
  }
  initState(state: KV): void {
    this.state = state;
  }
  execute(t: Tuple): Promise<void> {
    return new Promise<void>((resolve) => setImmediate(resolve)).then(() => {
      const w = t.getString(0);
      if (w === asyncFailOnce.word) {
        asyncFailOnce.word = null;
        throw new Error('async failure once');
      }
      this.state.put(w, ((this.state.get(w, 0) as number) ?? 0) + 1);
      this.collector.ack(t);
    });
  }
}

describe('stateful async bolt, exactly-once', () => {
  it('a barrier waits for the executions in flight, a rejection rolls back: the committed counts are exact', async () => {
    const name = 'wc-async';
    clearInterimMemory(name);
    const clock = new ManualClock();
    const cluster = new LocalCluster({ clock, seed: 13 });
    const count = 300;
    try {
      const b = new TopologyBuilder();
      b.setSpout('sentences', () => new SentenceGeneratorSpout({ count }), 2);
      b.setBolt('split', () => new Split(), 2).shuffleGrouping('sentences');
      b.setBolt('count', () => new AsyncCount(), 2).fieldsGrouping('split', ['word']);
      await cluster.submitTopology(name, { 'topology.workers': 2, 'topology.processing.guarantee': 'exactly-once', 'topology.state.checkpoint.interval.ms': 100 }, b);
      const runtimes = await cluster.workerRuntimes(name);
      const expected = expectedWordCounts(count);
      const total = [...expected.values()].reduce((a, x) => a + x, 0);
      await until(() => {
        clock.advance(50);
        let sum = 0;
        for (const v of committedCounts(runtimes).values()) sum += v;
        return sum >= total;
      }, 'every sentence counted');
      const txid = committedTxid(runtimes);
      await until(() => {
        clock.advance(50);
        return committedTxid(runtimes) >= txid + 2;
      }, 'two more checkpoints');
      expect(Object.fromEntries(committedCounts(runtimes))).toEqual(Object.fromEntries(expected));
      expect(asyncFailOnce.word).toBeNull();
      expect(runtimes.map((r) => r.checkpoints?.coordinatorStats()).find((c) => c)!.recoveries).toBeGreaterThanOrEqual(2);
    } finally {
      await cluster.close();
    }
  });
});
