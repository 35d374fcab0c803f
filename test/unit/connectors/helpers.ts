/**
 * Drives a connector spout or sink without a worker: a collector that records, a minimal
 * TopologyContext, a ManualClock, and a way to let the spout's async loops run.
 */
import { ManualClock } from '../../../common/clock';
import { BrokerSpout, type BrokerSpoutOptions, type Scheme, type SourceAdapter, type SourceMessage } from '../../../connectors/core';
import { Fields, TupleImpl, type OutputCollector, type SpoutOutputCollector, type TopologyContext, type Tuple } from '../../../topology-api';
import { UserMetricsRegistry } from '../../../worker/user-metrics';

export interface Emitted {
  values: unknown[];
  msgId: unknown;
  stream: string;
}

export class RecordingSpoutCollector implements SpoutOutputCollector {
  readonly emitted: Emitted[] = [];
  readonly errors: unknown[] = [];
  emit(values: unknown[], messageId?: unknown, streamId?: string): number[] {
    this.emitted.push({ values, msgId: messageId ?? null, stream: streamId ?? 'default' });
    return [1];
  }
  emitDirect(): void {
    throw new Error('not used');
  }
  reportError(error: unknown): void {
    this.errors.push(error);
  }
  getPendingCount(): number {
    return 0;
  }
  codes(): string[] {
    return this.errors.map((e) => (e as { code?: string }).code ?? 'none');
  }
}

export class RecordingBoltCollector implements OutputCollector {
  readonly acked: Tuple[] = [];
  readonly failed: Tuple[] = [];
  readonly errors: unknown[] = [];
  emit(): number[] {
    return [];
  }
  emitDirect(): void {}
  ack(input: Tuple): void {
    this.acked.push(input);
  }
  fail(input: Tuple): void {
    this.failed.push(input);
  }
  resetTimeout(): void {}
  reportError(error: unknown): void {
    this.errors.push(error);
  }
  codes(): string[] {
    return this.errors.map((e) => (e as { code?: string }).code ?? 'none');
  }
}

export function fakeContext(taskIndex = 0, tasks = 1, component = 'spout'): TopologyContext {
  const ids = Array.from({ length: tasks }, (_, i) => i + 1);
  return {
    getStormId: () => 'test-1',
    getThisComponentId: () => component,
    getThisTaskId: () => taskIndex + 1,
    getThisTaskIndex: () => taskIndex,
    getThisWorkerPort: () => 6700,
    getThisWorkerTasks: () => ids,
    getComponentId: () => component,
    getComponentTasks: () => ids,
    getComponentIds: () => [component],
    getThisStreams: () => ['default'],
    getThisOutputFields: () => new Fields([]),
    getComponentOutputFields: () => new Fields([]),
    getThisSources: () => ({}),
    getThisTargets: () => ({}),
    getThisComponentConfig: () => ({}),
    // User metrics count into a throwaway registry (worker/user-metrics.ts).
    ...new UserMetricsRegistry().forTask(taskIndex + 1),
  };
}

/** Lets promise continuations and setImmediate callbacks run (the spout's loops), `rounds` times. */
export async function settle(rounds = 5): Promise<void> {
  for (let i = 0; i < rounds; i++) await new Promise<void>((r) => setImmediate(r));
}

/** Advances the manual clock in steps, letting the async loops run between steps. */
export async function advance(clock: ManualClock, ms: number, stepMs = 10): Promise<void> {
  for (let t = 0; t < ms; t += stepMs) {
    clock.advance(Math.min(stepMs, ms - t));
    await settle(2);
  }
}

export function tuple(values: unknown[], fields: string[], component = 'src', stream = 'default'): TupleImpl {
  return new TupleImpl(values, new Fields(fields), component, 1, stream, 0, 0, 0, null);
}

export function tickTuple(): TupleImpl {
  return new TupleImpl([1], new Fields(['rate_secs']), '__system', -1, '__tick', 0, 0, 0, null);
}

/** A BrokerSpout over the adapter under test, decoding with `scheme`; errors name the adapter's system. */
export class AdapterSpout<M extends SourceMessage> extends BrokerSpout<M> {
  protected readonly system: string;
  constructor(
    private readonly source: SourceAdapter<M>,
    options: BrokerSpoutOptions,
    private readonly decodeWith: Scheme,
  ) {
    super(options);
    this.system = source.system;
  }
  protected createAdapter(): SourceAdapter<M> {
    return this.source;
  }
  protected defaultScheme(): Scheme {
    return this.decodeWith;
  }
}

/** A message of a single-partition fake broker: payload `{"n": offset}`. */
export interface NumberedMessage extends SourceMessage {
  readonly offset: number;
}

/** Up to `max` numbered messages from offset `from`, none at or past `total`. */
export function numberedMessages(from: number, total: number, max: number): NumberedMessage[] {
  const out: NumberedMessage[] = [];
  for (let n = from; n < total && out.length < max; n++) out.push({ partition: 'p', offset: n, payload: JSON.stringify({ n }), deliveries: 1 });
  return out;
}
