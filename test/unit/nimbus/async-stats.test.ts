import { slotKey } from '../../../nimbus/scheduler';
import { componentTable, pageToView, progressLine } from '../../../cli/stats-view';
import { executorStats, fakeBundle, startHarness, type Harness } from './harness';

/** In-flight counts of async bolts travel from executor stats to the REST pages and `squall monitor`. */
describe('async bolt stats in REST and the monitor', () => {
  let h: Harness;
  beforeEach(async () => {
    h = await startHarness({ supervisors: [['s1', [6700, 6701]], ['s2', [6700]]] });
  });
  afterEach(async () => {
    await h.close();
  });

  it('shows inflight and asyncTimedOut on the topology page, the component page and its executors', async () => {
    const { id } = await h.nimbus.submit('wc', fakeBundle(), { 'topology.workers': 2 });
    const a = (await h.peer.getAssignment(id))!;
    // __acker [1-2], count [3-6], words [7-8]
    const at = (start: number) => a.executors.find((e) => e.start === start)!;
    const byWorker = new Map<string, ReturnType<typeof executorStats>[]>();
    const add = (start: number, s: ReturnType<typeof executorStats>) => {
      const key = slotKey(at(start).node, at(start).port);
      byWorker.set(key, [...(byWorker.get(key) ?? []), s]);
    };
    add(7, executorStats('words', 7, 7, 'spout', { emitted: 10 }));
    add(8, executorStats('words', 8, 8, 'spout', { emitted: 5 }));
    add(3, { ...executorStats('count', 3, 4, 'bolt', { executed: 8 }), inflight: 40, asyncTimedOut: 2 });
    add(5, { ...executorStats('count', 5, 6, 'bolt', { executed: 7 }), inflight: 60, asyncTimedOut: 0 });
    for (const [key, stats] of byWorker) {
      const [node, port] = key.split(':');
      await h.beat(id, node, Number(port), 1, stats);
    }
    const page = await h.nimbus.topologyPage('wc');
    expect(page.bolts).toEqual([expect.objectContaining({ boltId: 'count', inflight: 100, asyncTimedOut: 2 })]);
    expect(page.spouts[0]).not.toHaveProperty('inflight');
    const comp = await h.nimbus.componentPage(id, 'count');
    expect(comp.summary).toMatchObject({ inflight: 100, asyncTimedOut: 2 });
    expect(comp.executorStats.map((e) => [e.id, e.inflight, e.asyncTimedOut])).toEqual([
      ['[3-4]', 40, 2],
      ['[5-6]', 60, 0],
    ]);
    const spoutPage = await h.nimbus.componentPage(id, 'words');
    expect(spoutPage.executorStats[0]).not.toHaveProperty('inflight');

    // squall monitor reads the topology page
    const view = pageToView(page);
    expect(view.bolts[0]).toMatchObject({ inflight: 100, asyncTimedOut: 2 });
    const table = componentTable(view);
    expect(table).toContain('in flight');
    expect(table).toContain('100 (2 timed out)');
    const idle = pageToView({ ...page, bolts: page.bolts.map((b) => ({ ...b, executed: 0 })) });
    expect(progressLine(idle, view, 1, 5)).toContain('count 15/s (100 in flight)');
  });

  it('shows no in-flight figure for a bolt that never went async', () => {
    const view = pageToView({
      spouts: [],
      bolts: [{ boltId: 'b', encodedBoltId: 'b', executors: 1, tasks: 1, emitted: 0, transferred: 0, executed: 0, acked: 0, failed: 0, executeLatency: '0', processLatency: '0', capacity: '0', lastError: '', errorHost: '', errorPort: null, errorTime: null, errorLapsedSecs: null } as never],
    });
    expect(view.bolts[0]).not.toHaveProperty('inflight');
    expect(componentTable(view).split('\n')[2]).toMatch(/^b\s.*\s-\s*$/);
  });
});
