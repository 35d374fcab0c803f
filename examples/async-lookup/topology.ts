/**
 * Async lookup: I/O in a bolt is an `async execute`. Sentences → split → score (looks up each
 * word's sentiment in a remote service, many lookups in flight per task) → tally (global, prints
 * every 2 s on a tick tuple).
 *
 *   npx squall local examples/async-lookup/topology.ts
 *   npx squall local examples/async-lookup/topology.ts -c lookup.url=http://127.0.0.1:8080/score/
 *
 * Without `lookup.url` the service is simulated inside the bolt (a timer of `lookup.latency.ms`,
 * default 1, per lookup), so the example runs anywhere; with it, every word is fetched over HTTP
 * (`GET <lookup.url><word>`, answering a number). Either way the bolt is the same: emits after the
 * await are anchored to the input, the input is acked when the promise resolves and failed (then
 * replayed by the spout) when it rejects, and `setMaxInflight` bounds the lookups in flight.
 */
import {
  BaseBasicBolt,
  BaseRichBolt,
  TopologyBuilder,
  TupleUtils,
  type BasicOutputCollector,
  type OutputCollector,
  type OutputFieldsDeclarer,
  type TopologyConfig,
  type TopologyContext,
  type Tuple,
} from 'squall';
import { SentenceSpout, SplitSentence } from '../word-count/components';

/** A made-up sentiment in -2..2 from the word's letters: what the simulated service answers. */
export function simulatedScore(word: string): number {
  let h = 0;
  for (let i = 0; i < word.length; i++) h = (h * 31 + word.charCodeAt(i)) | 0;
  return (Math.abs(h) % 5) - 2;
}

const delay = (ms: number): Promise<void> => new Promise((resolve) => setTimeout(resolve, ms));

/** Scores each word with an async lookup: one promise per input, up to max.inflight at a time. */
export class ScoreWords extends BaseBasicBolt {
  private url: string | null = null;
  private latencyMs = 1;

  prepare(conf: Readonly<TopologyConfig>): void {
    // keys outside topology.* are yours: they reach prepare unchanged
    this.url = typeof conf['lookup.url'] === 'string' ? conf['lookup.url'] : null;
    if (typeof conf['lookup.latency.ms'] === 'number') this.latencyMs = conf['lookup.latency.ms'];
  }

  async execute(input: Tuple, collector: BasicOutputCollector): Promise<void> {
    const word = input.getStringByField('word');
    const score = await this.lookup(word);
    collector.emit([word, score]); // anchored to `input`, after the await too
  }

  private async lookup(word: string): Promise<number> {
    if (this.url === null) {
      await delay(this.latencyMs);
      return simulatedScore(word);
    }
    const res = await fetch(this.url + encodeURIComponent(word));
    if (!res.ok) throw new Error(`sentiment service answered ${res.status} for "${word}"`); // fails the input: replayed
    const score = Number(await res.text());
    if (!Number.isFinite(score)) throw new Error(`sentiment service answered no number for "${word}"`);
    return score;
  }

  declareOutputFields(d: OutputFieldsDeclarer): void {
    d.declare(['word', 'score']);
  }
}

/** Sums the scores (global grouping: one task sees them all) and prints the running mean on every tick. */
export class Tally extends BaseRichBolt {
  private collector!: OutputCollector;
  words = 0;
  total = 0;

  constructor(private readonly print: (line: string) => void = (line) => process.stdout.write(line + '\n')) {
    super();
  }

  prepare(_conf: Readonly<TopologyConfig>, _context: TopologyContext, collector: OutputCollector): void {
    this.collector = collector;
  }

  execute(input: Tuple): void {
    if (TupleUtils.isTick(input)) {
      if (this.words > 0) this.print(`scored ${this.words} words, mean sentiment ${(this.total / this.words).toFixed(3)}`);
    } else {
      this.words++;
      this.total += input.getIntegerByField('score');
    }
    this.collector.ack(input);
  }

  getComponentConfiguration(): TopologyConfig {
    return { 'topology.tick.tuple.freq.secs': 2 };
  }
}

export interface AsyncLookupOptions {
  /** Sentences to emit in all (default: no end). */
  limit?: number;
  /** Lookups in flight per score task (topology.bolt.max.inflight). */
  maxInflight?: number;
  tally?: () => Tally;
}

export function buildAsyncLookup(options: AsyncLookupOptions = {}): TopologyBuilder {
  const builder = new TopologyBuilder();
  builder.setSpout('sentences', () => new SentenceSpout(undefined, options.limit), 1);
  builder.setBolt('split', SplitSentence, 1).shuffleGrouping('sentences');
  builder.setBolt('score', ScoreWords, 2).shuffleGrouping('split').setMaxInflight(options.maxInflight ?? 500);
  builder.setBolt('tally', options.tally ?? (() => new Tally()), 1).globalGrouping('score');
  builder.addConfiguration('topology.max.spout.pending', 1000);
  return builder;
}

export default function asyncLookup(): TopologyBuilder {
  return buildAsyncLookup();
}
