import {
  BaseRichBolt,
  Config,
  TupleUtils,
  type OutputCollector,
  type SquallError,
  type TopologyConfig,
  type TopologyContext,
  type Tuple,
} from '../../topology-api';
import { Backoff, type BackoffOptions } from './backoff';
import { checkOptions, connectorError, intOption, isConnectorError, messageOf } from './errors';
import type { Operation } from './source';
import { Pauses, SYSTEM_CLOCK, type ConnectorClock, type Rng } from './timing';

/** What a sink adapter implements: one round trip per batch. */
export interface SinkWriter<I> {
  readonly system: string;
  /** (Re)connects, replacing any previous connection. */
  connect(): Promise<void>;
  /** Writes a batch; resolves only when the system confirmed it (the inputs are then acked). */
  write(items: readonly I[]): Promise<void>;
  classify(err: unknown, during: Operation): SquallError;
  /** Closes every connection; idempotent. */
  close(): Promise<void>;
}

export interface BatchingSinkOptions {
  /** A batch is written when it holds this many inputs. Default 500. */
  batchSize?: number;
  /** ... or this long after its first input arrived. Default 20 ms. */
  flushIntervalMs?: number;
  /** Attempts per batch (reconnecting with backoff in between) before its inputs are failed. Default 5. */
  writeAttempts?: number;
  /** Delay between attempts and reconnects: capped, jittered exponential. Default 50 ms to 2 s. */
  reconnectBackoff?: BackoffOptions;
  clock?: ConnectorClock;
  random?: Rng;
}

export interface SinkCounters {
  /** Inputs written and acked. */
  written: number;
  batches: number;
  /** Inputs failed (write attempts exhausted, or the input could not be turned into a write). */
  failed: number;
  retries: number;
  connects: number;
  errors: number;
}

/** The async bolts' in-flight limit; read so a batch can always fill up. */
const MAX_INFLIGHT_KEY = Config.TOPOLOGY_BOLT_MAX_INFLIGHT;

/** One batch: the items, their inputs, and the one promise every input of it returned from execute. */
class Batch<I> {
  readonly items: I[] = [];
  readonly inputs: Tuple[] = [];
  readonly settled: Promise<void>;
  settle!: () => void;
  constructor() {
    this.settled = new Promise<void>((resolve) => (this.settle = resolve));
  }
}

/**
 * The shared sink core: an async bolt that batches writes. Each input goes into the open batch and
 * `execute` returns that batch's promise (one promise per batch, not per tuple), so the async
 * runtime counts the input as in flight until its write is confirmed, and its in-flight limit
 * (`topology.bolt.max.inflight`) parks the task when the system is slow: backpressure reaches the
 * spouts and memory stays bounded.
 *
 * A batch is written when it reaches `batchSize` (capped at the in-flight limit, so it always can),
 * `flushIntervalMs` after its first input, or on a tick tuple; one batch is written at a time, in
 * order. Inputs are acked only after the system confirmed the write; when a write fails, the sink
 * reports the coded error (it shows in REST), reconnects with capped, jittered backoff and tries
 * again up to `writeAttempts` times, then fails the batch's inputs so the spouts replay them.
 */
export abstract class BatchingSinkBolt<I, O extends BatchingSinkOptions = BatchingSinkOptions> extends BaseRichBolt {
  protected abstract readonly system: string;
  /** Builds the writer for this task (in `prepare`). */
  protected abstract createWriter(conf: Readonly<TopologyConfig>, context: TopologyContext): SinkWriter<I>;
  /** Turns an input into a write; throw for an input that cannot be written (it is failed and reported). */
  protected abstract toItem(input: Tuple): I;

  private collector!: OutputCollector;
  private writer: SinkWriter<I> | null = null;
  private clock: ConnectorClock = SYSTEM_CLOCK;
  private pauses!: Pauses;
  private backoff!: Backoff;
  private batchSizeN = 500;
  private flushMs = 20;
  private attemptsN = 5;
  private open: Batch<I> | null = null;
  private readonly ready: Batch<I>[] = [];
  private writing = false;
  private connected = false;
  private closed = false;
  private timer: unknown = null;
  private lastProblem: SquallError | null = null;
  private idleWaiters: Array<() => void> = [];

  readonly counters: SinkCounters = { written: 0, batches: 0, failed: 0, retries: 0, connects: 0, errors: 0 };

  constructor(protected readonly options: O) {
    super();
  }

  prepare(conf: Readonly<TopologyConfig>, context: TopologyContext, collector: OutputCollector): void {
    const o = this.options;
    this.collector = collector;
    this.clock = o.clock ?? SYSTEM_CLOCK;
    this.pauses = new Pauses(this.clock);
    this.backoff = new Backoff(o.reconnectBackoff ?? { initialMs: 50, maxMs: 2000 }, o.random ?? Math.random);
    const inflight = conf[MAX_INFLIGHT_KEY];
    this.batchSizeN = Math.min(o.batchSize ?? 500, typeof inflight === 'number' ? inflight : Infinity);
    this.flushMs = o.flushIntervalMs ?? 20;
    this.attemptsN = o.writeAttempts ?? 5;
    this.writer = this.createWriter(conf, context);
  }

  /**
   * Room for two full batches in flight (one being written, one filling) by default; the
   * component's own `setMaxInflight` / addConfiguration overrides it.
   */
  getComponentConfiguration(): TopologyConfig {
    return { [MAX_INFLIGHT_KEY]: 2 * (this.options.batchSize ?? 500) };
  }

  execute(input: Tuple): void | Promise<void> {
    if (TupleUtils.isTick(input)) {
      this.flush();
      this.collector.ack(input);
      return;
    }
    let item: I;
    try {
      item = this.toItem(input);
    } catch (err) {
      this.report(isConnectorError(err) ? err : connectorError('ERR_CONNECTOR_DECODE', this.system, `cannot write tuple ${input.getSourceComponent()}:${input.getSourceStreamId()}: ${messageOf(err)}`, err));
      this.counters.failed++;
      this.collector.fail(input);
      return;
    }
    let batch = this.open;
    if (batch === null) {
      batch = new Batch<I>();
      this.open = batch;
      this.timer = this.clock.setTimeout(() => {
        this.timer = null;
        this.flush();
      }, this.flushMs);
    }
    batch.items.push(item);
    batch.inputs.push(input);
    if (batch.items.length >= this.batchSizeN) this.flush();
    return batch.settled;
  }

  /** Closes the open batch and starts writing it (tick tuples, the timer, a full batch, cleanup). */
  flush(): void {
    if (this.timer !== null) {
      this.clock.clear(this.timer);
      this.timer = null;
    }
    const batch = this.open;
    if (batch !== null) {
      this.open = null;
      this.ready.push(batch);
    }
    if (!this.writing && this.ready.length > 0) void this.writeLoop();
  }

  private async writeLoop(): Promise<void> {
    this.writing = true;
    const writer = this.writer!;
    try {
      while (this.ready.length > 0) {
        const batch = this.ready[0];
        let ok = false;
        for (let attempt = 0; attempt < this.attemptsN && !ok; attempt++) {
          if (attempt > 0) {
            this.counters.retries++;
            await this.pauses.wait(this.backoff.next());
          }
          try {
            if (!this.connected) {
              await writer.connect();
              this.connected = true;
              this.counters.connects++;
            }
            await writer.write(batch.items);
            ok = true;
          } catch (err) {
            this.connected = false;
            this.report(isConnectorError(err) ? err : writer.classify(err, 'write'));
          }
        }
        this.ready.shift();
        const inputs = batch.inputs;
        if (ok) {
          this.backoff.reset();
          this.counters.batches++;
          this.counters.written += inputs.length;
          for (let i = 0; i < inputs.length; i++) this.collector.ack(inputs[i]);
        } else {
          this.counters.failed += inputs.length;
          for (let i = 0; i < inputs.length; i++) this.collector.fail(inputs[i]);
        }
        // resolved, never rejected: the inputs are acked or failed here, once each
        batch.settle();
      }
    } finally {
      this.writing = false;
      const waiters = this.idleWaiters;
      this.idleWaiters = [];
      for (const w of waiters) w();
    }
  }

  /** Resolves when every batch so far is written (or failed): tests, checkpoint barriers, cleanup. */
  drained(): Promise<void> {
    this.flush();
    if (!this.writing) return Promise.resolve();
    return new Promise((resolve) => this.idleWaiters.push(resolve));
  }


  protected report(err: SquallError): void {
    this.counters.errors++;
    this.lastProblem = err;
    this.collector.reportError(err);
  }

  lastError(): SquallError | null {
    return this.lastProblem;
  }

  /** Writes what is buffered (one more round of attempts at most), then closes the connection. */
  cleanup(): Promise<void> {
    if (this.closed) return Promise.resolve();
    const writer = this.writer;
    // closed: retries no longer wait out their backoff, so this ends within the attempts' time
    this.closed = true;
    this.pauses?.cutAll();
    return this.drained().then(() => writer?.close().catch(() => undefined));
  }
}

/** Checks the options every batching sink shares; throws ERR_CONNECTOR_CONFIG listing each problem. */
export function checkSinkOptions(system: string, o: BatchingSinkOptions, more: readonly (string | undefined | false)[] = []): void {
  checkOptions(system, [intOption('batchSize', o.batchSize, 1), intOption('flushIntervalMs', o.flushIntervalMs, 0), intOption('writeAttempts', o.writeAttempts, 1), ...more]);
}
