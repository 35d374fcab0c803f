/**
 * Rolling top words (Storm starter's RollingTopWords): random words → a 9 s window of counts
 * sliding every 3 s (fields grouping on the word) → intermediate rankings (by word) → total
 * rankings (global), printed every 2 s.
 *
 *   npx squall local examples/rolling-top-words/topology.ts --duration 20
 */
import { TopologyBuilder } from 'squall';
import { IntermediateRankingsBolt, RandomWordSpout, RollingCountBolt, TotalRankingsBolt, type WordSpoutOptions } from './components';

export interface RollingTopWordsOptions extends WordSpoutOptions {
  topN?: number;
  windowSecs?: number;
  slideSecs?: number;
  /** A fresh total rankings bolt (tests pass a factory to read what it printed). */
  total?: () => TotalRankingsBolt;
}

export function buildRollingTopWords(options: RollingTopWordsOptions = {}): TopologyBuilder {
  const n = options.topN ?? 5;
  const b = new TopologyBuilder();
  b.setSpout('words', () => new RandomWordSpout({ rate: 2000, ...options }), 1);
  b.setBolt('counter', () => new RollingCountBolt(options.windowSecs ?? 9, options.slideSecs ?? 3), 2).fieldsGrouping('words', ['word']);
  b.setBolt('intermediate-ranker', () => new IntermediateRankingsBolt(n), 2).fieldsGrouping('counter', ['word']);
  b.setBolt('total-ranker', options.total ?? (() => new TotalRankingsBolt(n)), 1).globalGrouping('intermediate-ranker');
  return b;
}

/** Words stay in the 9 s window (plus its 3 s slide) before they are acked: 30 s is plenty. */
export const config = { 'topology.message.timeout.secs': 30 };

export default function rollingTopWords(): TopologyBuilder {
  return buildRollingTopWords();
}
