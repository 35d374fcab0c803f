import type { ExecutorStats } from '../../../common/cluster-state/types';
import { ManualClock } from '../../../common/clock';
import { Histogram } from '../../../common/histogram';
import { summarizeComponents } from '../../../common/stats-summary';
import { addCounts, diffStats, emptyCounts, type Counts } from '../../../nimbus/stats/counts';
import { RollingWindow } from '../../../nimbus/stats/rolling';
import type { WorkerStatsReport } from '../../../common/protocol/heartbeats';
import { INCARNATIONS_MAX, StatsStore } from '../../../nimbus/stats/store';

const sumOps = { empty: () => ({ n: 0 }), add: (into: { n: number }, from: { n: number }) => void (into.n += from.n) };

function spout(emitted: number, acked: number, latenciesMs: number[] = []): ExecutorStats {
  const h = new Histogram();
  for (const ms of latenciesMs) h.recordMs(ms);
  return {
    component: 'words',
    start: 3,
    end: 3,
    kind: 'spout',
    emitted: { default: emitted },
    transferred: { default: emitted },
    executed: {},
    acked: { default: acked },
    failed: {},
    executeMsTotal: 0,
    processMsTotal: 0,
    processCount: 0,
    completeMsTotal: latenciesMs.reduce((a, b) => a + b, 0),
    completeHistogram: h.toSparse(),
    capacity: 0.5,
    uptimeSecs: 1,
  };
}

function report(incarnation: string, stats: ExecutorStats, uptimeSecs = 1): WorkerStatsReport {
  return { topologyId: 't-1', node: 's1', port: 6700, pid: 1, incarnation, timeMs: 0, uptimeSecs, rssBytes: 0, executors: [stats] };
}

const emittedIn = (store: StatsStore, window: '600' | '10800' | '86400' | ':all-time', nowMs: number): number =>
  store.executorStats('t-1', window, nowMs).reduce((n, p) => n + (p.stats.emitted.default ?? 0), 0);

describe('RollingWindow', () => {
  test('sums the buckets of the span and forgets older ones as the clock moves', () => {
    const clock = new ManualClock();
    const w = new RollingWindow(600_000, 20, sumOps); // 30 s buckets
    w.add(clock.now(), { n: 5 });
    clock.advance(29_999);
    w.add(clock.now(), { n: 1 }); // same bucket
    clock.advance(1); // t = 30 s: a new bucket
    w.add(clock.now(), { n: 10 });
    expect(w.sum(clock.now())).toEqual({ value: { n: 16 }, coveredMs: 600_000 - 30_000 });
    expect(w.sumRecent(clock.now(), 1).value.n).toBe(10);
    clock.advance(600_000 - 30_000 - 1); // t = 599.999 s: the first bucket is still in
    expect(w.sum(clock.now()).value.n).toBe(16);
    clock.advance(1); // t = 600 s: the first bucket (0-30 s) has left the window
    expect(w.sum(clock.now()).value.n).toBe(10);
    clock.advance(30_000);
    expect(w.sum(clock.now()).value.n).toBe(0);
    expect(w.isIdle(clock.now())).toBe(true);
  });

  test('reuses slots: memory is the bucket count whatever the time', () => {
    const w = new RollingWindow(1_000, 4, sumOps);
    for (let t = 0; t < 100_000; t += 100) w.add(t, { n: 1 });
    // The last 4 buckets of 250 ms hold 3 full buckets and the current one (2-3 values each).
    expect(w.sum(99_900).value.n).toBe(10);
    expect((w as unknown as { slots: unknown[] }).slots).toHaveLength(4);
  });

  test('drops a value for a bucket that has already rolled over', () => {
    const w = new RollingWindow(1_000, 2, sumOps);
    w.add(1_600, { n: 1 });
    w.add(600, { n: 7 }); // same slot, an older period
    expect(w.sum(1_600).value.n).toBe(1);
  });
});

describe('stats counts', () => {
  test('the difference of two cumulative reports, clamped at zero, and sums', () => {
    const a = spout(10, 8, [1, 2]);
    const b = spout(25, 20, [1, 2, 3, 40]);
    const d = diffStats(b, a);
    expect(d.emitted).toEqual({ default: 15 });
    expect(d.acked).toEqual({ default: 12 });
    expect([...d.completeHist.values()].reduce((x, y) => x + y, 0)).toBe(2);
    expect(diffStats(a, b).emitted).toEqual({}); // out of order: nothing, never negative
    const total: Counts = emptyCounts();
    addCounts(total, diffStats(a, null));
    addCounts(total, d);
    expect(total.emitted).toEqual({ default: 25 });
    expect(total.completeMsTotal).toBe(46);
  });
});

describe('StatsStore', () => {
  test('windows roll with the clock; all time keeps everything', () => {
    const clock = new ManualClock();
    const store = new StatsStore();
    store.ingest(report('a', spout(100, 100)), clock.now());
    clock.advance(60_000);
    store.ingest(report('a', spout(150, 150)), clock.now());
    expect(emittedIn(store, '600', clock.now())).toBe(150);
    clock.advance(10 * 60_000); // the first 100 leave the 10-minute window, then the next 50
    store.ingest(report('a', spout(160, 160)), clock.now());
    expect(emittedIn(store, '600', clock.now())).toBe(10);
    expect(emittedIn(store, '10800', clock.now())).toBe(160);
    expect(emittedIn(store, ':all-time', clock.now())).toBe(160);
    clock.advance(3 * 3600_000);
    expect(emittedIn(store, '10800', clock.now())).toBe(0);
    expect(emittedIn(store, '86400', clock.now())).toBe(160);
    clock.advance(24 * 3600_000);
    expect(emittedIn(store, '86400', clock.now())).toBe(0);
    expect(emittedIn(store, ':all-time', clock.now())).toBe(160);
  });

  test('a restarted worker adds to what its predecessor counted; a resent report adds nothing', () => {
    const clock = new ManualClock();
    const store = new StatsStore();
    store.ingest(report('first', spout(40, 40)), clock.now());
    store.ingest(report('first', spout(40, 40)), clock.now());
    clock.advance(5_000);
    store.ingest(report('second', spout(7, 7)), clock.now()); // counters restart at zero
    expect(emittedIn(store, ':all-time', clock.now())).toBe(47);
    expect(emittedIn(store, '600', clock.now())).toBe(47);
    // A late report of the old incarnation still counts once.
    store.ingest(report('first', spout(45, 45)), clock.now());
    expect(emittedIn(store, ':all-time', clock.now())).toBe(52);
    expect(store.workers('t-1').get('s1:6700')).toMatchObject({ incarnation: 'first', restarts: 2 });
  });

  test('remembers a bounded number of incarnations per executor', () => {
    const store = new StatsStore();
    for (let i = 0; i < INCARNATIONS_MAX + 3; i++) store.ingest(report(`w${i}`, spout(1, 1)), 0);
    expect(emittedIn(store, ':all-time', 0)).toBe(INCARNATIONS_MAX + 3);
  });

  test('a first report from a worker that ran a while counts for all time only', () => {
    const store = new StatsStore();
    store.ingest(report('old', spout(500, 500), 3600), 0);
    expect(emittedIn(store, '600', 0)).toBe(0);
    expect(emittedIn(store, ':all-time', 0)).toBe(500);
    store.ingest(report('old', spout(520, 520), 3601), 1_000);
    expect(emittedIn(store, '600', 1_000)).toBe(20);
  });

  test('percentiles over a window come from the histograms of that window only', () => {
    const clock = new ManualClock();
    const store = new StatsStore();
    const slow = Array.from({ length: 100 }, () => 500);
    store.ingest(report('a', spout(100, 100, slow)), clock.now());
    clock.advance(11 * 60_000);
    const fast = Array.from({ length: 100 }, (_, i) => 1 + (i % 10) / 10);
    store.ingest(report('a', spout(200, 200, [...slow, ...fast])), clock.now());
    const describe = [{ id: 'words', type: 'spout' as const, executors: 1, tasks: 1 }];
    const [recent] = summarizeComponents(store.executorStats('t-1', '600', clock.now()).map((p) => p.stats), describe);
    const [all] = summarizeComponents(store.executorStats('t-1', ':all-time', clock.now()).map((p) => p.stats), describe);
    expect(recent.completeLatencyPercentiles.p99).toBeLessThan(2.2);
    expect(all.completeLatencyPercentiles.p50).toBeGreaterThan(1);
    expect(all.completeLatencyPercentiles.p99).toBeGreaterThan(470);
    expect(recent.completeLatency).toBeCloseTo(1.45, 2);
  });

  test('capacity over a window is the busy share of the time it covers', () => {
    const clock = new ManualClock();
    const store = new StatsStore();
    const bolt = (busyMs: number): ExecutorStats => ({ ...spout(0, 0), component: 'count', kind: 'bolt', completeHistogram: undefined, executeMsTotal: busyMs, capacity: 0.9 });
    store.ingest(report('a', bolt(0)), clock.now());
    clock.advance(60_000);
    store.ingest(report('a', bolt(15_000)), clock.now());
    const [windowed] = store.executorStats('t-1', '600', clock.now());
    expect(windowed.stats.capacity).toBeCloseTo(0.25, 5);
    expect(store.executorStats('t-1', ':all-time', clock.now())[0].stats.capacity).toBe(0.9);
    store.forget('t-1');
    expect(store.executorStats('t-1', ':all-time', clock.now())).toEqual([]);
  });
});
