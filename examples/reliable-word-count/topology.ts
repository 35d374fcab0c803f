/**
 * Reliable word count: a split bolt fails a fraction of sentences at random; the acker tells the
 * spout, which replays them. Every sentence is eventually acked exactly once at the spout, and the
 * spout prints how many replays that took.
 *
 *   npx squall local examples/reliable-word-count/topology.ts --duration 10
 */
import {
  BaseRichBolt,
  BaseRichSpout,
  Fields,
  TopologyBuilder,
  type OutputCollector,
  type OutputFieldsDeclarer,
  type SpoutOutputCollector,
  type TopologyConfig,
  type TopologyContext,
  type Tuple,
} from 'squall';
import { SENTENCES, WordCount } from '../word-count/components';

/** A small seeded generator (mulberry32), so a run can be repeated. */
function seeded(seed: number): () => number {
  let a = seed >>> 0;
  return () => {
    a = (a + 0x6d2b79f5) | 0;
    let t = Math.imul(a ^ (a >>> 15), 1 | a);
    t = (t + Math.imul(t ^ (t >>> 7), 61 | t)) ^ t;
    return ((t ^ (t >>> 14)) >>> 0) / 4294967296;
  };
}

export interface ReplayReport {
  sentences: number;
  acked: number;
  duplicateAcks: number;
  replays: number;
}

/** Emits `total` sentences with ids, replays every failed one, and reports once all are acked. */
export class ReplayingSentenceSpout extends BaseRichSpout {
  private collector!: SpoutOutputCollector;
  private next = 0;
  private readonly toReplay: number[] = [];
  private readonly acked = new Set<number>();
  private duplicateAcks = 0;
  private replays = 0;
  private reported = false;

  constructor(
    private readonly total: number,
    private readonly report: (r: ReplayReport) => void = (r) =>
      process.stdout.write(`all ${r.sentences} sentences acked (${r.acked} acks, ${r.duplicateAcks} duplicates) after ${r.replays} replays\n`),
  ) {
    super();
  }

  open(_conf: Readonly<TopologyConfig>, _context: TopologyContext, collector: SpoutOutputCollector): void {
    this.collector = collector;
  }

  nextTuple(): void {
    const retry = this.toReplay.shift();
    if (retry !== undefined) {
      this.replays++;
      this.collector.emit([SENTENCES[retry % SENTENCES.length]], retry);
    } else if (this.next < this.total) {
      const id = this.next++;
      this.collector.emit([SENTENCES[id % SENTENCES.length]], id);
    }
  }

  ack(msgId: unknown): void {
    const id = msgId as number;
    if (this.acked.has(id)) this.duplicateAcks++;
    this.acked.add(id);
    if (this.acked.size === this.total && !this.reported) {
      this.reported = true;
      this.report({ sentences: this.total, acked: this.acked.size + this.duplicateAcks, duplicateAcks: this.duplicateAcks, replays: this.replays });
    }
  }

  fail(msgId: unknown): void {
    this.toReplay.push(msgId as number);
  }

  declareOutputFields(declarer: OutputFieldsDeclarer): void {
    declarer.declare(new Fields('sentence'));
  }
}

/** Splits sentences, but fails `failRate` of them (before emitting anything) at random. */
export class FlakySplit extends BaseRichBolt {
  private collector!: OutputCollector;
  private random!: () => number;

  constructor(
    private readonly failRate: number,
    private readonly seed: number,
  ) {
    super();
  }

  prepare(_conf: Readonly<TopologyConfig>, context: TopologyContext, collector: OutputCollector): void {
    this.collector = collector;
    this.random = seeded(this.seed + context.getThisTaskId());
  }

  execute(input: Tuple): void {
    if (this.random() < this.failRate) {
      this.collector.fail(input);
      return;
    }
    for (const word of input.getString(0).split(' ')) this.collector.emit([word], input);
    this.collector.ack(input);
  }

  declareOutputFields(declarer: OutputFieldsDeclarer): void {
    declarer.declare(new Fields('word'));
  }
}

export interface ReliableOptions {
  sentences?: number;
  failRate?: number;
  seed?: number;
  report?: (r: ReplayReport) => void;
}

export function buildReliableWordCount(options: ReliableOptions = {}): TopologyBuilder {
  const builder = new TopologyBuilder();
  builder.setSpout('sentences', () => new ReplayingSentenceSpout(options.sentences ?? 10_000, options.report), 1);
  builder.setBolt('split', () => new FlakySplit(options.failRate ?? 0.2, options.seed ?? 42), 2).shuffleGrouping('sentences');
  builder.setBolt('count', WordCount, 2).fieldsGrouping('split', ['word']);
  builder.addConfiguration('topology.max.spout.pending', 500);
  return builder;
}

export default function reliableWordCount(): TopologyBuilder {
  return buildReliableWordCount();
}
