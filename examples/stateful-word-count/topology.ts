/**
 * Stateful word count, exactly-once: a replayable sentence generator → split (shuffle) → count (a
 * stateful bolt, fields on "word": its counts live in checkpointed state, split into key groups) →
 * report (global; prints the top words of each completed checkpoint, written with a two-phase
 * commit, so what it prints is exactly what the committed state holds).
 *
 *   npx squall local examples/stateful-word-count/topology.ts
 *   npx squall submit examples/stateful-word-count/topology.ts -c topology.workers=2
 *
 * Kill a worker of the submitted topology (kill -9 its pid from `squall monitor`'s page): the
 * topology rolls back to its last checkpoint, the generator rewinds, and the counts stay exact.
 */
import {
  BaseBasicBolt,
  BaseStatefulBolt,
  SentenceGeneratorSpout,
  TopologyBuilder,
  TwoPhaseCommitSinkBolt,
  type BasicOutputCollector,
  type KeyValueState,
  type OutputCollector,
  type OutputFieldsDeclarer,
  type TopologyConfig,
  type TopologyContext,
  type Tuple,
} from 'squall';

export class Split extends BaseBasicBolt {
  execute(input: Tuple, collector: BasicOutputCollector): void {
    for (const word of input.getStringByField('sentence').split(' ')) collector.emit([word]);
  }
  declareOutputFields(d: OutputFieldsDeclarer): void {
    d.declare(['word']);
  }
}

/** Storm's stateful WordCountBolt: the count of each word is in its KeyValueState. */
export class WordCount extends BaseStatefulBolt<KeyValueState<string, number>> {
  private counts!: KeyValueState<string, number>;
  private collector!: OutputCollector;
  prepare(_conf: Readonly<TopologyConfig>, _ctx: TopologyContext, collector: OutputCollector): void {
    this.collector = collector;
  }
  initState(state: KeyValueState<string, number>): void {
    this.counts = state; // the last committed counts, before the first tuple
  }
  execute(input: Tuple): void {
    const word = input.getStringByField('word');
    const count = this.counts.get(word, 0) + 1;
    this.counts.put(word, count);
    this.collector.emit([word, count], input);
    this.collector.ack(input);
  }
  declareOutputFields(d: OutputFieldsDeclarer): void {
    d.declare(['word', 'count']);
  }
}

/** The latest count of every word in the open transaction; printed when its checkpoint commits. */
interface Report {
  counts: Record<string, number>;
}

export class PrintReport extends TwoPhaseCommitSinkBolt<Report> {
  private readonly latest = new Map<string, number>();
  constructor(private readonly print: (line: string) => void = (line) => process.stdout.write(`${line}\n`)) {
    super();
  }
  beginTransaction(): Report {
    return { counts: {} };
  }
  invoke(txn: Report, input: Tuple): void {
    txn.counts[input.getStringByField('word')] = input.getIntegerByField('count');
  }
  preCommit(): void {}
  commit(txn: Report): void {
    for (const [w, n] of Object.entries(txn.counts)) this.latest.set(w, Math.max(this.latest.get(w) ?? 0, n));
    if (Object.keys(txn.counts).length === 0) return;
    const top = [...this.latest].sort((a, b) => b[1] - a[1]).slice(0, 5);
    let total = 0;
    for (const n of this.latest.values()) total += n;
    this.print(`committed: ${total} words counted; top ${top.map(([w, n]) => `${w}=${n}`).join(' ')}`);
  }
  abort(): void {}
}

export function buildStatefulWordCount(options: { count?: number; ratePerSec?: number; print?: (line: string) => void } = {}): TopologyBuilder {
  const builder = new TopologyBuilder();
  builder.setSpout('sentences', () => new SentenceGeneratorSpout({ count: options.count, ratePerSec: options.ratePerSec ?? 2000 }), 2);
  builder.setBolt('split', Split, 2).shuffleGrouping('sentences');
  builder.setBolt('count', WordCount, 2).fieldsGrouping('split', ['word']);
  builder.setBolt('report', () => new PrintReport(options.print), 1).globalGrouping('count');
  return builder;
}

export const config = {
  'topology.processing.guarantee': 'exactly-once',
  'topology.state.checkpoint.interval.ms': 1000,
};

export default function statefulWordCount(): TopologyBuilder {
  return buildStatefulWordCount();
}
