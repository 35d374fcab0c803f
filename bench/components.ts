/**
 * Components of the benchmark topologies, shaped like Storm's storm-perf (ConstSpout, IdBolt,
 * DevNullBolt) and ThroughputVsLatency (a rate-limited sentence spout, split, count).
 *
 * Parameters come from topology configuration keys read in open()/prepare(), never from the
 * environment: the same bundle runs in Nimbus's probe, in worker processes and in-process.
 * - spouts emit with message ids exactly when acking is on (`topology.acker.executors` ≠ 0);
 * - `bench.rate`: sentences/s of the sentence spout, over all its tasks (0 = as fast as allowed);
 * - `bench.slow.us`: CPU time the slow bolt burns per tuple;
 * - `bench.report.file`: where a spout writes the wall time of its first ack (startup figure);
 * - `bench.io.ms`: latency of the async bolt's simulated I/O (default 1).
 */
import * as fs from 'node:fs';
import {
  BaseBasicBolt,
  BaseRichBolt,
  BaseRichSpout,
  TopologyBuilder,
  type BasicOutputCollector,
  type OutputCollector,
  type OutputFieldsDeclarer,
  type SpoutOutputCollector,
  type TopologyConfig,
  type TopologyContext,
  type Tuple,
} from '../topology-api';

export const BENCH_RATE = 'bench.rate';
export const BENCH_SLOW_US = 'bench.slow.us';
export const BENCH_REPORT_FILE = 'bench.report.file';
export const BENCH_IO_MS = 'bench.io.ms';
/** `topology.max.spout.pending` of every benchmark run with acking. */
export const MAX_SPOUT_PENDING = 2000;

function ackingOn(conf: Readonly<TopologyConfig>): boolean {
  return conf['topology.acker.executors'] !== 0;
}

/** Writes the wall time of the first ack once, when the config names a file. */
class FirstAckReporter {
  private file: string | null;
  constructor(conf: Readonly<TopologyConfig>) {
    const f = conf[BENCH_REPORT_FILE];
    this.file = typeof f === 'string' && f.length > 0 ? f : null;
  }
  acked(): void {
    if (this.file === null) return;
    fs.writeFileSync(this.file, String(Date.now()));
    this.file = null;
  }
}

/** Emits the same tuple forever; with acking, each with a fresh message id (Storm's ConstSpout). */
export class ConstSpout extends BaseRichSpout {
  private collector!: SpoutOutputCollector;
  private n = 0;
  private tracked = false;
  private reporter!: FirstAckReporter;
  private readonly value: unknown[] = ['some data'];
  open(conf: Readonly<TopologyConfig>, _x: TopologyContext, collector: SpoutOutputCollector): void {
    this.collector = collector;
    this.tracked = ackingOn(conf);
    this.reporter = new FirstAckReporter(conf);
  }
  nextTuple(): void {
    if (this.tracked) this.collector.emit(this.value, this.n++);
    else this.collector.emit(this.value);
  }
  ack(): void {
    this.reporter.acked();
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
 * Sentences in a fixed cycle, optionally rate-limited (`bench.rate` sentences/s over all tasks,
 * paced against the clock at each call, so a late loop catches up rather than drifts), with
 * message ids when acking is on.
 */
export class SentenceSpout extends BaseRichSpout {
  private collector!: SpoutOutputCollector;
  private n = 0;
  /** Sentences emitted since the last activation, for pacing. */
  private paced = 0;
  private startMs = 0;
  private ratePerMs = 0;
  private tracked = false;
  private reporter!: FirstAckReporter;
  open(conf: Readonly<TopologyConfig>, ctx: TopologyContext, collector: SpoutOutputCollector): void {
    this.collector = collector;
    this.tracked = ackingOn(conf);
    this.reporter = new FirstAckReporter(conf);
    const rate = typeof conf[BENCH_RATE] === 'number' ? (conf[BENCH_RATE] as number) : 0;
    // spread the rate over the spout's tasks
    this.ratePerMs = rate / 1000 / ctx.getComponentTasks(ctx.getThisComponentId()).length;
  }
  activate(): void {
    this.startMs = performance.now();
    this.paced = 0;
  }
  nextTuple(): void {
    if (this.ratePerMs > 0 && this.paced >= (performance.now() - this.startMs) * this.ratePerMs) return;
    this.paced++;
    const id = this.n++;
    const sentence = [BENCH_SENTENCES[id % BENCH_SENTENCES.length]];
    if (this.tracked) this.collector.emit(sentence, id);
    else this.collector.emit(sentence);
  }
  ack(): void {
    this.reporter.acked();
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

/** Burns `bench.slow.us` of CPU per tuple (default 50): the deliberately slow bolt of the memory benchmark. */
export class SlowBolt extends BaseRichBolt {
  private collector!: OutputCollector;
  private workMs = 0.05;
  prepare(conf: Readonly<TopologyConfig>, _x: TopologyContext, collector: OutputCollector): void {
    this.collector = collector;
    if (typeof conf[BENCH_SLOW_US] === 'number') this.workMs = (conf[BENCH_SLOW_US] as number) / 1000;
  }
  execute(t: Tuple): void {
    const until = performance.now() + this.workMs;
    while (performance.now() < until);
    this.collector.ack(t);
  }
}

/**
 * A stand-in for the client of a remote system: each call resolves `latencyMs` after it was made.
 * Calls come due in the order they were made, and one timer resolves every call due when it fires,
 * as one socket read answers many pipelined requests; a timer per call would measure Node's timer
 * wheel, not Squall. Node's timers fire on whole milliseconds, so a 1 ms call takes 1–2 ms.
 */
export class SimulatedIo {
  private due: number[] = [];
  private resolvers: Array<() => void> = [];
  private head = 0;
  private timer: NodeJS.Timeout | null = null;
  constructor(private readonly latencyMs: number) {}

  call(): Promise<void> {
    return new Promise<void>((resolve) => {
      this.resolvers.push(resolve);
      this.due.push(performance.now() + this.latencyMs);
      if (this.timer === null) this.arm();
    });
  }

  private arm(): void {
    this.timer = setTimeout(this.fire, Math.max(0, this.due[this.head] - performance.now()));
  }

  private readonly fire = (): void => {
    this.timer = null;
    const now = performance.now();
    while (this.head < this.due.length && this.due[this.head] <= now) this.resolvers[this.head++]();
    if (this.head === this.due.length) {
      this.due = [];
      this.resolvers = [];
      this.head = 0;
    } else {
      if (this.head > 4096) {
        this.due = this.due.slice(this.head);
        this.resolvers = this.resolvers.slice(this.head);
        this.head = 0;
      }
      this.arm();
    }
  };
}

/** An enrichment through simulated I/O (`bench.io.ms` per call), the normal async bolt: awaits, then emits anchored. */
export class AsyncIoBolt extends BaseBasicBolt {
  private io!: SimulatedIo;
  prepare(conf: Readonly<TopologyConfig>): void {
    this.io = new SimulatedIo(typeof conf[BENCH_IO_MS] === 'number' ? (conf[BENCH_IO_MS] as number) : 1);
  }
  async execute(t: Tuple, collector: BasicOutputCollector): Promise<void> {
    await this.io.call();
    collector.emit(t.getValues());
  }
  declareOutputFields(d: OutputFieldsDeclarer): void {
    d.declare(['str']);
  }
}

export type BenchTopology = 'const-null' | 'const-id-null' | 'word-count' | 'slow' | 'async';

/**
 * The benchmark topologies, by name. `parallelism` applies to the bolts of word count (2 in the
 * multi-worker runs, so each worker gets a split and a count task and words cross processes);
 * spouts and the storm-perf chains have one task per component.
 */
export function benchTopology(name: BenchTopology, parallelism = 1): TopologyBuilder {
  const b = new TopologyBuilder();
  switch (name) {
    case 'const-null':
      b.setSpout('spout', ConstSpout, 1);
      b.setBolt('sink', NullBolt, 1).shuffleGrouping('spout');
      break;
    case 'const-id-null':
      b.setSpout('spout', ConstSpout, 1);
      b.setBolt('id', IdBolt, 1).shuffleGrouping('spout');
      b.setBolt('sink', NullBolt, 1).shuffleGrouping('id');
      break;
    case 'word-count':
      b.setSpout('spout', SentenceSpout, 1);
      b.setBolt('split', SplitBolt, parallelism).shuffleGrouping('spout');
      b.setBolt('count', CountBolt, parallelism).fieldsGrouping('split', ['word']);
      break;
    case 'slow':
      b.setSpout('spout', ConstSpout, 1);
      b.setBolt('sink', SlowBolt, 1).shuffleGrouping('spout');
      break;
    case 'async':
      b.setSpout('spout', ConstSpout, 1);
      b.setBolt('io', AsyncIoBolt, 1).shuffleGrouping('spout');
      b.setBolt('sink', NullBolt, 1).shuffleGrouping('io');
      break;
  }
  return b;
}
