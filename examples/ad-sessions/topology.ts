/**
 * Ad sessions: ad view and click events, out of order and partly late → per-user session windows
 * in event time (30 s gap, 5 s lag) computing views, clicks and click-through rate per ad and
 * session → a report of closed sessions; late events → a late stream, counted and printed.
 *
 *   npx squall local examples/ad-sessions/topology.ts --duration 15
 */
import { TopologyBuilder } from 'squall';
import { AdEventSpout, AdSessionBolt, LateCounterBolt, SessionReportBolt, type AdSpoutOptions } from './components';

export interface AdSessionsOptions extends AdSpoutOptions {
  /** Fresh report and late-counter bolts (tests pass factories to read them). */
  report?: () => SessionReportBolt;
  lateCounter?: () => LateCounterBolt;
  sessionTasks?: number;
}

export function buildAdSessions(options: AdSessionsOptions = {}): TopologyBuilder {
  const b = new TopologyBuilder();
  // 5,000 events/s at 50 ms of event time each: 250 s of event time per second of wall time
  b.setSpout('ad-events', () => new AdEventSpout({ rate: 5000, ...options }), 1);
  b.setBolt('sessions', () => new AdSessionBolt(), options.sessionTasks ?? 2).fieldsGrouping('ad-events', ['userId']);
  b.setBolt('report', options.report ?? (() => new SessionReportBolt()), 1).globalGrouping('sessions');
  b.setBolt('late-events', options.lateCounter ?? (() => new LateCounterBolt()), 1).globalGrouping('sessions', 'late');
  return b;
}

export const config = { 'topology.max.spout.pending': 50_000 };

export default function adSessions(): TopologyBuilder {
  return buildAdSessions();
}
