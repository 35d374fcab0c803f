import { Aggregates, BaseWindowedBolt, Count, Duration, type Aggregate, type TupleWindow, type Tuple } from '../../../topology-api';
import { Random } from '../../../common/random';
import { executedAll, GatedSpout, RecordingAggregateBolt, run, SpoutLedger, until, windowStats, type Result } from './helpers';

/** Per-key sums computed from the window's tuples (execute(window)), recorded like aggregation results. */
class TupleSum extends BaseWindowedBolt {
  constructor(private readonly results: Result[]) {
    super();
  }
  execute(w: TupleWindow): void {
    const sum = w.get().reduce((s: number, t: Tuple) => s + t.getIntegerByField('value'), 0);
    this.results.push({ key: w.getKey(), result: sum, start: w.getStartTimestamp(), end: w.getEndTimestamp(), update: w.isUpdate() });
  }
}

/** Seeded [key, value, ts] events, ts increasing with jitter under `jitterMs`. */
function events(n: number, keys: number, jitterMs: number, seed: number): unknown[][] {
  const r = new Random(seed);
  return Array.from({ length: n }, (_, i) => [`k${r.nextInt(keys)}`, r.nextInt(100), i * 10 + r.nextInt(jitterMs)]);
}

const canon = (rs: Result[]): string[] => rs.map((r) => `${r.start}|${r.key}|${r.result}`).sort();

describe('incremental aggregation', () => {
  async function compare(window: (b: BaseWindowedBolt) => BaseWindowedBolt, input: unknown[][], expectWindows: (n: number) => boolean): Promise<[Result[], Result[]]> {
    const tuples: Result[] = [];
    const aggregated: Result[] = [];
    const ledger = new SpoutLedger();
    const { cluster } = await run((b) => {
      b.setSpout('s', () => new GatedSpout(input, { open: input.length }, ledger, ['key', 'value', 'ts']));
      b.setBolt('tw', () => window(new TupleSum(tuples)).withKeyField('key')).shuffleGrouping('s');
      b.setBolt('agg', () => window(new RecordingAggregateBolt(aggregated)).withKeyField('key').withAggregate(Aggregates.sum('value'))).shuffleGrouping('s');
    });
    try {
      // results fire inside the execute of the tuple that moves time past a window: once both bolts
      // have executed every tuple, everything that will fire has
      await executedAll(cluster, 'tw', input.length);
      await executedAll(cluster, 'agg', input.length);
      expect(expectWindows(tuples.length)).toBe(true);
      return [tuples, aggregated];
    } finally {
      await cluster.close();
    }
  }

  it('gives what execute(window) computes from the tuples: sliding event-time windows, out of order within the lag', async () => {
    const input = [...events(2000, 20, 40, 5), ['k0', 0, 1_000_000]];
    const [tuples, aggregated] = await compare(
      (b) => b.withWindow(Duration.of(1000), Duration.of(250)).withTimestampField('ts').withLag(Duration.of(50)),
      input,
      (n) => n >= 20 * 80,
    );
    expect(canon(aggregated)).toEqual(canon(tuples));
    expect(aggregated.length).toBeGreaterThan(1000);
    expect(aggregated.every((r) => (r.end as number) - (r.start as number) === 1000 && !r.update)).toBe(true);
  });

  it('gives what execute(window) computes: tumbling and sliding count windows, per key', async () => {
    const input = events(1000, 7, 1, 9);
    const [t1, a1] = await compare((b) => b.withTumblingWindow(Count.of(100)), input, (n) => n >= 70);
    expect(canon(a1.map((r) => ({ ...r, start: 0 })))).toEqual(canon(t1.map((r) => ({ ...r, start: 0 }))));
    const [t2, a2] = await compare((b) => b.withWindow(Count.of(100), Count.of(40)), input, (n) => n >= 7 * 25);
    expect(canon(a2.map((r) => ({ ...r, start: 0 })))).toEqual(canon(t2.map((r) => ({ ...r, start: 0 }))));
    expect(a1.every((r) => r.start === null)).toBe(true);
  });

  it('keeps one accumulator per key and pane, not the tuples, and acks each tuple after its last window', async () => {
    const results: Result[] = [];
    const ledger = new SpoutLedger();
    const gate = { open: 0 };
    // 5 keys, 10 tuples per key per second for 5 s
    const input: unknown[][] = [];
    for (let i = 0; i < 250; i++) input.push([`k${i % 5}`, 1, Math.floor(i / 50) * 1000 + (i % 50) * 20]);
    const { cluster } = await run((b) => {
      b.setSpout('s', () => new GatedSpout(input, gate, ledger, ['key', 'value', 'ts']));
      b.setBolt('w', () =>
        new RecordingAggregateBolt(results).withWindow(Duration.seconds(3), Duration.seconds(1)).withTimestampField('ts').withKeyField('key').withAggregate(Aggregates.count()),
      ).shuffleGrouping('s');
    });
    try {
      gate.open = 250;
      // the watermark is 4980: windows ending at 1, 2, 3 and 4 s fired (the first two partial)
      await until(() => ledger.emitted.length === 250 && results.length === 4 * 5, 'windows ending at 1 s .. 4 s');
      expect(results.filter((r) => r.end === 3000).map((r) => r.result)).toEqual([30, 30, 30, 30, 30]);
      expect(results.filter((r) => r.end === 1000).map((r) => r.result)).toEqual([10, 10, 10, 10, 10]);
      const stats = await windowStats(cluster, 'w');
      // seconds 2, 3 and 4 are still in windows to come (ending at 5, 6, 7 s): 5 keys × 3 panes, no tuple
      expect(stats).toMatchObject({ buffered: 15, open: 3, watermarkMs: 4980 });
      // seconds 0 and 1 left their last window (ending at 4 s)
      await until(() => ledger.acked.length === 100, 'tuples of the first two seconds acked');
      expect(Math.max(...(ledger.acked as number[]))).toBe(99);
    } finally {
      await cluster.close();
    }
  });

  it('works with reduce, average and a hand-written accumulator over sliding windows', async () => {
    const input = events(600, 3, 1, 21);
    const input2 = [...input, ['k0', 0, 1_000_000]];
    const agg = <A, R>(a: Aggregate<A, R>) => async (): Promise<Result[]> => {
      const results: Result[] = [];
      const { cluster } = await run((b) => {
        b.setSpout('s', () => new GatedSpout(input2, { open: input2.length }, new SpoutLedger(), ['key', 'value', 'ts']));
        b.setBolt('w', () =>
          new RecordingAggregateBolt(results).withWindow(Duration.of(2000), Duration.of(500)).withTimestampField('ts').withKeyField('key').withAggregate(a),
        ).shuffleGrouping('s');
      });
      try {
        await executedAll(cluster, 'w', input2.length);
        expect(results.length).toBeGreaterThanOrEqual(3 * 12);
        return results;
      } finally {
        await cluster.close();
      }
    };
    const max = await agg(Aggregates.reduce<number>('value', (x, y) => Math.max(x, y)))();
    const avg = await agg(Aggregates.average('value'))();
    const distinct = await agg<Set<number>, number>({
      create: () => new Set<number>(),
      add: (s, t) => s.add(t.getIntegerByField('value')),
      merge: (a, b) => {
        for (const v of b) a.add(v);
        return a;
      },
      result: (s) => s.size,
    })();
    // the same windows, checked against a direct computation
    const expectFor = (start: number, end: number, key: unknown, f: (vs: number[]) => number): number =>
      f(input.filter((e) => e[0] === key && (e[2] as number) >= start && (e[2] as number) < end).map((e) => e[1] as number));
    for (const r of max) expect(r.result).toBe(expectFor(r.start!, r.end, r.key, (vs) => Math.max(...vs)));
    for (const r of avg) expect(r.result).toBeCloseTo(expectFor(r.start!, r.end, r.key, (vs) => vs.reduce((a, b) => a + b, 0) / vs.length), 9);
    for (const r of distinct) expect(r.result).toBe(expectFor(r.start!, r.end, r.key, (vs) => new Set(vs).size));
  });
});
