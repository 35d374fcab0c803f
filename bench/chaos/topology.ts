/**
 * The chaos run's topology: a reliable word count whose spout keeps a ledger of emitted and acked
 * message ids (components.ts). Spout 2 tasks → split (shuffle, 4) → count (fields on "word", 4),
 * spread by the runner over several workers, so nearly every sentence's tuple tree crosses
 * workers and any process lost takes tuples with it.
 */
import { TopologyBuilder } from 'squall';
import { CountWords, LedgerSpout, SplitSentence } from './components';

export default function chaosTopology(): TopologyBuilder {
  const builder = new TopologyBuilder();
  builder.setSpout('sentences', () => new LedgerSpout(), 2);
  builder.setBolt('split', SplitSentence, 4).shuffleGrouping('sentences');
  builder.setBolt('count', CountWords, 4).fieldsGrouping('split', ['word']);
  return builder;
}
