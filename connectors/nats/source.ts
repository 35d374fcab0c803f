/**
 * The JetStream source adapter (on connectors/core's BrokerSpout), in one of two modes:
 *
 * - **durable** (at-most-once, at-least-once): every task of the spout reads one shared durable
 *   pull consumer with explicit acks, so the server spreads messages over the tasks and hands a
 *   dead task's un-acked messages to the others after `ack_wait`. Ack = `+ACK`; a failed tuple can
 *   be handed back with `-NAK` and a delay; a dead letter is `+TERM` (after an optional copy to a
 *   dead-letter subject). Messages held longer than half of `ack_wait` (a long tuple tree, a retry
 *   backoff) get `+WPI` so the server does not redeliver them meanwhile.
 * - **replay** (exactly-once): each task reads its own partitions (filter subjects) with an
 *   ordered consumer (no acks, flow-controlled, recreated by the client after a gap), from a
 *   stream sequence; `offsets()` is the last sequence emitted per partition and `seek()` starts new
 *   ordered consumers right after them.
 */
import { AckPolicy, DeliverPolicy, headers, nanos, type Consumer, type ConsumerConfig, type JetStreamManager, type JsMsg, type NatsConnection } from 'nats';
import type { SquallError } from '../../topology-api';
import { connectorError, type Offsets, type Operation, type SourceAdapter, type SourceMessage } from '../core';
import { classifyNatsError, SYSTEM, type NatsLink } from './connection';
import { Feed } from './feed';

export interface NatsMessage extends SourceMessage {
  /** The stream sequence. */
  readonly offset: number;
  readonly payload: Uint8Array;
  readonly msg: JsMsg;
}

export interface DurableMode {
  kind: 'durable';
  consumer: string;
  filterSubject?: string;
  /** Where a new consumer starts. */
  deliverPolicy: 'all' | 'new';
  ackWaitMs: number;
  maxAckPending: number;
  /** Create or update the consumer (else it must exist). */
  manageConsumer: boolean;
}

export interface ReplayMode {
  kind: 'replay';
  /** This task's partitions (filter subjects). */
  partitions: string[];
  /** The first stream sequence read when there is no offset (1: everything). */
  startSequence: number;
}

export interface JetStreamSourceSettings {
  stream: string;
  mode: DurableMode | ReplayMode;
  /** Messages one feed requests ahead. */
  feedCapacity: number;
  /** How long a poll waits for a first message. */
  pollWaitMs: number;
  deadLetterSubject?: string;
}

const ACK_KEEPALIVE_FRACTION = 0.5;

export class JetStreamSource implements SourceAdapter<NatsMessage> {
  readonly system = SYSTEM;
  readonly commitStyle = 'message' as const;
  readonly pollBlocks = true;

  private feeds: Feed<NatsMessage>[] = [];
  private next = 0;
  private positions: Offsets | null = null;
  private restart = true;
  /** Durable mode: messages received and not yet acked, termed or handed back, with when. */
  private readonly held = new Map<JsMsg, number>();
  private keepalive: NodeJS.Timeout | null = null;
  private closed = false;

  constructor(
    private readonly link: NatsLink,
    private readonly s: JetStreamSourceSettings,
  ) {
    if (s.mode.kind === 'durable') {
      this.requeue = (message, delayMs) => {
        if (this.held.delete(message.msg)) message.msg.nak(Math.max(1, Math.round(delayMs)));
        return Promise.resolve();
      };
    }
  }

  // ---- connection and consumers ----------------------------------------------------------------

  async connect(): Promise<void> {
    const nc = await this.link.open();
    const jsm = await nc.jetstreamManager();
    await jsm.streams.info(this.s.stream).catch((err: unknown) => {
      throw this.classify(err, 'connect', `stream "${this.s.stream}"`);
    });
    if (this.s.mode.kind === 'durable') {
      if (this.s.mode.manageConsumer) await ensureDurable(jsm, this.s.stream, this.s.mode);
      if (this.feeds.length === 0 || this.feeds.some((f) => f.failure() !== null)) {
        await this.stopFeeds();
        const consumer = await nc.jetstream().consumers.get(this.s.stream, this.s.mode.consumer);
        await this.startFeed(consumer, this.s.mode.filterSubject ?? this.s.stream);
      }
      this.startKeepalive(this.s.mode.ackWaitMs);
    } else {
      // ordered consumers survive reconnects by themselves; rebuilt on seek or when one ended
      if (this.feeds.some((f) => f.failure() !== null)) this.restart = true;
    }
  }

  onConnectionLost(lost: (err: unknown) => void): void {
    this.link.onDown((why) => lost(Object.assign(new Error(`stream "${this.s.stream}" at ${this.link.where()}: ${why}`), { code: 'DISCONNECT' })));
  }

  private async startFeed(consumer: Consumer, partition: string): Promise<void> {
    const feed = new Feed<NatsMessage>(partition, this.s.feedCapacity, toMessage);
    await feed.start(consumer);
    this.feeds.push(feed);
  }

  private async startReplayFeeds(nc: NatsConnection, mode: ReplayMode): Promise<void> {
    await this.stopFeeds();
    const js = nc.jetstream();
    for (const p of mode.partitions) {
      const after = this.positions?.[p];
      const start = after === undefined ? mode.startSequence : Number(after) + 1;
      const consumer = await js.consumers.get(this.s.stream, { filterSubjects: p, deliver_policy: DeliverPolicy.StartSequence, opt_start_seq: start });
      await this.startFeed(consumer, p);
    }
    this.restart = false;
  }

  /** Stops every feed; in durable mode, what they pulled and nobody read goes back to the server. */
  private async stopFeeds(): Promise<NatsMessage[]> {
    const feeds = this.feeds;
    this.feeds = [];
    const left: NatsMessage[] = [];
    const handBack = this.s.mode.kind === 'durable' && this.link.current() !== null;
    for (const f of feeds) left.push(...(await f.stop(handBack)));
    return left;
  }

  // ---- polling -------------------------------------------------------------------------------

  async poll(max: number): Promise<readonly NatsMessage[]> {
    const problem = this.link.problem();
    if (problem !== null) throw problem;
    if (this.s.mode.kind === 'replay' && this.restart) await this.startReplayFeeds(await this.link.open(), this.s.mode);
    for (const f of this.feeds) {
      const err = f.failure();
      if (err !== null) throw this.classify(err, 'poll', `stream "${this.s.stream}"`);
    }
    const out: NatsMessage[] = [];
    if (this.feeds.length === 0) {
      await sleep(this.s.pollWaitMs);
      return out;
    }
    this.takeRound(max, out);
    if (out.length === 0) {
      await Promise.race(this.feeds.map((f) => f.inbox.waitData(this.s.pollWaitMs)));
      for (const f of this.feeds) f.inbox.cancelWait();
      this.takeRound(max, out);
    }
    if (this.s.mode.kind === 'durable') {
      const now = performance.now();
      for (let i = 0; i < out.length; i++) this.held.set(out[i].msg, now);
    }
    return out;
  }

  /** Takes from the feeds in turn, starting after the one that went first last time. */
  private takeRound(max: number, out: NatsMessage[]): void {
    const n = this.feeds.length;
    for (let k = 0; k < n && out.length < max; k++) {
      this.feeds[(this.next + k) % n].inbox.take(max - out.length, out);
    }
    this.next = (this.next + 1) % n;
  }

  // ---- acknowledgements ----------------------------------------------------------------------

  ack(messages: readonly NatsMessage[]): Promise<void> {
    if (this.s.mode.kind !== 'durable') return Promise.resolve();
    // +ACK is a publish on the same connection, buffered by the client across a reconnect; one
    // lost in an outage means a redelivery (at-least-once), never a loss
    for (let i = 0; i < messages.length; i++) {
      const m = messages[i].msg;
      if (this.held.delete(m)) m.ack();
    }
    return Promise.resolve();
  }

  /**
   * Durable mode: hands a failed message back to the server (-NAK with a delay), redelivered
   * after `delayMs` to any task. Absent in replay mode: an ordered consumer cannot take it back,
   * so the core retries from the message it holds.
   */
  readonly requeue?: (message: NatsMessage, delayMs: number) => Promise<void>;

  async deadLetter(message: NatsMessage, reason: string, failures: number): Promise<void> {
    const subject = this.s.deadLetterSubject;
    if (subject !== undefined) {
      const nc = await this.link.open();
      const h = headers();
      h.set('Squall-Error', reason.replace(/[\r\n]+/g, ' '));
      h.set('Squall-Failures', String(failures));
      h.set('Squall-Stream', this.s.stream);
      h.set('Squall-Subject', message.msg.subject);
      h.set('Squall-Sequence', String(message.offset));
      await nc.jetstream().publish(subject, message.payload, { headers: h, msgID: `${this.s.stream}:${message.offset}` });
    }
    if (this.s.mode.kind === 'durable' && this.held.delete(message.msg)) message.msg.term();
  }

  private startKeepalive(ackWaitMs: number): void {
    if (this.keepalive !== null || this.closed) return;
    const every = Math.max(100, Math.floor((ackWaitMs * ACK_KEEPALIVE_FRACTION) / 2));
    this.keepalive = setInterval(() => {
      if (this.link.current() === null) return;
      const old = performance.now() - ackWaitMs * ACK_KEEPALIVE_FRACTION;
      // insertion order is receive order: stop at the first young one
      for (const [m, at] of this.held) {
        if (at > old) break;
        m.working();
        this.held.delete(m);
        this.held.set(m, performance.now());
      }
    }, every);
    this.keepalive.unref();
  }

  // ---- replay ---------------------------------------------------------------------------------

  replayable(): boolean {
    return this.s.mode.kind === 'replay';
  }

  seek(positions: Offsets | null): void {
    this.positions = positions;
    this.restart = true;
  }

  classify(err: unknown, during: Operation, what = `stream "${this.s.stream}" at ${this.link.where()}`): SquallError {
    const code = typeof err === 'object' && err !== null ? (err as { code?: unknown }).code : undefined;
    if (code === '404' || /stream not found|consumer not found/i.test(String((err as Error)?.message))) {
      return connectorError('ERR_CONNECTOR_IO', SYSTEM, `${during} ${what}: ${(err as Error).message}`, err);
    }
    return classifyNatsError(err, during, what);
  }

  async close(): Promise<void> {
    if (this.closed) return;
    this.closed = true;
    if (this.keepalive !== null) clearInterval(this.keepalive);
    this.keepalive = null;
    const left = await this.stopFeeds();
    if (this.s.mode.kind === 'durable' && this.link.current() !== null) {
      // hand back what was received and never finished, so other tasks get it now, not after ack_wait
      for (const m of left) m.msg.nak();
      for (const m of this.held.keys()) m.nak();
    }
    this.held.clear();
    await this.link.close();
  }
}

function toMessage(m: JsMsg, partition: string): NatsMessage {
  return { partition, offset: m.seq, payload: m.data, deliveries: m.info.deliveryCount, msg: m };
}

const sleep = (ms: number): Promise<void> => new Promise((resolve) => setTimeout(resolve, ms));

/** Creates the durable consumer, or brings an existing one's limits in line (several tasks race here). */
async function ensureDurable(jsm: JetStreamManager, stream: string, mode: DurableMode): Promise<void> {
  const want: Partial<ConsumerConfig> = {
    durable_name: mode.consumer,
    ack_policy: AckPolicy.Explicit,
    ack_wait: nanos(mode.ackWaitMs),
    max_ack_pending: mode.maxAckPending,
    max_deliver: -1,
    deliver_policy: mode.deliverPolicy === 'new' ? DeliverPolicy.New : DeliverPolicy.All,
  };
  if (mode.filterSubject !== undefined) want.filter_subject = mode.filterSubject;
  for (let attempt = 0; ; attempt++) {
    const info = await jsm.consumers.info(stream, mode.consumer).catch((err: { code?: string }) => {
      if (err.code === '404') return null;
      throw err;
    });
    if (info === null) {
      try {
        await jsm.consumers.add(stream, want);
        return;
      } catch (err) {
        if (attempt < 3) continue; // another task created it meanwhile: look again
        throw err;
      }
    }
    const c = info.config;
    if ((c.filter_subject || undefined) !== mode.filterSubject) {
      throw connectorError('ERR_CONNECTOR_CONFIG', SYSTEM, `consumer "${mode.consumer}" of stream "${stream}" filters "${c.filter_subject ?? ''}", not "${mode.filterSubject ?? ''}": use another consumer name`);
    }
    if (c.ack_policy !== AckPolicy.Explicit) {
      throw connectorError('ERR_CONNECTOR_CONFIG', SYSTEM, `consumer "${mode.consumer}" of stream "${stream}" has ack policy "${c.ack_policy}"; the spout needs "explicit"`);
    }
    if (c.ack_wait !== want.ack_wait || c.max_ack_pending !== want.max_ack_pending || c.max_deliver !== -1) {
      await jsm.consumers.update(stream, mode.consumer, { ack_wait: want.ack_wait, max_ack_pending: want.max_ack_pending, max_deliver: -1 });
    }
    return;
  }
}
