import { ManualClock } from '../../../common/clock';
import { LocalCluster } from '../../../local/local-cluster';
import { drawWord, seeded, topN, TotalRankingsBolt, type Ranked } from '../../../examples/rolling-top-words/components';
import { buildRollingTopWords, config } from '../../../examples/rolling-top-words/topology';
import { until } from '../../helpers/components';

describe('examples/rolling-top-words', () => {
  it('ranks the words of each sliding window, and acks every word once its last window fired', async () => {
    const clock = new ManualClock();
    const cluster = new LocalCluster({ clock, seed: 5 });
    const lines: string[] = [];
    let total: TotalRankingsBolt | undefined;
    const n = 400;
    const random = seeded(11);
    const counts = new Map<string, number>();
    for (let i = 0; i < n; i++) {
      const w = drawWord(random);
      counts.set(w, (counts.get(w) ?? 0) + 1);
    }
    const expected = topN(counts as Map<string, number> as Iterable<Ranked>, 5);
    try {
      await cluster.submitTopology('rtw', config, buildRollingTopWords({ seed: 11, limit: n, rate: 0, total: () => (total = new TotalRankingsBolt(5, 2, (l) => lines.push(l))) }));
      await until(async () => (await cluster.getTopologyInfo('rtw')).spouts[0].emitted === n, 'every word emitted');
      /** Data tuples (not ticks) a component executed, and what it emitted. */
      const counts = async (component: string): Promise<{ executed: number; transferred: number }> => {
        let executed = 0;
        let transferred = 0;
        for (const s of (await cluster.getTopologyInfo('rtw')).executors) {
          if (s.component !== component) continue;
          for (const [k, v] of Object.entries(s.executed)) if (!k.startsWith('__')) executed += v;
          for (const v of Object.values(s.transferred)) transferred += v;
        }
        return { executed, transferred };
      };
      // windows are aligned to multiples of 3 s of wall time; the manual clock starts 2 s after one
      clock.advance(1000); // the counters' first window ends
      await until(async () => (await counts('counter')).transferred > 0 && (await counts('intermediate-ranker')).executed === (await counts('counter')).transferred, 'counts ranked');
      clock.advance(1000); // the intermediate rankers' tick: rankings to the total ranker
      await until(async () => (await counts('total-ranker')).executed === 2, 'both intermediate rankings');
      clock.advance(2000); // the total ranker's next tick
      await until(() => total?.last !== null && total?.last !== undefined, 'a total ranking');
      expect(total!.last!.rankings).toEqual(expected);
      expect(lines[lines.length - 1]).toMatch(new RegExp(`^top words, 5 of the 9 s window ending \\d\\d:\\d\\d:\\d\\d: ${expected.map(([w, c]) => `${w}=${c}`).join(' ')}$`));
      // every word is in the windows ending 3, 6 and 9 s after the one it arrived in, then acked
      expect((await cluster.getTopologyInfo('rtw')).spouts[0].acked).toBe(0);
      clock.advance(9000);
      await until(async () => (await cluster.getTopologyInfo('rtw')).spouts[0].acked === n, 'every word acked');
    } finally {
      await cluster.close();
    }
  });
});
