import {
  BaseRichBolt,
  BaseRichSpout,
  BaseWindowedBolt,
  TopologyBuilder,
  type OutputCollector,
  type OutputFieldsDeclarer,
  type SpoutOutputCollector,
  type TopologyConfig,
  type TopologyContext,
  type Tuple,
  type TupleWindow,
  type WindowInfo,
} from '../../../topology-api';
import { ManualClock } from '../../../common/clock';
import { Random } from '../../../common/random';
import { LocalCluster } from '../../../local/local-cluster';
import type { WorkerRuntime } from '../../../worker/runtime';
import { SpoutLedger, turns, until } from '../../helpers/components';

export { SpoutLedger, turns, until };

/** What a windowed bolt saw: one entry per fired window. */
export interface Fired {
  task: number;
  key: unknown;
  values: unknown[];
  fresh: unknown[];
  expired: unknown[];
  start: number | null;
  end: number;
  update: boolean;
}

/** Records every window (first field of each tuple) and emits its size, anchored to the window. */
export class RecordingWindowBolt extends BaseWindowedBolt {
  private collector!: OutputCollector;
  private task = 0;
  constructor(
    private readonly fired: Fired[],
    private readonly field = 0,
  ) {
    super();
  }
  prepare(_c: Readonly<TopologyConfig>, ctx: TopologyContext, collector: OutputCollector): void {
    this.collector = collector;
    this.task = ctx.getThisTaskId();
  }
  execute(w: TupleWindow): void {
    const pick = (ts: Tuple[]): unknown[] => ts.map((t) => t.getValue(this.field));
    this.fired.push({
      task: this.task,
      key: w.getKey(),
      values: pick(w.get()),
      fresh: pick(w.getNew()),
      expired: pick(w.getExpired()),
      start: w.getStartTimestamp(),
      end: w.getEndTimestamp(),
      update: w.isUpdate(),
    });
    this.collector.emit([w.get().length]);
  }
  declareOutputFields(d: OutputFieldsDeclarer): void {
    d.declare(['size']);
  }
}

export interface Result {
  key: unknown;
  result: unknown;
  start: number | null;
  end: number;
  update: boolean;
}

/** Incremental aggregation: records each (key, result) and emits it. */
export class RecordingAggregateBolt extends BaseWindowedBolt {
  private collector!: OutputCollector;
  constructor(private readonly results: Result[]) {
    super();
  }
  prepare(_c: Readonly<TopologyConfig>, _ctx: TopologyContext, collector: OutputCollector): void {
    this.collector = collector;
  }
  executeAggregate(key: unknown, result: unknown, w: WindowInfo): void {
    this.results.push({ key, result, start: w.getStartTimestamp(), end: w.getEndTimestamp(), update: w.isUpdate() });
    this.collector.emit([key, result]);
  }
  declareOutputFields(d: OutputFieldsDeclarer): void {
    d.declare(['key', 'result']);
  }
}

/**
 * Emits its tuples only when told: `release(n)` lets the next n out (one per nextTuple call), so a
 * test decides what has arrived before it moves the clock.
 */
export class GatedSpout extends BaseRichSpout {
  private collector!: SpoutOutputCollector;
  private next = 0;
  private readonly retry: number[] = [];
  constructor(
    private readonly tuples: unknown[][],
    private readonly gate: { open: number },
    private readonly ledger: SpoutLedger,
    private readonly fields: string[] = ['value'],
    private readonly replay = false,
  ) {
    super();
  }
  open(_c: Readonly<TopologyConfig>, _ctx: TopologyContext, collector: SpoutOutputCollector): void {
    this.collector = collector;
  }
  nextTuple(): void {
    const id = this.retry.length > 0 ? this.retry.shift()! : this.next < Math.min(this.gate.open, this.tuples.length) ? this.next++ : undefined;
    if (id === undefined) return;
    this.ledger.emitted.push(id);
    this.collector.emit(this.tuples[id], id);
  }
  ack(id: unknown): void {
    this.ledger.acked.push(id);
  }
  fail(id: unknown): void {
    this.ledger.failed.push(id);
    if (this.replay) this.retry.push(id as number);
  }
  declareOutputFields(d: OutputFieldsDeclarer): void {
    d.declare(this.fields);
  }
}

/** Collects what a bolt downstream of the windowed one receives. */
export class Collect extends BaseRichBolt {
  private collector!: OutputCollector;
  constructor(private readonly into: unknown[][]) {
    super();
  }
  prepare(_c: Readonly<TopologyConfig>, _ctx: TopologyContext, collector: OutputCollector): void {
    this.collector = collector;
  }
  execute(t: Tuple): void {
    this.into.push(t.getValues());
    this.collector.ack(t);
  }
}

/** A LocalCluster on a manual clock, with the topology submitted as "t". */
export async function run(
  build: (b: TopologyBuilder) => void,
  conf: TopologyConfig = {},
  opts: { seed?: number; clock?: ManualClock } = {},
): Promise<{ cluster: LocalCluster; clock: ManualClock; runtimes: () => Promise<WorkerRuntime[]> }> {
  const clock = opts.clock ?? new ManualClock();
  const cluster = new LocalCluster({ clock, seed: opts.seed ?? 7 });
  const b = new TopologyBuilder();
  build(b);
  await cluster.submitTopology('t', conf, b);
  return { cluster, clock, runtimes: () => cluster.workerRuntimes('t') };
}

/** Data tuples a component's executors have executed, over every worker. */
export async function executed(cluster: LocalCluster, component: string): Promise<number> {
  let n = 0;
  for (const r of await cluster.workerRuntimes('t')) {
    for (const s of r.stats()) if (s.component === component) for (const v of Object.values(s.executed)) n += v;
  }
  return n;
}

/** Waits until `component` has executed `n` data tuples. */
export async function executedAll(cluster: LocalCluster, component: string, n: number): Promise<void> {
  await until(async () => (await executed(cluster, component)) >= n, `${component} executed ${n} tuples`);
}

/** Window stats of a component, summed over workers. */
export async function windowStats(cluster: LocalCluster, component: string): Promise<{ open: number; buffered: number; watermarkMs: number | null; late: number; lateDropped: number }> {
  const out = { open: 0, buffered: 0, watermarkMs: null as number | null, late: 0, lateDropped: 0 };
  for (const r of await cluster.workerRuntimes('t')) {
    for (const s of r.stats()) {
      if (s.component !== component || s.windows === undefined) continue;
      out.open += s.windows.open;
      out.buffered += s.windows.buffered;
      out.late += s.windows.late;
      out.lateDropped += s.windows.lateDropped;
      if (s.windows.watermarkMs !== null) out.watermarkMs = out.watermarkMs === null ? s.windows.watermarkMs : Math.min(out.watermarkMs, s.windows.watermarkMs);
    }
  }
  return out;
}

/** A GatedSpout per task: task index i emits `lists[i]` as far as `gates[i]` allows. */
export class TaskGatedSpout extends BaseRichSpout {
  private inner: GatedSpout | null = null;
  constructor(
    private readonly lists: unknown[][][],
    private readonly gates: Array<{ open: number }>,
    private readonly ledgers: SpoutLedger[],
    private readonly fields: string[],
  ) {
    super();
  }
  open(c: Readonly<TopologyConfig>, ctx: TopologyContext, collector: SpoutOutputCollector): void {
    const i = ctx.getThisTaskIndex();
    this.inner = new GatedSpout(this.lists[i], this.gates[i], this.ledgers[i], this.fields);
    this.inner.open(c, ctx, collector);
  }
  nextTuple(): void {
    this.inner!.nextTuple();
  }
  ack(id: unknown): void {
    this.inner!.ack(id);
  }
  fail(id: unknown): void {
    this.inner!.fail(id);
  }
  declareOutputFields(d: OutputFieldsDeclarer): void {
    d.declare(this.fields);
  }
}

/** A seeded shuffle, for out-of-order input that is the same every run. */
export function seededShuffle<T>(items: readonly T[], seed: number): T[] {
  return new Random(seed).shuffle([...items]);
}
