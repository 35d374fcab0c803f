/**
 * Word count, the flagship example: sentences → split (shuffle) → count (fields on "word") →
 * report (global, every 2 s on a tick tuple, prints the top words).
 *
 *   npx squall local examples/word-count/topology.ts
 *   npx squall submit examples/word-count/topology.ts --name word-count
 */
import { TopologyBuilder } from 'squall';
import { ReportBolt, SentenceSpout, SplitSentence, WordCount } from './components';

export interface WordCountOptions {
  /** Sentences to emit in all (default: no end). */
  limit?: number;
  sentences?: readonly string[];
  spouts?: number;
  splitters?: number;
  counters?: number;
  print?: (line: string) => void;
  /** Make a fresh report bolt per task (tests pass a factory to read the counts). */
  report?: () => ReportBolt;
}

export function buildWordCount(options: WordCountOptions = {}): TopologyBuilder {
  const builder = new TopologyBuilder();
  builder.setSpout('sentences', () => new SentenceSpout(options.sentences, options.limit), options.spouts ?? 1);
  builder.setBolt('split', SplitSentence, options.splitters ?? 2).shuffleGrouping('sentences');
  builder.setBolt('count', WordCount, options.counters ?? 2).fieldsGrouping('split', ['word']);
  builder.setBolt('report', options.report ?? (() => new ReportBolt(options.print)), 1).globalGrouping('count');
  builder.addConfiguration('topology.max.spout.pending', 2000);
  return builder;
}

export default function wordCount(): TopologyBuilder {
  return buildWordCount();
}
