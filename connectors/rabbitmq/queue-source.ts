/**
 * The RabbitMQ source adapters (on connectors/core's BrokerSpout).
 *
 * Classic and quorum queues (`AmqpQueueSource`): every task consumes the queue on its own channel
 * with `basic.qos` prefetch = what the task may hold un-acked (its in-flight limit plus its
 * prefetch buffer), so the broker never sends more than the spout can keep. A completed tuple is
 * `basic.ack`ed; a failed one can be handed back with `basic.nack` (requeue) after its retry delay;
 * a dead letter is published to the dead-letter exchange with publisher confirms (or, without one,
 * `basic.nack` without requeue, which follows the queue's own `x-dead-letter-exchange`). When a
 * task's connection dies (worker killed, broker restarted), the broker requeues everything it had
 * not acked, for the other tasks or the reconnected one: at-least-once, not replayable.
 */
import type { Channel, ConfirmChannel, ConsumeMessage } from 'amqplib';
import type { SquallError } from '../../topology-api';
import { Inbox, type Operation, type SourceAdapter, type SourceMessage } from '../core';
import { classifyAmqpError, SYSTEM, type AmqpLink } from './connection';

export interface AmqpMessage extends SourceMessage {
  readonly payload: Buffer;
  readonly raw: ConsumeMessage;
  /** The channel it was delivered on (its delivery tag is valid only there). */
  readonly gen: number;
  /** Acked, nacked or dead-lettered at the broker already (a tag may be settled once). */
  settled: boolean;
}

export interface DeadLetterTarget {
  exchange: string;
  routingKey?: string;
}

/** Settings both AMQP sources take. */
export interface AmqpSourceSettings {
  /** basic.qos prefetch (per consumer): what the task may hold un-acked. */
  prefetch: number;
  pollWaitMs: number;
  deadLetter?: DeadLetterTarget;
  /** Declare the queues (durable, this `x-queue-type`) on connect. */
  declare?: 'classic' | 'quorum' | 'stream';
}

export interface QueueSourceSettings extends AmqpSourceSettings {
  queue: string;
  /** basic.qos prefetch: what the task may hold un-acked. */
  prefetch: number;
  pollWaitMs: number;
  deadLetter?: DeadLetterTarget;
}

/** Shared by both AMQP sources: the connection, the channel, the deliveries inbox and a confirm channel for dead letters. */
export abstract class AmqpSourceBase<S extends AmqpSourceSettings> implements SourceAdapter<AmqpMessage> {
  readonly system = SYSTEM;
  abstract readonly commitStyle: 'message' | 'prefix';
  readonly pollBlocks = true;

  protected channel: Channel | null = null;
  protected confirm: ConfirmChannel | null = null;
  /** Bumped with every new consuming channel: deliveries of an older one cannot be settled. */
  protected gen = 0;
  private linkGen = 0;
  protected readonly inbox: Inbox<AmqpMessage>;
  protected closed = false;

  constructor(
    protected readonly link: AmqpLink,
    protected readonly s: S,
    inboxCapacity = s.prefetch,
  ) {
    // the broker never sends more than the prefetch per consumer, so the inbox cannot overflow
    this.inbox = new Inbox<AmqpMessage>(inboxCapacity);
  }

  async connect(): Promise<void> {
    this.inbox.drain(); // delivered on the old channel: the broker has them back
    const model = await this.link.open();
    this.linkGen = this.link.generation();
    if (this.s.declare !== undefined) {
      const ch = await model.createChannel();
      for (const q of this.queueNames()) await ch.assertQueue(q, { durable: true, arguments: { 'x-queue-type': this.s.declare } });
      await ch.close();
    }
    this.confirm = null;
    await this.subscribe(await this.openChannel());
  }

  /** A new consuming channel on the current connection (replacing the previous one). */
  protected async openChannel(): Promise<Channel> {
    const model = this.link.current();
    if (model === null) throw this.link.problem()!;
    const old = this.channel;
    this.channel = null;
    if (old !== null) await old.close().catch(() => undefined);
    const linkGen = this.linkGen;
    const ch = await model.createChannel();
    ch.on('error', (err: Error) => this.link.fail(err.message, linkGen));
    ch.on('close', () => {
      if (this.channel === ch) this.link.fail('channel closed', linkGen);
    });
    await ch.prefetch(this.s.prefetch);
    this.gen++;
    this.channel = ch;
    return ch;
  }

  protected abstract queueNames(): string[];

  /** Starts consuming on a new channel. */
  protected abstract subscribe(ch: Channel): Promise<void>;

  protected deliver(raw: ConsumeMessage | null, partition: string, offset: number, deliveries: number): void {
    if (raw === null) {
      this.link.fail(`the broker cancelled the consumer of ${partition}`, this.linkGen);
      this.inbox.wake();
      return;
    }
    if (this.inbox.full()) {
      // more than basic.qos allows: a broker bug; refuse it back rather than grow
      this.channel?.nack(raw, false, true);
      return;
    }
    this.inbox.push({ partition, offset, payload: raw.content, deliveries, raw, gen: this.gen, settled: false });
  }

  onConnectionLost(lost: (err: unknown) => void): void {
    this.link.onBroken((why) => {
      this.inbox.wake();
      lost(Object.assign(new Error(`${this.describe()} at ${this.link.where()}: ${why}`), { code: 'ECONNRESET' }));
    });
  }

  poll(max: number): Promise<readonly AmqpMessage[]> {
    return this.inbox.poll(max, this.s.pollWaitMs, () => this.link.problem());
  }

  /** basic.ack of each message still valid on this channel; the rest the broker has taken back. */
  protected ackEach(messages: readonly AmqpMessage[]): void {
    const ch = this.channel;
    if (ch === null) return;
    for (let i = 0; i < messages.length; i++) {
      const m = messages[i];
      if (m.settled || m.gen !== this.gen) continue;
      m.settled = true;
      ch.ack(m.raw);
    }
  }

  /**
   * Publishes a dead letter (with confirms) to the dead-letter exchange, keeping the original
   * properties and adding why; resolves once the broker confirmed it.
   */
  protected async publishDeadLetter(target: DeadLetterTarget, m: AmqpMessage, reason: string, failures: number): Promise<void> {
    if (this.confirm === null) {
      const model = this.link.current();
      if (model === null) throw this.link.problem()!;
      const linkGen = this.linkGen;
      this.confirm = await model.createConfirmChannel();
      this.confirm.on('error', (err: Error) => this.link.fail(err.message, linkGen));
    }
    const p = m.raw.properties;
    this.confirm.publish(target.exchange, target.routingKey ?? m.raw.fields.routingKey, m.payload, {
      contentType: p.contentType,
      messageId: p.messageId,
      persistent: true,
      headers: { ...(p.headers ?? {}), 'x-squall-error': reason, 'x-squall-failures': failures, 'x-squall-source': m.partition, 'x-squall-offset': m.offset },
    });
    await this.confirm.waitForConfirms();
  }

  abstract ack(messages: readonly AmqpMessage[], committed: ReadonlyMap<string, string | number>): Promise<void>;

  replayable(): boolean {
    return false;
  }

  classify(err: unknown, during: Operation): SquallError {
    return classifyAmqpError(err, during, `${this.describe()} at ${this.link.where()}`);
  }

  protected abstract describe(): string;

  async close(): Promise<void> {
    if (this.closed) return;
    this.closed = true;
    this.inbox.drain();
    // the channel first: its close follows the acks sent on it, while a connection.close (on
    // channel 0) can overtake acks still queued in the client, and the broker would requeue those
    const ch = this.channel;
    const confirm = this.confirm;
    this.channel = null;
    this.confirm = null;
    if (ch !== null) await ch.close().catch(() => undefined);
    if (confirm !== null) await confirm.close().catch(() => undefined);
    // closing the connection hands everything un-acked back to the broker at once
    await this.link.close();
  }
}

export class AmqpQueueSource extends AmqpSourceBase<QueueSourceSettings> {
  readonly commitStyle = 'message' as const;
  private readonly requeueTimers = new Set<NodeJS.Timeout>();

  protected async subscribe(ch: Channel): Promise<void> {
    const queue = this.s.queue;
    await ch.consume(
      queue,
      (raw) => {
        if (raw === null) return this.deliver(null, queue, 0, 0);
        // quorum queues count deliveries; classic queues only say "redelivered"
        const count = raw.properties.headers?.['x-delivery-count'];
        const deliveries = typeof count === 'number' ? count + 1 : raw.fields.redelivered ? 2 : 1;
        this.deliver(raw, queue, raw.fields.deliveryTag, deliveries);
      },
      { noAck: false },
    );
  }

  protected describe(): string {
    return `queue "${this.s.queue}"`;
  }

  protected queueNames(): string[] {
    return [this.s.queue];
  }

  ack(messages: readonly AmqpMessage[]): Promise<void> {
    this.ackEach(messages);
    return Promise.resolve();
  }

  /** basic.nack with requeue after `delayMs`: the broker redelivers it (to any task). */
  requeue(m: AmqpMessage, delayMs: number): Promise<void> {
    const t = setTimeout(() => {
      this.requeueTimers.delete(t);
      if (m.settled || m.gen !== this.gen || this.channel === null) return;
      m.settled = true;
      this.channel.nack(m.raw, false, true);
    }, delayMs);
    this.requeueTimers.add(t);
    return Promise.resolve();
  }

  async deadLetter(m: AmqpMessage, reason: string, failures: number): Promise<void> {
    if (m.settled || m.gen !== this.gen) return;
    if (this.s.deadLetter !== undefined) {
      await this.publishDeadLetter(this.s.deadLetter, m, reason, failures);
      // the core acknowledges it next, as for any finished message
      return;
    }
    // no exchange of ours: reject it, which follows the queue's x-dead-letter-exchange (or drops it)
    m.settled = true;
    this.channel?.nack(m.raw, false, false);
  }

  async close(): Promise<void> {
    for (const t of this.requeueTimers) clearTimeout(t);
    this.requeueTimers.clear();
    await super.close();
  }
}
