import { ManualClock } from '../../../common/clock';
import { LocalCluster } from '../../../local/local-cluster';
import { completeTopology } from '../../../local/testing';
import { ReportBolt, SENTENCES } from '../../../examples/word-count/components';
import { buildWordCount } from '../../../examples/word-count/topology';
import { buildReliableWordCount, type ReplayReport } from '../../../examples/reliable-word-count/topology';
import { until } from '../../helpers/components';

/** The expected counts, computed the plain way. */
function expectedCounts(sentences: readonly string[], n: number): Map<string, number> {
  const counts = new Map<string, number>();
  for (let i = 0; i < n; i++) for (const w of sentences[i % sentences.length].split(' ')) counts.set(w, (counts.get(w) ?? 0) + 1);
  return counts;
}

describe('word count', () => {
  it('counts exactly over a finite input (completeTopology with mocked sentences)', async () => {
    const input = ['a b c a', 'b a', 'c c c', 'd'];
    const result = await completeTopology(buildWordCount({ report: () => new ReportBolt(() => undefined) }), {
      mockedSources: { sentences: input.map((s) => [s]) },
    });
    expect(result.readTuples('split')).toHaveLength(10);
    const finalCounts = new Map<string, number>();
    for (const [word, count] of result.readTuples('count') as Array<[string, number]>) finalCounts.set(word, Math.max(finalCounts.get(word) ?? 0, count));
    expect(Object.fromEntries(finalCounts)).toEqual({ a: 3, b: 2, c: 4, d: 1 });
    expect(result.info.spouts[0]).toMatchObject({ acked: 4, failed: 0 });
  });

  it('counts 5,000 sentences exactly in a LocalCluster, and the report bolt prints on ticks', async () => {
    const clock = new ManualClock();
    const cluster = new LocalCluster({ clock });
    const lines: string[] = [];
    let report: ReportBolt | undefined;
    try {
      const n = 5000;
      await cluster.submitTopology('wc', {}, buildWordCount({ limit: n, spouts: 2, report: () => (report = new ReportBolt((l) => lines.push(l))) }));
      const expected = expectedCounts(SENTENCES, n);
      await until(() => report !== undefined && report.counts.size === expected.size && [...expected].every(([w, c]) => report!.counts.get(w) === c), 'exact counts');
      await until(() => cluster.isQuiescent('wc'), 'quiescent');
      expect(Object.fromEntries(report!.counts)).toEqual(Object.fromEntries(expected));
      const info = await cluster.getTopologyInfo('wc');
      expect(info.spouts[0]).toMatchObject({ emitted: n, acked: n, failed: 0, executors: 2 });
      const words = [...expected.values()].reduce((a, b) => a + b, 0);
      expect(info.bolts.find((b) => b.componentId === 'count')).toMatchObject({ executed: words, emitted: words });
      expect(lines).toEqual([]); // no tick yet: time has not moved
      clock.advance(2000);
      await until(() => lines.length === 1, 'a report line');
      expect(lines[0]).toBe('top words: the=4000 and=2000 seven=2000 a=1000 ago=1000');
    } finally {
      await cluster.close();
    }
  });

  it('counts exactly with three in-process workers on two supervisors (words cross workers)', async () => {
    const cluster = new LocalCluster({ supervisors: 2, slotsPerSupervisor: 2, seed: 2 });
    let report: ReportBolt | undefined;
    try {
      const n = 3000;
      await cluster.submitTopology('wc3', { 'topology.workers': 3 }, buildWordCount({ limit: n, report: () => (report = new ReportBolt(() => undefined)) }));
      const expected = expectedCounts(SENTENCES, n);
      await until(() => report !== undefined && [...expected].every(([w, c]) => report!.counts.get(w) === c), 'exact counts');
      await until(async () => (await cluster.getTopologyInfo('wc3')).spouts[0].acked === n, 'every sentence acked');
      const info = await cluster.getTopologyInfo('wc3');
      expect(info.numWorkers).toBe(3);
      expect(info.spouts[0]).toMatchObject({ acked: n, failed: 0 });
      await cluster.rebalance('wc3', { waitSecs: 0, numWorkers: 2, executors: { split: 1 } });
      const after = await cluster.getTopologyInfo('wc3');
      expect(after.numWorkers).toBe(2);
      expect(after.bolts.find((b) => b.componentId === 'split')!.executors).toBe(1);
    } finally {
      await cluster.close();
    }
  });

  it('reliable word count replays failed sentences until every one is acked exactly once', async () => {
    const cluster = new LocalCluster({ seed: 5 });
    let report: ReplayReport | undefined;
    try {
      await cluster.submitTopology('rwc', {}, buildReliableWordCount({ sentences: 2000, failRate: 0.25, seed: 9, report: (r) => (report = r) }));
      await until(() => report !== undefined, 'all sentences acked', 20_000);
      expect(report!.sentences).toBe(2000);
      expect(report!.duplicateAcks).toBe(0);
      expect(report!.replays).toBeGreaterThan(300); // about a quarter fail at least once
      const info = await cluster.getTopologyInfo('rwc');
      expect(info.spouts[0].acked).toBe(2000);
      expect(info.spouts[0].failed).toBe(report!.replays);
    } finally {
      await cluster.close();
    }
  });
});
