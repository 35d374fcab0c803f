/**
 * Storm starter's rolling top words, on Squall's windowed bolts: a sliding window counts each word
 * (incremental aggregation: one counter per word and slide, not the words themselves), then
 * intermediate rankers (by word) and a total ranker keep the top N, emitting on tick tuples as
 * Storm starter's AbstractRankerBolt does.
 */
import {
  Aggregates,
  BaseBasicBolt,
  BaseRichSpout,
  BaseWindowedBolt,
  Duration,
  TupleUtils,
  type BasicOutputCollector,
  type OutputCollector,
  type OutputFieldsDeclarer,
  type SpoutOutputCollector,
  type TopologyConfig,
  type TopologyContext,
  type Tuple,
  type WindowInfo,
} from 'squall';

export const WORDS = [
  'storm', 'stream', 'tuple', 'bolt', 'spout', 'window', 'watermark', 'session', 'nimbus', 'worker',
  'acker', 'grouping', 'shuffle', 'fields', 'latency', 'throughput', 'replay', 'anchor', 'tick', 'slide',
];

/** A small seeded generator (mulberry32), so a run can be repeated. */
export function seeded(seed: number): () => number {
  let a = seed >>> 0;
  return () => {
    a = (a + 0x6d2b79f5) | 0;
    let t = Math.imul(a ^ (a >>> 15), 1 | a);
    t = (t + Math.imul(t ^ (t >>> 7), 61 | t)) ^ t;
    return ((t ^ (t >>> 14)) >>> 0) / 4294967296;
  };
}

export interface WordSpoutOptions {
  seed?: number;
  /** Words to emit in all (default: no end). */
  limit?: number;
  /** Words per second over all tasks (0: as fast as allowed). */
  rate?: number;
}

const WEIGHTS = WORDS.map((_, i) => Math.pow(0.84, i));
const TOTAL_WEIGHT = WEIGHTS.reduce((a, b) => a + b, 0);

/** A word drawn with a skew: word i about twice as likely as word i + 4. */
export function drawWord(random: () => number): string {
  let r = random() * TOTAL_WEIGHT;
  let i = 0;
  while (r >= WEIGHTS[i] && i < WORDS.length - 1) r -= WEIGHTS[i++];
  return WORDS[i];
}

/**
 * Emits skewed random words, so the rankings have a clear top and a moving tail (Storm starter
 * uses TestWordSpout). Task i draws from the seed + i.
 */
export class RandomWordSpout extends BaseRichSpout {
  private collector!: SpoutOutputCollector;
  private random!: () => number;
  private emitted = 0;
  private startMs = 0;
  private ratePerMs = 0;

  constructor(private readonly options: WordSpoutOptions = {}) {
    super();
  }
  open(_c: Readonly<TopologyConfig>, ctx: TopologyContext, collector: SpoutOutputCollector): void {
    this.collector = collector;
    this.random = seeded((this.options.seed ?? 7) + ctx.getThisTaskIndex());
    this.ratePerMs = (this.options.rate ?? 0) / 1000 / ctx.getComponentTasks(ctx.getThisComponentId()).length;
    this.startMs = performance.now();
  }
  nextTuple(): void {
    if (this.options.limit !== undefined && this.emitted >= this.options.limit) return;
    if (this.ratePerMs > 0 && this.emitted >= (performance.now() - this.startMs) * this.ratePerMs) return;
    this.collector.emit([drawWord(this.random)], this.emitted++);
  }
  declareOutputFields(d: OutputFieldsDeclarer): void {
    d.declare(['word']);
  }
}

/**
 * Storm starter's RollingCountBolt as a windowed bolt: counts each word over the last
 * `window` seconds, every `slide` seconds, and emits [word, count, windowEnd] (the end of the
 * window, ms). Words are acked once the last window holding them has fired.
 */
export class RollingCountBolt extends BaseWindowedBolt {
  private collector!: OutputCollector;
  constructor(windowSecs = 9, slideSecs = 3) {
    super();
    this.withWindow(Duration.seconds(windowSecs), Duration.seconds(slideSecs)).withKeyField('word').withAggregate(Aggregates.count());
  }
  prepare(_c: Readonly<TopologyConfig>, _ctx: TopologyContext, collector: OutputCollector): void {
    this.collector = collector;
  }
  executeAggregate(word: unknown, count: unknown, window: WindowInfo): void {
    this.collector.emit([word, count, window.getEndTimestamp()]);
  }
  declareOutputFields(d: OutputFieldsDeclarer): void {
    d.declare(['word', 'count', 'windowEnd']);
  }
}

export type Ranked = [word: string, count: number];

/** The top N of [word, count] pairs (Storm starter's Rankings). */
export function topN(entries: Iterable<Ranked>, n: number): Ranked[] {
  return [...entries].sort((a, b) => b[1] - a[1] || a[0].localeCompare(b[0])).slice(0, n);
}

/**
 * Keeps the counts of the newest window seen and, on every tick tuple, emits its top N as
 * [rankings, windowEnd]. A count from an older window is stale (the word is no longer counted in
 * the newest one) and does not rank. Storm starter's IntermediateRankingsBolt.
 */
export class IntermediateRankingsBolt extends BaseBasicBolt {
  private windowEnd = -Infinity;
  private readonly counts = new Map<string, number>();
  constructor(
    private readonly n = 5,
    private readonly emitEverySecs = 2,
  ) {
    super();
  }
  execute(t: Tuple, collector: BasicOutputCollector): void {
    if (TupleUtils.isTick(t)) {
      if (this.counts.size > 0) collector.emit([topN(this.counts, this.n), this.windowEnd]);
      return;
    }
    const end = t.getIntegerByField('windowEnd');
    if (end < this.windowEnd) return;
    if (end > this.windowEnd) {
      this.windowEnd = end;
      this.counts.clear();
    }
    this.counts.set(t.getStringByField('word'), t.getIntegerByField('count'));
  }
  declareOutputFields(d: OutputFieldsDeclarer): void {
    d.declare(['rankings', 'windowEnd']);
  }
  getComponentConfiguration(): TopologyConfig {
    return { 'topology.tick.tuple.freq.secs': this.emitEverySecs };
  }
}

/** Merges the intermediate rankings of the newest window and prints the total top N on every tick. */
export class TotalRankingsBolt extends BaseBasicBolt {
  private windowEnd = -Infinity;
  /** The newest rankings from each intermediate task. */
  private readonly partial = new Map<number, Ranked[]>();
  last: { windowEnd: number; rankings: Ranked[] } | null = null;
  constructor(
    private readonly n = 5,
    private readonly emitEverySecs = 2,
    private readonly print: (line: string) => void = (line) => process.stdout.write(`${line}\n`),
  ) {
    super();
  }
  execute(t: Tuple, collector: BasicOutputCollector): void {
    if (TupleUtils.isTick(t)) {
      if (this.partial.size === 0) return;
      const rankings = topN([...this.partial.values()].flat(), this.n);
      if (this.last?.windowEnd === this.windowEnd && JSON.stringify(this.last.rankings) === JSON.stringify(rankings)) return;
      this.last = { windowEnd: this.windowEnd, rankings };
      collector.emit([rankings, this.windowEnd]);
      const at = new Date(this.windowEnd).toISOString().slice(11, 19);
      this.print(`top words, ${this.n} of the 9 s window ending ${at}: ${rankings.map(([w, c]) => `${w}=${c}`).join(' ')}`);
      return;
    }
    const end = t.getIntegerByField('windowEnd');
    if (end < this.windowEnd) return;
    if (end > this.windowEnd) {
      this.windowEnd = end;
      this.partial.clear();
    }
    this.partial.set(t.getSourceTask(), t.getValueByField('rankings') as Ranked[]);
  }
  declareOutputFields(d: OutputFieldsDeclarer): void {
    d.declare(['rankings', 'windowEnd']);
  }
  getComponentConfiguration(): TopologyConfig {
    return { 'topology.tick.tuple.freq.secs': this.emitEverySecs };
  }
}
