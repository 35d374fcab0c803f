import {
  BaseRichBolt,
  TopologyBuilder,
  errorCode,
  type CustomStreamGrouping,
  type OutputCollector,
  type OutputFieldsDeclarer,
  type TopologyConfig,
  type TopologyContext,
  type Tuple,
} from '../../../topology-api';
import { completeTopology } from '../../../local/testing';
import { hashFields } from '../../../worker/hash';
import { ListSpout, RecordingBolt, SpoutLedger, type Seen } from '../../helpers/components';

const words = (n: number, distinct: number): unknown[][] => Array.from({ length: n }, (_, i) => [`w${i % distinct}`, i]);

function tasksBy(seen: Seen[], key: (s: Seen) => unknown): Map<unknown, Set<number>> {
  const m = new Map<unknown, Set<number>>();
  for (const s of seen) {
    const k = key(s);
    if (!m.has(k)) m.set(k, new Set());
    m.get(k)!.add(s.task);
  }
  return m;
}

function countByTask(seen: Seen[]): Map<number, number> {
  const m = new Map<number, number>();
  for (const s of seen) m.set(s.task, (m.get(s.task) ?? 0) + 1);
  return m;
}

async function run(build: (b: TopologyBuilder, seen: Seen[]) => void, input: unknown[][], conf: TopologyConfig = {}) {
  const seen: Seen[] = [];
  const ledger = new SpoutLedger();
  const b = new TopologyBuilder();
  b.setSpout('src', () => new ListSpout(input, ledger, { fields: ['word', 'n'] }));
  build(b, seen);
  const result = await completeTopology(b, { config: { 'topology.random.seed': 7, ...conf } });
  return { seen, ledger, result };
}

describe('fields hash', () => {
  it('is the same in every process (golden values)', () => {
    expect(hashFields(['the'], [0])).toBe(hashFields(['the'], [0]));
    expect([hashFields(['the'], [0]), hashFields(['moon', 3], [0, 1]), hashFields([42], [0]), hashFields([{ b: 1, a: [true, null] }], [0])]).toEqual([
      3305589240, 3784262494, 3858999927, 3675591615,
    ]);
  });

  it('hashes equal values alike and picks only the selected fields', () => {
    expect(hashFields([1], [0])).toBe(hashFields([1.0], [0]));
    expect(hashFields([0], [0])).toBe(hashFields([-0], [0]));
    expect(hashFields([{ a: 1, b: 2 }], [0])).toBe(hashFields([{ b: 2, a: 1 }], [0]));
    expect(hashFields(['x', 1], [0])).toBe(hashFields(['x', 2], [0]));
    expect(hashFields(['1'], [0])).not.toBe(hashFields([1], [0]));
  });
});

describe('groupings', () => {
  it('fields grouping sends every value of a key to one task', async () => {
    const { seen } = await run((b, s) => b.setBolt('count', () => new RecordingBolt(s), 4).fieldsGrouping('src', ['word']), words(400, 37));
    expect(seen).toHaveLength(400);
    const byWord = tasksBy(seen, (s) => s.values[0]);
    expect(byWord.size).toBe(37);
    for (const tasks of byWord.values()) expect(tasks.size).toBe(1);
    expect(countByTask(seen).size).toBe(4); // 37 keys spread over all 4 tasks
  });

  it('all grouping delivers every tuple to every task', async () => {
    const { seen } = await run((b, s) => b.setBolt('all', () => new RecordingBolt(s), 3).allGrouping('src'), words(50, 50));
    expect(seen).toHaveLength(150);
    for (const tasks of tasksBy(seen, (s) => s.values[1]).values()) expect(tasks.size).toBe(3);
  });

  it('global grouping delivers everything to the lowest task id', async () => {
    const { seen, result } = await run((b, s) => b.setBolt('g', () => new RecordingBolt(s), 3).globalGrouping('src'), words(60, 5));
    expect(seen).toHaveLength(60);
    const gTasks = result.info.bolts.find((c) => c.componentId === 'g')!;
    expect(gTasks.tasks).toBe(3);
    expect([...countByTask(seen).keys()]).toEqual([Math.min(...seen.map((s) => s.task))]);
    // the lowest of g's tasks: task ids are laid out over sorted component ids, __acker first
    expect(seen[0].task).toBe(2);
  });

  it('shuffle grouping spreads tuples evenly', async () => {
    const { seen } = await run((b, s) => b.setBolt('sh', () => new RecordingBolt(s), 4).shuffleGrouping('src'), words(1000, 3));
    expect([...countByTask(seen).values()]).toEqual([250, 250, 250, 250]);
  });

  it('none and localOrShuffle groupings spread like shuffle within one worker', async () => {
    const { seen } = await run((b, s) => {
      b.setBolt('n', () => new RecordingBolt(s), 2).noneGrouping('src');
      b.setBolt('l', () => new RecordingBolt(s), 2).localOrShuffleGrouping('src');
    }, words(100, 3));
    expect([...countByTask(seen).values()]).toEqual([50, 50, 50, 50]);
  });

  it('partial key grouping splits a hot key over at most two tasks', async () => {
    const input = Array.from({ length: 400 }, (_, i) => ['hot', i]);
    const { seen } = await run((b, s) => b.setBolt('pk', () => new RecordingBolt(s), 4).partialKeyGrouping('src', ['word']), input);
    const counts = [...countByTask(seen).values()];
    expect(counts.length).toBeLessThanOrEqual(2);
    expect(counts.reduce((a, b) => a + b, 0)).toBe(400);
    if (counts.length === 2) expect(Math.abs(counts[0] - counts[1])).toBeLessThanOrEqual(1);
  });

  it('custom grouping chooses with the user object', async () => {
    const evenOdd: CustomStreamGrouping & { tasks: number[] } = {
      tasks: [],
      prepare(_ctx, _stream, targets) {
        this.tasks = targets;
      },
      chooseTasks(_src, values) {
        return [this.tasks[(values[1] as number) % 2]];
      },
    };
    const { seen } = await run((b, s) => b.setBolt('c', () => new RecordingBolt(s), 2).customGrouping('src', () => ({ ...evenOdd, tasks: [] })), words(10, 10));
    const byParity = tasksBy(seen, (s) => (s.values[1] as number) % 2);
    expect(byParity.get(0)!.size).toBe(1);
    expect(byParity.get(1)!.size).toBe(1);
    expect([...byParity.get(0)!][0]).not.toBe([...byParity.get(1)!][0]);
  });

  it('direct grouping reaches exactly the task named, and refuses others', async () => {
    class Director extends BaseRichBolt {
      private collector!: OutputCollector;
      private targets: number[] = [];
      prepare(_c: Readonly<TopologyConfig>, ctx: TopologyContext, collector: OutputCollector): void {
        this.collector = collector;
        this.targets = ctx.getComponentTasks('sink');
      }
      execute(t: Tuple): void {
        const n = t.getInteger(1);
        this.collector.emitDirect(this.targets[n % this.targets.length], [n], t, 'routed');
        if (n === 0) {
          try {
            this.collector.emitDirect(9999, [n], t, 'routed');
          } catch (err) {
            errors.push(errorCode(err));
          }
          try {
            this.collector.emit([n], t, 'routed');
          } catch (err) {
            errors.push(errorCode(err));
          }
        }
        this.collector.ack(t);
      }
      declareOutputFields(d: OutputFieldsDeclarer): void {
        d.declareStream('routed', true, ['n']);
      }
    }
    const errors: unknown[] = [];
    const { seen, ledger } = await run((b, s) => {
      b.setBolt('director', () => new Director()).shuffleGrouping('src');
      b.setBolt('sink', () => new RecordingBolt(s), 3).directGrouping('director', 'routed');
    }, words(30, 30));
    expect(ledger.acked).toHaveLength(30);
    expect(errors).toEqual(['ERR_EMIT_DIRECT_INVALID', 'ERR_EMIT_DIRECT_INVALID']);
    const tasks = [...new Set(seen.map((s) => s.task))].sort();
    for (const s of seen) expect(s.task).toBe(tasks[(s.values[0] as number) % 3]);
  });
});
