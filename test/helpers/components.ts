import {
  BaseRichBolt,
  BaseRichSpout,
  type OutputCollector,
  type OutputFieldsDeclarer,
  type SpoutOutputCollector,
  type TopologyConfig,
  type TopologyContext,
  type Tuple,
} from '../../topology-api';

/** What a spout saw, shared with the test through the factory closure. */
export class SpoutLedger {
  emitted: unknown[] = [];
  acked: unknown[] = [];
  failed: unknown[] = [];
  nextTupleCalls = 0;
  maxPending = 0;
  activations = 0;
  deactivations = 0;
  closed = 0;
}

/**
 * Emits `values` (one tuple each, message id = index) and then nothing; replays failed ones when
 * `replay` is set. Records everything in `ledger`.
 */
export class ListSpout extends BaseRichSpout {
  private collector!: SpoutOutputCollector;
  private next = 0;
  private readonly retry: number[] = [];

  constructor(
    private readonly values: unknown[][],
    private readonly ledger: SpoutLedger,
    private readonly opts: { fields?: string[]; replay?: boolean; tracked?: boolean; stream?: string } = {},
  ) {
    super();
  }
  open(_c: Readonly<TopologyConfig>, _ctx: TopologyContext, collector: SpoutOutputCollector): void {
    this.collector = collector;
  }
  nextTuple(): void {
    this.ledger.nextTupleCalls++;
    const id = this.retry.length > 0 ? this.retry.shift()! : this.next < this.values.length ? this.next++ : undefined;
    if (id === undefined) return;
    this.ledger.emitted.push(id);
    this.collector.emit(this.values[id], this.opts.tracked === false ? undefined : id, this.opts.stream);
    this.ledger.maxPending = Math.max(this.ledger.maxPending, this.collector.getPendingCount());
  }
  ack(id: unknown): void {
    this.ledger.acked.push(id);
  }
  fail(id: unknown): void {
    this.ledger.failed.push(id);
    if (this.opts.replay) this.retry.push(id as number);
  }
  activate(): void {
    this.ledger.activations++;
  }
  deactivate(): void {
    this.ledger.deactivations++;
  }
  close(): void {
    this.ledger.closed++;
  }
  declareOutputFields(d: OutputFieldsDeclarer): void {
    if (this.opts.stream) d.declareStream(this.opts.stream, this.opts.fields ?? ['value']);
    else d.declare(this.opts.fields ?? ['value']);
  }
}

export interface Seen {
  task: number;
  values: unknown[];
  stream: string;
  source: string;
}

/** Records every tuple with the task that got it; acks (or not) as told. */
export class RecordingBolt extends BaseRichBolt {
  private collector!: OutputCollector;
  private task = 0;
  constructor(
    private readonly seen: Seen[],
    private readonly mode: 'ack' | 'fail' | 'none' = 'ack',
  ) {
    super();
  }
  prepare(_c: Readonly<TopologyConfig>, ctx: TopologyContext, collector: OutputCollector): void {
    this.collector = collector;
    this.task = ctx.getThisTaskId();
  }
  execute(t: Tuple): void {
    this.seen.push({ task: this.task, values: t.getValues(), stream: t.getSourceStreamId(), source: t.getSourceComponent() });
    if (this.mode === 'ack') this.collector.ack(t);
    else if (this.mode === 'fail') this.collector.fail(t);
  }
}

/** Fails tuples whose value is in `failing` the first time it sees them; records what it saw. */
export class FlakySink extends BaseRichBolt {
  private collector!: OutputCollector;
  private readonly failedOnce = new Set<unknown>();
  constructor(
    private readonly failing: Set<unknown>,
    private readonly seen: unknown[] = [],
  ) {
    super();
  }
  prepare(_c: Readonly<TopologyConfig>, _ctx: TopologyContext, collector: OutputCollector): void {
    this.collector = collector;
  }
  execute(t: Tuple): void {
    const v = t.getValue(0);
    this.seen.push(v);
    if (this.failing.has(v) && !this.failedOnce.has(v)) {
      this.failedOnce.add(v);
      this.collector.fail(t);
    } else this.collector.ack(t);
  }
}

/** Waits (bounded, real time) until `cond` holds, polling between event-loop turns. */
export async function until(cond: () => boolean | Promise<boolean>, what: string, timeoutMs = 10_000): Promise<void> {
  const deadline = performance.now() + timeoutMs;
  while (!(await cond())) {
    if (performance.now() > deadline) throw new Error(`timed out after ${timeoutMs} ms waiting for: ${what}`);
    await new Promise((r) => setTimeout(r, 1));
  }
}

/** Lets the runtime's loop run a few turns. */
export async function turns(n = 5): Promise<void> {
  for (let i = 0; i < n; i++) await new Promise((r) => setImmediate(r));
}

/** Numbers (or anything) sorted numerically, for comparing sets of message ids. */
export function sorted(values: readonly unknown[]): number[] {
  return [...values].map(Number).sort((a, b) => a - b);
}
