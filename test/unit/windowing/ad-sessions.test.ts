import { ManualClock } from '../../../common/clock';
import { LocalCluster } from '../../../local/local-cluster';
import { adEvents, LateCounterBolt, SessionReportBolt } from '../../../examples/ad-sessions/components';
import { buildAdSessions, config } from '../../../examples/ad-sessions/topology';
import { until } from '../../helpers/components';

describe('examples/ad-sessions', () => {
  it('counts views and clicks per user session and ad, and counts the late events', async () => {
    const n = 3000;
    const events = adEvents(n, { seed: 5 });
    // late: behind the watermark (newest timestamp - 5 s lag) by more than the 30 s gap
    let watermark = -Infinity;
    let expectedLate = 0;
    for (const [, , , ts] of events) {
      if (ts + 30_000 <= watermark) expectedLate++;
      watermark = Math.max(watermark, ts - 5000);
    }
    expect(expectedLate).toBeGreaterThan(10);
    const clock = new ManualClock();
    const cluster = new LocalCluster({ clock, seed: 3 });
    let report: SessionReportBolt | undefined;
    let late: LateCounterBolt | undefined;
    const lines: string[] = [];
    try {
      await cluster.submitTopology(
        'ads',
        config,
        buildAdSessions({
          seed: 5,
          limit: n,
          rate: 0,
          flush: true,
          sessionTasks: 1,
          report: () => (report = new SessionReportBolt(5, (l) => lines.push(l))),
          lateCounter: () => (late = new LateCounterBolt(5, (l) => lines.push(l))),
        }),
      );
      const counted = (): number => [...(report?.perAd.values() ?? [])].reduce((a, c) => a + c.views + c.clicks, 0);
      await until(() => late?.late === expectedLate && counted() === n - expectedLate, 'every event in a closed session or late');
      expect(report!.sessions.size).toBeGreaterThan(40);
      clock.advance(5000);
      await until(() => lines.length === 2, 'the report and the late count printed');
      expect(lines.find((l) => l.startsWith('late events'))).toBe(`late events (after their session closed): ${expectedLate}`);
      expect(lines.find((l) => l.startsWith('sessions closed'))).toMatch(/^sessions closed: \d+; ads by click-through rate: ad-\d+ \d+\.\d% \(\d+\/\d+\)/);
      // every event but the flush one is acked: in a closed session, or late
      await until(async () => (await cluster.getTopologyInfo('ads')).spouts[0].acked === n, 'acked');
    } finally {
      await cluster.close();
    }
  });
});
