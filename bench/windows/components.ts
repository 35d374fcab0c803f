/**
 * Components of the windowing benchmarks. Parameters come from topology configuration (read in
 * open/prepare), as in bench/components.ts, so the same bundle runs in-process and in workers:
 * - `bench.keys`: distinct keys (default 10,000);
 * - `bench.window.count`: tuples per tumbling count window (default 100,000);
 * - `bench.event.step.us`: event time advanced per emitted tuple, in µs (event-time spout);
 * - `bench.rate`: tuples/s of the wall-clock spout (latency scenario);
 * - `bench.window.latency.file`: where the windowed bolt writes its latency histogram.
 */
import * as fs from 'node:fs';
import {
  Aggregates,
  BaseRichSpout,
  BaseWindowedBolt,
  Count,
  Duration,
  TopologyBuilder,
  type OutputFieldsDeclarer,
  type SpoutOutputCollector,
  type TopologyConfig,
  type TopologyContext,
  type WindowInfo,
} from '../../topology-api';
import { Histogram } from '../../common/histogram';
import { Random } from '../../common/random';

export const BENCH_KEYS = 'bench.keys';
export const BENCH_WINDOW_COUNT = 'bench.window.count';
export const BENCH_EVENT_STEP_US = 'bench.event.step.us';
export const BENCH_LATENCY_FILE = 'bench.window.latency.file';
export const BENCH_RATE = 'bench.rate';

const num = (conf: Readonly<TopologyConfig>, key: string, dflt: number): number => (typeof conf[key] === 'number' ? (conf[key] as number) : dflt);

/** The keys, and a seeded sequence of key indexes the spouts cycle through (the same in every run). */
export function keySequence(keys: number, length = 1 << 16): { names: string[]; order: Int32Array } {
  const names = Array.from({ length: keys }, (_, i) => `key-${i}`);
  const r = new Random(42);
  const order = new Int32Array(length);
  for (let i = 0; i < length; i++) order[i] = r.nextInt(keys);
  return { names, order };
}

/**
 * Emits [key, value] over `bench.keys` keys (seeded order), as fast as allowed; with message ids
 * when acking is on.
 */
export class KeyedSpout extends BaseRichSpout {
  protected collector!: SpoutOutputCollector;
  protected names: string[] = [];
  protected order: Int32Array = new Int32Array(0);
  protected n = 0;
  protected tracked = false;
  open(conf: Readonly<TopologyConfig>, _x: TopologyContext, collector: SpoutOutputCollector): void {
    this.collector = collector;
    this.tracked = conf['topology.acker.executors'] !== 0;
    const seq = keySequence(num(conf, BENCH_KEYS, 10_000));
    this.names = seq.names;
    this.order = seq.order;
  }
  nextTuple(): void {
    const i = this.n++;
    const values = [this.names[this.order[i & (this.order.length - 1)]], 1];
    if (this.tracked) this.collector.emit(values, i);
    else this.collector.emit(values);
  }
  declareOutputFields(d: OutputFieldsDeclarer): void {
    d.declare(['key', 'value']);
  }
}

/**
 * Emits [key, value, ts] like KeyedSpout, with an event time `ts` that advances
 * `bench.event.step.us` per tuple: simulated time, so a long event-time run takes a few seconds.
 */
export class KeyedEventSpout extends KeyedSpout {
  private stepUs = 10;
  open(conf: Readonly<TopologyConfig>, x: TopologyContext, collector: SpoutOutputCollector): void {
    super.open(conf, x, collector);
    this.stepUs = num(conf, BENCH_EVENT_STEP_US, 10);
  }
  nextTuple(): void {
    const i = this.n++;
    const values = [this.names[this.order[i & (this.order.length - 1)]], 1, Math.floor((i * this.stepUs) / 1000)];
    if (this.tracked) this.collector.emit(values, i);
    else this.collector.emit(values);
  }
  declareOutputFields(d: OutputFieldsDeclarer): void {
    d.declare(['key', 'value', 'ts']);
  }
}

/**
 * Emits [key, value, ts] at `bench.rate` tuples/s with ts = the wall clock (Date.now()), over
 * `bench.keys` keys: event time that tracks real time, for window-end → result latency.
 */
export class WallClockSpout extends BaseRichSpout {
  private collector!: SpoutOutputCollector;
  private names: string[] = [];
  private order: Int32Array = new Int32Array(0);
  private n = 0;
  private startMs = 0;
  private ratePerMs = 0;
  private tracked = false;
  open(conf: Readonly<TopologyConfig>, _x: TopologyContext, collector: SpoutOutputCollector): void {
    this.collector = collector;
    this.tracked = conf['topology.acker.executors'] !== 0;
    const seq = keySequence(num(conf, BENCH_KEYS, 100));
    this.names = seq.names;
    this.order = seq.order;
    this.ratePerMs = num(conf, BENCH_RATE, 50_000) / 1000;
  }
  activate(): void {
    this.startMs = performance.now();
    this.n = 0;
  }
  nextTuple(): void {
    if (this.n >= (performance.now() - this.startMs) * this.ratePerMs) return;
    const i = this.n++;
    const values = [this.names[this.order[i & (this.order.length - 1)]], 1, Date.now()];
    if (this.tracked) this.collector.emit(values, i);
    else this.collector.emit(values);
  }
  declareOutputFields(d: OutputFieldsDeclarer): void {
    d.declare(['key', 'value', 'ts']);
  }
}

/** Keyed incremental sum; counts its results (nothing downstream: the figure is the windowing's). */
export class KeyedSum extends BaseWindowedBolt {
  results = 0;
  total = 0;
  executeAggregate(_key: unknown, result: unknown, _w: WindowInfo): void {
    this.results++;
    this.total += result as number;
  }
}

/** Keyed incremental sum that records, per result, the time from its window's end to now (wall clock). */
export class LatencySum extends BaseWindowedBolt {
  private readonly hist = new Histogram();
  private file: string | null = null;
  private lastWrite = 0;
  prepare(conf: Readonly<TopologyConfig>): void {
    const f = conf[BENCH_LATENCY_FILE];
    this.file = typeof f === 'string' && f.length > 0 ? f : null;
  }
  executeAggregate(_key: unknown, _result: unknown, w: WindowInfo): void {
    const now = Date.now();
    this.hist.recordMs(Math.max(0, now - w.getEndTimestamp()));
    if (this.file !== null && now - this.lastWrite >= 200) {
      this.lastWrite = now;
      fs.writeFileSync(this.file, JSON.stringify(this.hist.toSparse()));
    }
  }
}

export type WindowBench = 'count-agg' | 'sliding-event' | 'latency';

/** The windowing benchmark topologies. */
export function windowTopology(name: WindowBench, conf: TopologyConfig = {}): TopologyBuilder {
  const b = new TopologyBuilder();
  switch (name) {
    case 'count-agg':
      b.setSpout('spout', KeyedSpout, 1);
      b.setBolt('window', () => new KeyedSum().withTumblingWindow(Count.of(num(conf, BENCH_WINDOW_COUNT, 100_000))).withKeyField('key').withAggregate(Aggregates.sum('value')), 1).fieldsGrouping('spout', ['key']);
      break;
    case 'sliding-event':
      b.setSpout('spout', KeyedEventSpout, 1);
      b.setBolt('window', () => new KeyedSum().withWindow(Duration.seconds(60), Duration.seconds(1)).withTimestampField('ts').withKeyField('key').withAggregate(Aggregates.sum('value')), 1).fieldsGrouping(
        'spout',
        ['key'],
      );
      break;
    case 'latency':
      b.setSpout('spout', WallClockSpout, 1);
      b.setBolt('window', () => new LatencySum().withTumblingWindow(Duration.seconds(1)).withTimestampField('ts').withLag(Duration.of(100)).withKeyField('key').withAggregate(Aggregates.sum('value')), 1).fieldsGrouping(
        'spout',
        ['key'],
      );
      break;
  }
  return b;
}

/**
 * The physical limit of the count-window figure: the same aggregation as one hand-written loop
 * (the spout's key sequence, a Map of sums per key, every `window` tuples each key's sum handed to
 * a function and the map cleared). Returns tuples/s.
 */
export function handWrittenWindowedSum(durationMs: number, keys = 10_000, window = 100_000): number {
  const { names, order } = keySequence(keys);
  const sums = new Map<string, number>();
  let sink = 0;
  const emit = (_k: string, v: number): void => {
    sink += v;
  };
  let n = 0;
  let inWindow = 0;
  const deadline = performance.now() + durationMs;
  while (performance.now() < deadline) {
    for (let k = 0; k < 10_000; k++) {
      const key = names[order[n++ & (order.length - 1)]];
      sums.set(key, (sums.get(key) ?? 0) + 1);
      if (++inWindow === window) {
        for (const [kk, v] of sums) emit(kk, v);
        sums.clear();
        inWindow = 0;
      }
    }
  }
  if (sink < 0) throw new Error('unreachable');
  return (n / durationMs) * 1000;
}
