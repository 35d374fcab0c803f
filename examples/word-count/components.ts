import {
  BaseBasicBolt,
  BaseRichBolt,
  BaseRichSpout,
  Fields,
  TupleUtils,
  type BasicOutputCollector,
  type Counter,
  type OutputCollector,
  type OutputFieldsDeclarer,
  type SpoutOutputCollector,
  type TopologyConfig,
  type TopologyContext,
  type Tuple,
} from 'squall';

export const SENTENCES = [
  'the cow jumped over the moon',
  'an apple a day keeps the doctor away',
  'four score and seven years ago',
  'snow white and the seven dwarfs',
  'i am at two with nature',
];

/**
 * Emits sentences, each with a message id so the acker tracks its tree. Failed sentences are
 * emitted again (replay), so every sentence is eventually counted: at-least-once.
 * With `limit`, it emits that many sentences (cycling through `sentences`) and then stops.
 */
export class SentenceSpout extends BaseRichSpout {
  private collector!: SpoutOutputCollector;
  private next = 0;
  private stride = 1;
  private readonly pending = new Map<number, string>();
  private readonly replay: number[] = [];
  acked = 0;
  failed = 0;

  constructor(
    private readonly sentences: readonly string[] = SENTENCES,
    private readonly limit: number = Infinity,
  ) {
    super();
  }

  open(_conf: Readonly<TopologyConfig>, context: TopologyContext, collector: SpoutOutputCollector): void {
    this.collector = collector;
    // each task takes its own share of a finite input
    const tasks = context.getComponentTasks(context.getThisComponentId()).length;
    this.next = context.getThisTaskIndex();
    this.stride = tasks;
  }

  nextTuple(): void {
    const retry = this.replay.shift();
    if (retry !== undefined) {
      this.collector.emit([this.pending.get(retry)!], retry);
      return;
    }
    if (this.next >= this.limit) return;
    const id = this.next;
    this.next += this.stride;
    const sentence = this.sentences[id % this.sentences.length];
    this.pending.set(id, sentence);
    this.collector.emit([sentence], id);
  }

  ack(msgId: unknown): void {
    this.pending.delete(msgId as number);
    this.acked++;
  }

  fail(msgId: unknown): void {
    this.failed++;
    this.replay.push(msgId as number);
  }

  declareOutputFields(declarer: OutputFieldsDeclarer): void {
    declarer.declare(new Fields('sentence'));
  }
}

/** Splits a sentence into words; BaseBasicBolt anchors each word to the sentence and acks it. */
export class SplitSentence extends BaseBasicBolt {
  execute(input: Tuple, collector: BasicOutputCollector): void {
    const words = input.getString(0).split(' ');
    for (const word of words) if (word.length > 0) collector.emit([word]);
  }

  declareOutputFields(declarer: OutputFieldsDeclarer): void {
    declarer.declare(new Fields('word'));
  }
}

/** Counts words; fields grouping on `word` sends every occurrence of a word to the same task. */
export class WordCount extends BaseBasicBolt {
  private counts = new Map<string, number>();
  private counted: Counter | null = null;

  /** User metrics (docs/metrics.md): summed over tasks and workers, on REST and /metrics. */
  prepare(_conf: Readonly<TopologyConfig>, context: TopologyContext): void {
    this.counted = context.registerCounter('words.counted');
    context.registerGauge('words.distinct', () => this.counts.size);
  }

  execute(input: Tuple, collector: BasicOutputCollector): void {
    this.counted?.inc();
    const word = input.getString(0);
    const count = (this.counts.get(word) ?? 0) + 1;
    this.counts.set(word, count);
    collector.emit([word, count]);
  }

  declareOutputFields(declarer: OutputFieldsDeclarer): void {
    declarer.declare(new Fields('word', 'count'));
  }
}

/**
 * Keeps the latest count of every word (global grouping: one task sees them all) and, on every
 * tick tuple, hands the top words to `print`.
 */
export class ReportBolt extends BaseRichBolt {
  private collector!: OutputCollector;
  readonly counts = new Map<string, number>();

  constructor(
    private readonly print: (line: string) => void = (line) => process.stdout.write(line + '\n'),
    private readonly top = 5,
    private readonly tickSecs = 2,
  ) {
    super();
  }

  prepare(_conf: Readonly<TopologyConfig>, _context: TopologyContext, collector: OutputCollector): void {
    this.collector = collector;
  }

  execute(input: Tuple): void {
    if (TupleUtils.isTick(input)) {
      if (this.counts.size > 0) this.print(`top words: ${this.topWords().map(([w, c]) => `${w}=${c}`).join(' ')}`);
    } else {
      const word = input.getStringByField('word');
      const count = input.getIntegerByField('count');
      if (count > (this.counts.get(word) ?? 0)) this.counts.set(word, count);
    }
    this.collector.ack(input);
  }

  topWords(): Array<[string, number]> {
    return [...this.counts].sort((a, b) => b[1] - a[1] || (a[0] < b[0] ? -1 : 1)).slice(0, this.top);
  }

  getComponentConfiguration(): TopologyConfig {
    return { 'topology.tick.tuple.freq.secs': this.tickSecs };
  }
}
