/**
 * Components of the benchmark topologies, shaped like Storm's storm-perf (ConstSpout, IdBolt,
 * DevNullBolt) and ThroughputVsLatency (a rate-limited sentence spout, split, count).
 */
import {
  BaseRichBolt,
  BaseRichSpout,
  TopologyBuilder,
  type OutputCollector,
  type OutputFieldsDeclarer,
  type SpoutOutputCollector,
  type TopologyConfig,
  type TopologyContext,
  type Tuple,
} from '../topology-api';

/** Emits the same tuple forever; with acking, each with a fresh message id (Storm's ConstSpout). */
export class ConstSpout extends BaseRichSpout {
  private collector!: SpoutOutputCollector;
  private n = 0;
  private readonly value: unknown[] = ['some data'];
  constructor(private readonly tracked: boolean) {
    super();
  }
  open(_c: Readonly<TopologyConfig>, _x: TopologyContext, collector: SpoutOutputCollector): void {
    this.collector = collector;
  }
  nextTuple(): void {
    if (this.tracked) this.collector.emit(this.value, this.n++);
    else this.collector.emit(this.value);
  }
  declareOutputFields(d: OutputFieldsDeclarer): void {
    d.declare(['str']);
  }
}

/** Acks and drops (Storm's DevNullBolt). */
export class NullBolt extends BaseRichBolt {
  private collector!: OutputCollector;
  prepare(_c: Readonly<TopologyConfig>, _x: TopologyContext, collector: OutputCollector): void {
    this.collector = collector;
  }
  execute(t: Tuple): void {
    this.collector.ack(t);
  }
}

/** Re-emits its input anchored, then acks (Storm's IdBolt). */
export class IdBolt extends BaseRichBolt {
  private collector!: OutputCollector;
  prepare(_c: Readonly<TopologyConfig>, _x: TopologyContext, collector: OutputCollector): void {
    this.collector = collector;
  }
  execute(t: Tuple): void {
    this.collector.emit(t.getValues(), t);
    this.collector.ack(t);
  }
  declareOutputFields(d: OutputFieldsDeclarer): void {
    d.declare(['str']);
  }
}

export const BENCH_SENTENCES = [
  'the cow jumped over the moon',
  'an apple a day keeps the doctor away',
  'four score and seven years ago',
  'snow white and the seven dwarfs',
  'i am at two with nature',
];
/** Words per sentence, averaged over BENCH_SENTENCES in order (32 words / 5 sentences). */
export const WORDS_PER_SENTENCE = 32 / 5;

/**
 * Sentences in a fixed cycle, optionally rate-limited (sentences/s, paced by a token bucket read
 * from the clock at each call), with message ids when tracked.
 */
export class SentenceSpout extends BaseRichSpout {
  private collector!: SpoutOutputCollector;
  private n = 0;
  private startMs = 0;
  constructor(
    private readonly tracked: boolean,
    private ratePerSec = 0,
  ) {
    super();
  }
  open(_c: Readonly<TopologyConfig>, ctx: TopologyContext, collector: SpoutOutputCollector): void {
    this.collector = collector;
    this.startMs = performance.now();
    // spread the rate over the spout's tasks
    this.ratePerSec = this.ratePerSec / ctx.getComponentTasks(ctx.getThisComponentId()).length;
  }
  nextTuple(): void {
    if (this.ratePerSec > 0 && this.n >= ((performance.now() - this.startMs) * this.ratePerSec) / 1000) return;
    const id = this.n++;
    const sentence = [BENCH_SENTENCES[id % BENCH_SENTENCES.length]];
    if (this.tracked) this.collector.emit(sentence, id);
    else this.collector.emit(sentence);
  }
  declareOutputFields(d: OutputFieldsDeclarer): void {
    d.declare(['sentence']);
  }
}

export class SplitBolt extends BaseRichBolt {
  private collector!: OutputCollector;
  prepare(_c: Readonly<TopologyConfig>, _x: TopologyContext, collector: OutputCollector): void {
    this.collector = collector;
  }
  execute(t: Tuple): void {
    const words = (t.getValue(0) as string).split(' ');
    for (let i = 0; i < words.length; i++) this.collector.emit([words[i]], t);
    this.collector.ack(t);
  }
  declareOutputFields(d: OutputFieldsDeclarer): void {
    d.declare(['word']);
  }
}

export class CountBolt extends BaseRichBolt {
  private collector!: OutputCollector;
  private readonly counts = new Map<string, number>();
  prepare(_c: Readonly<TopologyConfig>, _x: TopologyContext, collector: OutputCollector): void {
    this.collector = collector;
  }
  execute(t: Tuple): void {
    const w = t.getValue(0) as string;
    this.counts.set(w, (this.counts.get(w) ?? 0) + 1);
    this.collector.ack(t);
  }
}

/** Burns `workUs` of CPU per tuple: the deliberately slow bolt of the memory benchmark. */
export class SlowBolt extends BaseRichBolt {
  private collector!: OutputCollector;
  constructor(private readonly workUs: number) {
    super();
  }
  prepare(_c: Readonly<TopologyConfig>, _x: TopologyContext, collector: OutputCollector): void {
    this.collector = collector;
  }
  execute(t: Tuple): void {
    const until = performance.now() + this.workUs / 1000;
    while (performance.now() < until);
    this.collector.ack(t);
  }
}

export type BenchTopology = 'const-null' | 'const-id-null' | 'word-count' | 'slow';

export interface BenchTopologyOptions {
  acking: boolean;
  /** Sentences/s for the rate-limited word count (0 = unlimited). */
  rate?: number;
  /** Parallelism of each component (default 1). */
  parallelism?: number;
  slowWorkUs?: number;
}

/** The benchmark topologies, by name. */
export function benchTopology(name: BenchTopology, o: BenchTopologyOptions): TopologyBuilder {
  const b = new TopologyBuilder();
  const p = o.parallelism ?? 1;
  switch (name) {
    case 'const-null':
      b.setSpout('spout', () => new ConstSpout(o.acking), p);
      b.setBolt('sink', NullBolt, p).shuffleGrouping('spout');
      break;
    case 'const-id-null':
      b.setSpout('spout', () => new ConstSpout(o.acking), p);
      b.setBolt('id', IdBolt, p).shuffleGrouping('spout');
      b.setBolt('sink', NullBolt, p).shuffleGrouping('id');
      break;
    case 'word-count':
      b.setSpout('spout', () => new SentenceSpout(o.acking, o.rate ?? 0), p);
      b.setBolt('split', SplitBolt, p).shuffleGrouping('spout');
      b.setBolt('count', CountBolt, p).fieldsGrouping('split', ['word']);
      break;
    case 'slow':
      b.setSpout('spout', () => new ConstSpout(o.acking), 1);
      b.setBolt('sink', () => new SlowBolt(o.slowWorkUs ?? 50), 1).shuffleGrouping('spout');
      break;
  }
  return b;
}
