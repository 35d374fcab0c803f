import {
  BaseRichSpout,
  Config,
  Fields,
  type OutputFieldsDeclarer,
  type SpoutOutputCollector,
  type SquallError,
  type TopologyConfig,
  type TopologyContext,
} from '../../topology-api';
import { Backoff, type BackoffOptions } from './backoff';
import { checkOptions, connectorError, intOption, isConnectorError, messageOf, oneOfOption } from './errors';
import { guaranteeOf, type Guarantee } from './guarantee';
import { OffsetTracker } from './offsets';
import { BoundedQueue, DueQueue } from './queues';
import type { Offsets, Operation, Scheme, SourceAdapter, SourceMessage } from './source';
import { Pauses, SYSTEM_CLOCK, type ConnectorClock, type Rng } from './timing';

/** The stream dead-lettered messages are emitted on (when `deadLetterStream` is on). */
export const DEAD_LETTER_STREAM = 'deadletter';
export const DEAD_LETTER_FIELDS = ['partition', 'offset', 'payload', 'error', 'failures'] as const;

/** Options every broker spout takes (each system adds its own). */
export interface BrokerSpoutOptions {
  /** Turns a message into tuple values; each system has a default. */
  scheme?: Scheme;
  /**
   * Records taken from the prefetch buffer and not yet completed (emitted and un-acked, waiting
   * to be retried, being dead-lettered). Default: `topology.max.spout.pending`, else 1000.
   */
  maxPending?: number;
  /** Capacity of the prefetch buffer the poll loop fills. Default: min(maxPending, 1000). */
  prefetch?: number;
  /** Most messages asked of the broker in one poll. Default: min(prefetch, 500). */
  pollBatch?: number;
  /**
   * After a poll that returned some messages but fewer than it asked for, wait this long before
   * the next one, so that a steady stream is read in larger batches (fewer round trips, less CPU
   * in the client and the server) at the cost of up to this much latency: Kafka's
   * `fetch.max.wait.ms` seen from the client. Default 0 (poll again at once).
   */
  pollLingerMs?: number;
  /** Failures (fails and timeouts) a message may have before it is dead-lettered. Default 10. */
  maxRetries?: number;
  /** Delay before a failed message is emitted again: capped, jittered exponential. Default 100 ms to 10 s. */
  retryBackoff?: BackoffOptions;
  /**
   * Where a failed message waits out its retry delay: `spout` (default) keeps it and emits it
   * again; `broker` hands it back to the broker (JetStream `-NAK` with the delay, AMQP
   * `basic.nack` with requeue), which delivers it again, to any task, counting the delivery.
   * Needs an adapter with `requeue` (message-acknowledging brokers only).
   */
  retryAt?: 'spout' | 'broker';
  /** Delay between reconnect attempts: capped, jittered exponential. Default 100 ms to 5 s. */
  reconnectBackoff?: BackoffOptions;
  /** Emit dead-lettered messages on the `deadletter` stream. Default true. */
  deadLetterStream?: boolean;
  /** Also hand them to the broker's own dead-letter queue, when the system has one. Default true. */
  deadLetterBroker?: boolean;
  /** Overrides `topology.processing.guarantee` for this spout. */
  guarantee?: Guarantee;
  /** Injected for tests. */
  clock?: ConnectorClock;
  random?: Rng;
}

/** What a spout has done, for tests, benchmarks and metrics. */
export interface SpoutCounters {
  received: number;
  emitted: number;
  acked: number;
  failed: number;
  retried: number;
  deadLettered: number;
  decodeFailed: number;
  brokerAcked: number;
  connects: number;
  errors: number;
}

const enum State {
  Buffered,
  Emitted,
  RetryWait,
  /** Failed too often or undecodable: to be emitted on the dead-letter stream. */
  DeadPending,
  /** Emitted on the dead-letter stream, waiting for its ack. */
  DeadEmitted,
  /** Being written to the broker's dead-letter queue. */
  DeadBroker,
  Done,
}

/** A received message while the spout holds it; also the tuple's message id. */
class MessageRecord<M extends SourceMessage> {
  state = State.Buffered;
  failures: number;
  done = false;
  values: unknown[] | null = null;
  reason = '';

  constructor(
    readonly msg: M,
    readonly epoch: number,
  ) {
    this.failures = Math.max(0, msg.deliveries - 1);
  }

  get partition(): string {
    return this.msg.partition;
  }
  get offset(): string | number {
    return this.msg.offset;
  }
}

const DEFAULT_MAX_PENDING = 1000;
const DEFAULT_MAX_RETRIES = 10;
const DEFAULT_RETRY: BackoffOptions = { initialMs: 100, maxMs: 10_000 };
const DEFAULT_RECONNECT: BackoffOptions = { initialMs: 100, maxMs: 5_000 };
/** Acknowledgements sent to the broker in one call, at most. */
const ACK_BATCH_MAX = 1000;
/** How long close() waits for an ack batch already sent to the broker. */
const CLOSE_ACK_WAIT_MS = 2000;
/** Idle wait after an empty poll of an adapter that does not block, growing to the cap. */
const IDLE_MIN_MS = 1;
const IDLE_MAX_MS = 50;
/** The poll loop is woken when the buffer falls to this fraction of its capacity. */
const REFILL_FRACTION = 0.5;
/** Messages a single nextTuple call may skip (undecodable, not dead-lettered on a stream) before returning. */
const SKIP_MAX = 64;
const EMPTY_COMMITTED: ReadonlyMap<string, string | number> = new Map();

function backoffProblems(name: string, b: BackoffOptions | undefined): (string | undefined)[] {
  if (b === undefined) return [];
  if (typeof b !== 'object' || b === null) return [`"${name}" must be { initialMs, maxMs }`];
  const num = (k: 'initialMs' | 'maxMs'): string | undefined =>
    typeof b[k] === 'number' && Number.isFinite(b[k]) && b[k] >= 0 ? undefined : `"${name}.${k}" must be a number >= 0 (got ${JSON.stringify(b[k])})`;
  return [num('initialMs'), num('maxMs'), b.maxMs < b.initialMs ? `"${name}.maxMs" must be >= "${name}.initialMs"` : undefined];
}

/**
 * A spout task's limits from its options and the topology configuration: `maxPending` (default
 * `topology.max.spout.pending`, else 1000) and the prefetch buffer (default min(maxPending, 1000)).
 * Adapters size the broker's own window from them (JetStream max_ack_pending, AMQP prefetch, MQTT
 * receive maximum): a task holds at most maxPending + prefetch messages the broker has not acknowledged.
 */
export function spoutLimits(conf: Readonly<TopologyConfig>, o: Pick<BrokerSpoutOptions, 'maxPending' | 'prefetch'>): { maxPending: number; prefetch: number } {
  const confPending = conf[Config.TOPOLOGY_MAX_SPOUT_PENDING];
  const maxPending = o.maxPending ?? (typeof confPending === 'number' ? confPending : DEFAULT_MAX_PENDING);
  return { maxPending, prefetch: o.prefetch ?? Math.min(maxPending, 1000) };
}

/** Checks the options every broker spout shares; throws ERR_CONNECTOR_CONFIG listing each problem. */
export function checkSpoutOptions(system: string, o: BrokerSpoutOptions, more: readonly (string | undefined | false)[] = []): void {
  checkOptions(system, [
    intOption('maxPending', o.maxPending, 1),
    intOption('prefetch', o.prefetch, 1),
    intOption('pollBatch', o.pollBatch, 1),
    intOption('pollLingerMs', o.pollLingerMs, 0),
    intOption('maxRetries', o.maxRetries, 0),
    ...backoffProblems('retryBackoff', o.retryBackoff),
    ...backoffProblems('reconnectBackoff', o.reconnectBackoff),
    oneOfOption('guarantee', o.guarantee, ['at-most-once', 'at-least-once', 'exactly-once']),
    oneOfOption('retryAt', o.retryAt, ['spout', 'broker']),
    o.scheme !== undefined && (typeof o.scheme?.decode !== 'function' || !Array.isArray(o.scheme.fields)) ? '"scheme" must have fields and decode()' : undefined,
    ...more,
  ]);
}

/**
 * The shared spout core. A system subclasses it and supplies an adapter; the core gives:
 *
 * - **Bounded prefetch**: an async poll loop fills a bounded buffer; `nextTuple` stays synchronous
 *   and takes from it. The loop asks the broker for at most the buffer's room and never holds more
 *   than `maxPending + prefetch` messages the broker has not acknowledged.
 * - **In-flight limit**: at most `maxPending` records out of the buffer and not completed
 *   (`topology.max.spout.pending` by default, which the executor enforces for tracked tuples too).
 * - **Acknowledgement**: a record is acknowledged at the broker (batched, off the data path) when
 *   its tuple tree completes; for offset-committing brokers only the contiguous done prefix
 *   (`OffsetTracker`, as Storm's KafkaSpout).
 * - **Retries**: a failed or timed-out tuple is emitted again after a capped, jittered exponential
 *   backoff, from the record the spout still holds (no broker round trip).
 * - **Dead letters**: after `maxRetries` failures, or at once when the scheme cannot decode it, a
 *   message goes on the `deadletter` stream (tracked) and/or the broker's dead-letter queue, is
 *   counted and reported (`ERR_CONNECTOR_DECODE`, `ERR_CONNECTOR_DEAD_LETTER`), and only then
 *   acknowledged at the broker; the spout never stalls on it.
 * - **Reconnects**: any adapter error is classified (ERR_CONNECTOR_CONNECT / _AUTH / _IO),
 *   reported through the collector (it shows in REST), and followed by a reconnect after a capped,
 *   jittered backoff. `open` never throws for an unreachable server: no crash loop.
 * - **Guarantees**: at-most-once acknowledges at the broker on receipt and emits untracked;
 *   at-least-once as above; exactly-once adds the replayable-spout contract, `offsets()` (the last
 *   emitted offset per partition) and `seek()` (resume after them; null: the configured start),
 *   when the adapter can rewind.
 */
export abstract class BrokerSpout<M extends SourceMessage, O extends BrokerSpoutOptions = BrokerSpoutOptions> extends BaseRichSpout {
  /** The system's name (errors, docs). */
  protected abstract readonly system: string;
  /** Builds the adapter for this task (in `open`; the constructor only keeps options, as tasks are copies). */
  protected abstract createAdapter(conf: Readonly<TopologyConfig>, context: TopologyContext): SourceAdapter<M>;
  /** The scheme used when the options give none. */
  protected abstract defaultScheme(): Scheme;

  private collector!: SpoutOutputCollector;
  private adapter: SourceAdapter<M> | null = null;
  private clock: ConnectorClock = SYSTEM_CLOCK;
  private pauses!: Pauses;
  private buffer!: BoundedQueue<MessageRecord<M>>;
  private readonly retries = new DueQueue<MessageRecord<M>>();
  private tracker: OffsetTracker<MessageRecord<M>> | null = null;
  private reconnect!: Backoff;
  private retry!: Backoff;
  private ackBackoff!: Backoff;
  private maxPendingN = DEFAULT_MAX_PENDING;
  private maxRetriesN = DEFAULT_MAX_RETRIES;
  private pollBatchN = 500;
  private pollLingerMs = 0;
  private guaranteeMode: Guarantee = 'at-least-once';
  private dlStream = true;
  private dlBroker = true;
  private requeueAtBroker = false;

  /** Records out of the buffer and not completed. */
  private outstanding = 0;
  /** Records received and not yet acknowledged at the broker. */
  private held = 0;
  private epoch = 0;
  private active = false;
  private closed = false;
  private connected = false;
  /** A poll is in flight (it fails by itself when the connection drops, and reports that). */
  private polling = false;
  private pendingSeek: { positions: Offsets | null } | null = null;
  private positions = new Map<string, string | number>();
  private trackPositions = false;
  private ackQueue: MessageRecord<M>[] = [];
  private committedPending = new Map<string, string | number>();
  private committing = false;
  /** The ack loop while it runs: close() lets its batch finish before sending the rest. */
  private commitRun: Promise<void> | null = null;
  private commitTimer: unknown = null;
  private readonly dlqQueue: MessageRecord<M>[] = [];
  private dlqRunning = false;
  private wakeLoop: (() => void) | null = null;
  private loopDone: Promise<void> = Promise.resolve();
  private scheme!: Scheme;
  private lastProblem: SquallError | null = null;

  readonly counters: SpoutCounters = {
    received: 0,
    emitted: 0,
    acked: 0,
    failed: 0,
    retried: 0,
    deadLettered: 0,
    decodeFailed: 0,
    brokerAcked: 0,
    connects: 0,
    errors: 0,
  };

  constructor(protected readonly options: O) {
    super();
  }

  // ---- lifecycle ------------------------------------------------------------------------------

  open(conf: Readonly<TopologyConfig>, context: TopologyContext, collector: SpoutOutputCollector): void {
    const o = this.options;
    this.collector = collector;
    this.clock = o.clock ?? SYSTEM_CLOCK;
    this.pauses = new Pauses(this.clock);
    const random = o.random ?? Math.random;
    const limits = spoutLimits(conf, o);
    this.maxPendingN = limits.maxPending;
    const prefetch = limits.prefetch;
    this.pollBatchN = Math.min(o.pollBatch ?? 500, prefetch);
    this.pollLingerMs = o.pollLingerMs ?? 0;
    this.maxRetriesN = o.maxRetries ?? DEFAULT_MAX_RETRIES;
    this.buffer = new BoundedQueue(prefetch);
    this.reconnect = new Backoff(o.reconnectBackoff ?? DEFAULT_RECONNECT, random);
    this.ackBackoff = new Backoff(o.reconnectBackoff ?? DEFAULT_RECONNECT, random);
    this.retry = new Backoff(o.retryBackoff ?? DEFAULT_RETRY, random);
    this.guaranteeMode = o.guarantee ?? guaranteeOf(conf);
    this.scheme = o.scheme ?? this.defaultScheme();
    this.dlStream = o.deadLetterStream ?? true;
    const adapter = this.createAdapter(conf, context);
    this.adapter = adapter;
    this.dlBroker = (o.deadLetterBroker ?? true) && typeof adapter.deadLetter === 'function';
    this.requeueAtBroker = o.retryAt === 'broker' && typeof adapter.requeue === 'function' && adapter.commitStyle === 'message';
    this.tracker = adapter.commitStyle === 'prefix' ? new OffsetTracker() : null;
    this.trackPositions = adapter.replayable();
    adapter.onConnectionLost?.((err) => this.connectionLost(err));
    this.loopDone = this.pollLoop().catch((err) => {
      this.report(err, 'poll');
    });
  }

  activate(): void {
    this.active = true;
    this.wake();
  }

  deactivate(): void {
    this.active = false;
  }

  /**
   * Stops polling, sends the acknowledgements already owed (an ack batch already sent is awaited
   * for up to 2 s, then the rest go in one attempt), and closes the connections. Idempotent; the
   * promise settles when all is closed.
   */
  close(): Promise<void> {
    if (this.closed) return this.loopDone;
    this.closed = true;
    this.active = false;
    if (this.commitTimer !== null) this.clock.clear(this.commitTimer);
    this.commitTimer = null;
    this.wake();
    this.pauses?.cutAll();
    const adapter = this.adapter;
    this.loopDone = (async () => {
      if (adapter === null) return;
      // a batch already on its way: let it finish (bounded), or the acks queued behind it would be
      // skipped and the broker would redeliver records the topology has finished
      if (this.commitRun !== null) await this.within(CLOSE_ACK_WAIT_MS, this.commitRun);
      if (this.ackQueue.length > 0 && this.connected && !this.committing) {
        const batch = this.ackQueue.splice(0, this.ackQueue.length);
        await adapter.ack(batch.map((r) => r.msg), this.takeCommitted()).catch(() => undefined);
      }
      await adapter.close().catch(() => undefined);
    })();
    return this.loopDone;
  }

  declareOutputFields(declarer: OutputFieldsDeclarer): void {
    declarer.declare(new Fields([...(this.options.scheme ?? this.defaultScheme()).fields]));
    if (this.options.deadLetterStream ?? true) declarer.declareStream(DEAD_LETTER_STREAM, new Fields([...DEAD_LETTER_FIELDS]));
  }

  // ---- the data path (synchronous) -----------------------------------------------------------

  nextTuple(): void {
    if (this.retries.size > 0) {
      const r = this.retries.popDue(this.clock.now());
      if (r !== undefined) {
        this.emitRecord(r);
        return;
      }
    }
    const buffer = this.buffer;
    for (let skipped = 0; skipped < SKIP_MAX; skipped++) {
      if (this.outstanding >= this.maxPendingN) return;
      const r = buffer.shift();
      if (r === undefined) break;
      this.outstanding++;
      // consumed: offsets() covers it from now on, whether it is emitted or dead-lettered (kept
      // only where offsets() means something: a Map write per message is measurable at 300k/s)
      if (this.trackPositions) this.positions.set(r.msg.partition, r.msg.offset);
      if (this.emitRecord(r)) break;
    }
    if (this.wakeLoop !== null && buffer.size <= buffer.capacity * REFILL_FRACTION) this.wake();
  }

  /** Emits a record (first time, retry or dead letter). False when it emitted nothing. */
  private emitRecord(r: MessageRecord<M>): boolean {
    if (r.state === State.DeadPending) return this.emitDeadLetter(r);
    if (r.failures > this.maxRetriesN) {
      // redelivered by the broker more often than allowed (e.g. it crashed its worker each time)
      r.reason = `${r.partition}@${r.offset} was delivered ${r.failures + 1} times (maxRetries ${this.maxRetriesN})`;
      return this.emitDeadLetter(r);
    }
    if (r.values === null) {
      let values: unknown[] | null = null;
      let problem: unknown = null;
      try {
        values = this.scheme.decode(r.msg.payload, r.msg);
      } catch (err) {
        problem = err;
      }
      if (values === null || values.length !== this.scheme.fields.length) {
        this.counters.decodeFailed++;
        const detail = problem !== null ? messageOf(problem) : values === null ? 'the scheme returned null' : `the scheme returned ${values.length} values for ${this.scheme.fields.length} fields`;
        r.reason = `cannot decode ${r.partition}@${r.offset}: ${detail}`;
        this.collector.reportError(connectorError('ERR_CONNECTOR_DECODE', this.system, r.reason, problem ?? undefined));
        return this.emitDeadLetter(r);
      }
      r.values = values;
    }
    r.state = State.Emitted;
    this.counters.emitted++;
    if (this.guaranteeMode === 'at-most-once') {
      // acknowledged at the broker on receipt; nothing to wait for
      this.collector.emit(r.values, null);
      r.state = State.Done;
      this.outstanding--;
      return true;
    }
    // the tuple carries the values from here; a retry decodes the payload again. Holding them
    // until the tree completes kept every in-flight message's decoded fields alive, which with
    // windows (trees held for a window's length) was most of the heap the collector had to mark
    const values = r.values;
    r.values = null;
    this.collector.emit(values, r);
    return true;
  }

  private emitDeadLetter(r: MessageRecord<M>): boolean {
    if (r.state !== State.DeadPending) {
      r.state = State.DeadPending;
      this.counters.deadLettered++;
      if (r.failures > 0 || r.values !== null) this.collector.reportError(connectorError('ERR_CONNECTOR_DEAD_LETTER', this.system, r.reason));
    }
    if (!this.dlStream) {
      this.deadLetterStreamDone(r);
      return false;
    }
    r.state = State.DeadEmitted;
    const tracked = this.guaranteeMode !== 'at-most-once';
    this.collector.emit([r.msg.partition, r.msg.offset, r.msg.payload, r.reason, r.failures], tracked ? r : null, DEAD_LETTER_STREAM);
    if (!tracked) this.deadLetterStreamDone(r);
    return true;
  }

  ack(msgId: unknown): void {
    const r = msgId as MessageRecord<M>;
    if (r.epoch !== this.epoch) return; // from before a seek
    if (r.state === State.DeadEmitted) {
      this.deadLetterStreamDone(r);
      return;
    }
    if (r.state !== State.Emitted) return;
    this.counters.acked++;
    this.complete(r);
  }

  fail(msgId: unknown): void {
    const r = msgId as MessageRecord<M>;
    if (r.epoch !== this.epoch) return;
    if (r.state === State.DeadEmitted) {
      // the dead-letter tuple itself failed: emit it again after a backoff
      r.state = State.DeadPending;
      this.retries.push(r, this.clock.now() + this.retry.delayFor(0));
      return;
    }
    if (r.state !== State.Emitted) return;
    this.counters.failed++;
    r.failures++;
    if (r.failures > this.maxRetriesN) {
      r.reason = `${r.partition}@${r.offset} failed ${r.failures} times (maxRetries ${this.maxRetriesN})`;
      r.state = State.DeadPending;
      this.counters.deadLettered++;
      this.collector.reportError(connectorError('ERR_CONNECTOR_DEAD_LETTER', this.system, r.reason));
      this.retries.push(r, this.clock.now());
      return;
    }
    r.state = State.RetryWait;
    this.counters.retried++;
    const delayMs = this.retry.delayFor(r.failures - 1);
    if (this.requeueAtBroker) {
      // handed back: the broker owns it again and redelivers it with its delivery count
      r.state = State.Done;
      r.values = null;
      this.outstanding--;
      this.held--;
      this.adapter!.requeue!(r.msg, delayMs).catch((err: unknown) => this.report(err, 'ack'));
      this.wake();
      return;
    }
    this.retries.push(r, this.clock.now() + delayMs);
  }

  /** The dead-letter tuple completed (or there is none): on to the broker's DLQ, then acknowledge. */
  private deadLetterStreamDone(r: MessageRecord<M>): void {
    if (!this.dlBroker) {
      this.complete(r);
      return;
    }
    r.state = State.DeadBroker;
    this.dlqQueue.push(r);
    if (!this.dlqRunning) void this.drainDeadLetters();
  }

  /** A record is finished here: acknowledge it at the broker (batched). */
  private complete(r: MessageRecord<M>): void {
    r.state = State.Done;
    r.values = null;
    this.outstanding--;
    if (this.tracker !== null) this.tracker.done(r);
    else r.done = true;
    this.ackQueue.push(r);
    this.scheduleCommit();
  }

  // ---- replay (exactly-once) ------------------------------------------------------------------

  /** The last emitted offset per partition (the replayable-spout contract; plain data). */
  offsets(): Record<string, string | number> {
    return Object.fromEntries(this.positions);
  }

  /**
   * Rewinds: everything buffered, in flight or waiting to be retried is dropped (late acks and
   * fails of it are ignored), and the next poll resumes after `positions` (null: the configured
   * start). In a mode that cannot rewind it does nothing under at-most- and at-least-once (the
   * broker redelivers what was not acknowledged) and throws ERR_CONNECTOR_NOT_REPLAYABLE under
   * exactly-once.
   */
  seek(positions: unknown): void {
    const adapter = this.adapter;
    if (adapter === null || !adapter.replayable() || typeof adapter.seek !== 'function') {
      // at-least-once recovery of a new task (the checkpoint runtime seeks it): the broker itself
      // redelivers what was not acknowledged (a consumer group's pending entries, an AMQP queue)
      if (this.guaranteeMode !== 'exactly-once') return;
      throw connectorError('ERR_CONNECTOR_NOT_REPLAYABLE', this.system, 'this spout cannot rewind in its configured mode (see docs/connectors/)');
    }
    if (positions !== null && (typeof positions !== 'object' || Array.isArray(positions))) {
      throw connectorError('ERR_CONNECTOR_CONFIG', this.system, `seek() takes offsets() output or null (got ${JSON.stringify(positions)})`);
    }
    this.epoch++;
    // at-most-once records are in the ack queue from receipt on, so they stay held until acknowledged
    const dropped = (this.guaranteeMode === 'at-most-once' ? 0 : this.buffer.size) + this.outstanding;
    this.buffer.drain();
    this.retries.clear();
    this.dlqQueue.length = 0;
    this.tracker?.clear();
    this.outstanding = 0;
    this.held -= dropped;
    this.positions = new Map(Object.entries((positions ?? {}) as Offsets));
    this.pendingSeek = { positions: positions as Offsets | null };
    this.wake();
  }

  // ---- the poll loop (asynchronous) ------------------------------------------------------------

  private async pollLoop(): Promise<void> {
    const adapter = this.adapter!;
    let idleMs = IDLE_MIN_MS;
    while (!this.closed) {
      if (!this.connected) {
        try {
          await adapter.connect();
          this.connected = true;
          this.counters.connects++;
        } catch (err) {
          await this.trouble(err, 'connect', this.reconnect);
          continue;
        }
        if (this.closed) break;
      }
      const room = Math.min(this.buffer.room(), this.maxPendingN + this.buffer.capacity - this.held, this.pollBatchN);
      if (!this.active || room <= 0) {
        await this.idle();
        continue;
      }
      if (this.pendingSeek !== null) {
        adapter.seek!(this.pendingSeek.positions);
        this.pendingSeek = null;
      }
      const epoch = this.epoch;
      let batch: readonly M[];
      this.polling = true;
      try {
        batch = await adapter.poll(room);
      } catch (err) {
        this.connected = false;
        await this.trouble(err, 'poll', this.reconnect);
        continue;
      } finally {
        this.polling = false;
      }
      this.reconnect.reset();
      if (this.closed) break;
      if (epoch !== this.epoch) continue; // a seek came while polling
      for (let i = 0; i < batch.length; i++) this.accept(batch[i]);
      if (batch.length === 0 && !adapter.pollBlocks) {
        await this.pauses.wait(idleMs);
        idleMs = Math.min(IDLE_MAX_MS, idleMs * 2);
      } else {
        idleMs = IDLE_MIN_MS;
        if (this.pollLingerMs > 0 && batch.length > 0 && batch.length < room) await this.pauses.wait(this.pollLingerMs);
      }
    }
  }

  private accept(m: M): void {
    const r = new MessageRecord(m, this.epoch);
    this.counters.received++;
    this.held++;
    this.tracker?.received(r);
    if (this.guaranteeMode === 'at-most-once') {
      // acknowledged before it is processed: a crash from here on loses it, never repeats it
      if (this.tracker !== null) this.tracker.done(r);
      else r.done = true;
      this.ackQueue.push(r);
      this.scheduleCommit();
    }
    this.buffer.push(r);
  }

  /** Waits until nextTuple takes from the buffer, an ack frees room, or the spout is (re)activated, sought or closed. */
  private idle(): Promise<void> {
    return new Promise((resolve) => {
      this.wakeLoop = resolve;
    });
  }

  private wake(): void {
    const w = this.wakeLoop;
    if (w === null) return;
    this.wakeLoop = null;
    w();
  }

  /** Reports a problem, then waits out the next backoff delay (cut short by close). */
  private async trouble(err: unknown, during: Operation, backoff: Backoff): Promise<void> {
    const coded = this.report(err, during);
    // A lost connection seen by an ack or a dead letter: only the poll loop reconnects, and it may
    // be idle (no room while these records are held), so ack retries would fail on the dead
    // connection forever. Mark it lost and wake the loop, which reconnects before anything else.
    if (during !== 'connect' && during !== 'poll' && coded.code === 'ERR_CONNECTOR_CONNECT' && this.connected) {
      this.connected = false;
      this.wake();
    }
    await this.pauses.wait(backoff.next());
  }


  /** The adapter saw its connection drop: report it now, and wake the loop to reconnect. */
  private connectionLost(err: unknown): void {
    if (this.closed || !this.connected) return;
    this.connected = false;
    if (!this.polling) this.report(err, 'poll');
    this.wake();
  }

  private report(err: unknown, during: Operation): SquallError {
    const coded = isConnectorError(err) ? err : this.adapter!.classify(err, during);
    this.counters.errors++;
    this.lastProblem = coded;
    if (!this.closed) this.collector.reportError(coded);
    return coded;
  }

  /** The last error the spout reported (tests, diagnostics). */
  lastError(): SquallError | null {
    return this.lastProblem;
  }

  /** Records received from the broker and not yet acknowledged there. */
  heldCount(): number {
    return this.held;
  }

  // ---- acknowledgements at the broker ---------------------------------------------------------

  private scheduleCommit(): void {
    if (this.commitTimer !== null || this.committing || this.closed) return;
    // one timer per batch, not per ack: acks drained in one loop turn go out in one call
    this.commitTimer = this.clock.setTimeout(() => {
      this.commitTimer = null;
      const run = this.commit().finally(() => {
        if (this.commitRun === run) this.commitRun = null;
      });
      this.commitRun = run;
    }, 0);
  }

  /** Settles when `work` does or after `ms` on the spout's clock, whichever comes first. */
  private within(ms: number, work: Promise<void>): Promise<void> {
    let timer: unknown = null;
    const limit = new Promise<void>((resolve) => {
      timer = this.clock.setTimeout(resolve, ms);
    });
    return Promise.race([work, limit]).finally(() => {
      if (timer !== null) this.clock.clear(timer);
    });
  }

  private takeCommitted(): ReadonlyMap<string, string | number> {
    if (this.tracker === null) return EMPTY_COMMITTED;
    for (const [p, o] of this.tracker.advance()) this.committedPending.set(p, o);
    if (this.committedPending.size === 0) return EMPTY_COMMITTED;
    const out = this.committedPending;
    this.committedPending = new Map();
    return out;
  }

  private async commit(): Promise<void> {
    if (this.committing) return;
    this.committing = true;
    const adapter = this.adapter!;
    try {
      while (!this.closed && this.ackQueue.length > 0) {
        // taken whole and sent ACK_BATCH_MAX at a time: a window firing completes hundreds of
        // thousands of trees at once, and cutting each batch off the queue's front copied the rest
        const queue = this.ackQueue;
        this.ackQueue = [];
        let sent = 0;
        while (sent < queue.length && !this.closed) {
          const batch = queue.length <= ACK_BATCH_MAX ? queue : queue.slice(sent, sent + ACK_BATCH_MAX);
          const committed = this.takeCommitted();
          try {
            await adapter.ack(
              batch.map((r) => r.msg),
              committed,
            );
          } catch (err) {
            // keep the commit points for the next attempt; the broker redelivers meanwhile at worst
            for (const [p, o] of committed) if (!this.committedPending.has(p)) this.committedPending.set(p, o);
            this.ackQueue = queue.slice(sent).concat(this.ackQueue);
            sent = queue.length;
            await this.trouble(err, 'ack', this.ackBackoff);
            break;
          }
          sent += batch.length;
          this.ackBackoff.reset();
          this.counters.brokerAcked += batch.length;
          this.held -= batch.length;
          this.wake();
        }
        // closed part way: the rest stays queued for close() to send
        if (sent < queue.length) this.ackQueue = queue.slice(sent).concat(this.ackQueue);
      }
    } finally {
      this.committing = false;
    }
  }

  // ---- the broker's dead-letter queue ---------------------------------------------------------

  private async drainDeadLetters(): Promise<void> {
    this.dlqRunning = true;
    const adapter = this.adapter!;
    try {
      while (!this.closed && this.dlqQueue.length > 0) {
        const r = this.dlqQueue[0];
        try {
          await adapter.deadLetter!(r.msg, r.reason, r.failures);
        } catch (err) {
          await this.trouble(err, 'deadLetter', this.ackBackoff);
          continue;
        }
        // a seek meanwhile emptied the queue: the record is gone with its epoch
        if (this.dlqQueue[0] === r) {
          this.dlqQueue.shift();
          this.complete(r);
        }
      }
    } finally {
      this.dlqRunning = false;
    }
  }

  /** The guarantee this spout runs with. */
  guarantee(): Guarantee {
    return this.guaranteeMode;
  }
}
