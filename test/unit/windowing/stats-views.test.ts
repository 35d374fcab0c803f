import { slotKey } from '../../../nimbus/scheduler';
import type { ExecutorStats } from '../../../common/cluster-state/types';
import { summarizeComponents } from '../../../common/stats-summary';
import { componentTable, formatWatermark, pageToView, progressLine } from '../../../cli/stats-view';
import { executorStats, fakeBundle, startHarness, type Harness } from '../nimbus/harness';

const windowed = (s: ExecutorStats, w: ExecutorStats['windows']): ExecutorStats => ({ ...s, windows: w });

describe('window stats in REST and the CLI', () => {
  let h: Harness;
  afterEach(async () => {
    await h.close();
  });

  it('sum over executors on the topology and component pages, with the lowest watermark', async () => {
    h = await startHarness({ supervisors: [['s1', [6700]], ['s2', [6700]]] });
    const { id } = await h.nimbus.submit('wc', fakeBundle(), { 'topology.workers': 2 });
    const a = (await h.peer.getAssignment(id))!;
    const at = (start: number) => a.executors.find((e) => e.start === start)!;
    const beats = new Map<string, ExecutorStats[]>();
    const add = (start: number, s: ExecutorStats): void => {
      const key = slotKey(at(start).node, at(start).port);
      beats.set(key, [...(beats.get(key) ?? []), s]);
    };
    add(3, windowed(executorStats('count', 3, 4, 'bolt', { executed: 8 }), { open: 2, buffered: 100, watermarkMs: 5000, late: 1, lateDropped: 1 }));
    add(5, windowed(executorStats('count', 5, 6, 'bolt', { executed: 7 }), { open: 3, buffered: 50, watermarkMs: 4000, late: 2, lateDropped: 0 }));
    for (const [key, stats] of beats) {
      const [node, port] = key.split(':');
      await h.beat(id, node, Number(port), 1, stats);
    }
    const total = { open: 5, buffered: 150, watermarkMs: 4000, late: 3, lateDropped: 1 };
    const page = await h.nimbus.topologyPage('wc');
    expect(page.bolts[0].windows).toEqual(total);
    expect(page.spouts[0]).not.toHaveProperty('windows');
    const comp = await h.nimbus.componentPage(id, 'count');
    expect(comp.summary.windows).toEqual(total);
    expect(comp.executorStats.map((e) => e.windows?.buffered)).toEqual([100, 50]);

    // squall monitor reads the topology page: a progress line and the final table show them
    const view = pageToView(page);
    const line = progressLine(view, view, 1, 3);
    expect(line).toContain('count 0/s [5 open, 150 buffered, watermark 4000, late 3 (1 dropped)]');
    const table = componentTable(view);
    expect(table).toMatch(/windowed bolt\s+open windows\s+buffered\s+watermark\s+late\s+late dropped/);
    expect(table).toMatch(/count\s+5\s+150\s+4000\s+3\s+1/);
  });

  it('are absent for bolts without windows, and a watermark in epoch ms prints as a UTC time', () => {
    const [plain] = summarizeComponents([executorStats('b', 1, 1, 'bolt')], [{ id: 'b', type: 'bolt', executors: 1, tasks: 1 }]);
    expect(plain).not.toHaveProperty('windows');
    expect(formatWatermark(Date.UTC(2024, 0, 1, 12, 0, 3, 250))).toBe('2024-01-01 12:00:03.250');
    expect(formatWatermark(null)).toBe('-');
  });
});
