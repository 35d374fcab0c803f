import { expectedWordCounts } from '../../../topology-api';
import { ManualClock } from '../../../common/clock';
import { LocalCluster } from '../../../local/local-cluster';
import { clearInterimMemory } from '../../../worker/checkpoint/state-source';
import { buildStatefulWordCount, config } from '../../../examples/stateful-word-count/topology';
import { until } from '../../helpers/components';

describe('examples/stateful-word-count', () => {
  it('prints committed totals that end at the exact word count', async () => {
    clearInterimMemory('example-swc');
    const lines: string[] = [];
    const count = 400;
    const total = [...expectedWordCounts(count).values()].reduce((a, b) => a + b, 0);
    const clock = new ManualClock();
    const cluster = new LocalCluster({ clock, seed: 2 });
    try {
      await cluster.submitTopology('example-swc', { ...config, 'topology.workers': 2 }, buildStatefulWordCount({ count, ratePerSec: 1e9, print: (l) => lines.push(l) }));
      await until(() => {
        clock.advance(500);
        return lines.some((l) => l.startsWith(`committed: ${total} words counted`));
      }, `a committed total of ${total}`);
      for (const l of lines) expect(Number(/committed: (\d+)/.exec(l)?.[1])).toBeLessThanOrEqual(total);
    } finally {
      await cluster.close();
    }
  });
});
