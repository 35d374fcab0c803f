/**
 * RabbitMQ stream queues (`x-queue-type: stream`) as a replayable source: a stream is a log every
 * consumer reads in full from an `x-stream-offset`, so the spout's tasks share the streams out
 * (task i reads every stream whose index is i modulo the task count), as Kafka consumers share
 * partitions. Each message's offset is its `x-stream-offset` header.
 *
 * - Acks only return credit (a stream does not delete or requeue; `basic.nack` on a stream closes
 *   the connection), so a failed tuple is retried by the core from the message it holds.
 * - At-least-once: the end of the contiguous completed prefix per stream is the committed offset.
 *   AMQP 0-9-1 has no server-side offset tracking for streams (RabbitMQ 3.10 keeps it only in the
 *   stream protocol), so with `consumerName` the spout stores it itself, in a one-message classic
 *   queue per stream and consumer (`x-max-length: 1`, so the broker keeps only the newest), at most
 *   every `offsetCommitMs`, and resumes after it on start. Without `consumerName` it starts at
 *   `startOffset` every time.
 * - Exactly-once: `offsets()`/`seek()` by stream offset; the checkpoint holds the offsets.
 * - After a reconnect the spout resumes right after the last message it received (it still holds
 *   everything before it), so nothing is skipped and nothing it holds is read twice.
 */
import type { Channel, ConfirmChannel } from 'amqplib';
import { messageOf, type Offsets } from '../core';
import { AmqpSourceBase, type AmqpMessage, type AmqpSourceSettings } from './queue-source';
import type { AmqpLink } from './connection';

/** Where a stream consumer starts: `first`, `last` (the last chunk), `next` (only new), an offset, or a time. */
export type StreamStart = 'first' | 'last' | 'next' | number | Date;

export interface StreamSourceSettings extends AmqpSourceSettings {
  /** This task's streams. */
  streams: string[];
  startOffset: StreamStart;
  /** Store committed offsets under this name (at-least-once); none: start at `startOffset`. */
  consumerName?: string;
  offsetCommitMs: number;
}

export function offsetStoreQueue(stream: string, consumerName: string): string {
  return `${stream}.squall-offsets.${consumerName}`;
}

export class AmqpStreamSource extends AmqpSourceBase<StreamSourceSettings> {
  readonly commitStyle = 'prefix' as const;
  /** The last offset handed to the core per stream (what a reconnect resumes after). */
  private readonly received = new Map<string, number>();
  private sought: Offsets | null | undefined = undefined;
  private stored: Map<string, number> | null = null;
  private readonly toStore = new Map<string, number>();
  private storeTimer: NodeJS.Timeout | null = null;
  private storing: Promise<void> = Promise.resolve();
  private storeChannel: ConfirmChannel | null = null;
  private reseek = false;

  constructor(link: AmqpLink, s: StreamSourceSettings) {
    // one consumer per stream on the channel, each with its own credit
    super(link, s, Math.max(1, s.streams.length) * s.prefetch);
  }

  protected describe(): string {
    return `stream${this.s.streams.length === 1 ? '' : 's'} ${this.s.streams.map((q) => `"${q}"`).join(', ')}`;
  }

  protected queueNames(): string[] {
    return this.s.streams;
  }

  protected async subscribe(ch: Channel): Promise<void> {
    this.storeChannel = null;
    if (this.stored === null && this.s.consumerName !== undefined && this.sought === undefined) this.stored = await this.readStored();
    for (const stream of this.s.streams) {
      const start = this.startOf(stream);
      await ch.consume(
        stream,
        (raw) => {
          if (raw === null) return this.deliver(null, stream, 0, 0);
          this.deliver(raw, stream, Number(raw.properties.headers?.['x-stream-offset']), 1);
        },
        { noAck: false, arguments: { 'x-stream-offset': start } },
      );
    }
  }

  private startOf(stream: string): StreamStart {
    const received = this.received.get(stream);
    if (received !== undefined) return received + 1;
    if (this.sought !== undefined) {
      const p = this.sought?.[stream];
      return p === undefined ? this.s.startOffset : Number(p) + 1;
    }
    const stored = this.stored?.get(stream);
    return stored === undefined ? this.s.startOffset : stored + 1;
  }

  ack(messages: readonly AmqpMessage[], committed: ReadonlyMap<string, string | number>): Promise<void> {
    this.ackEach(messages);
    if (this.s.consumerName !== undefined && committed.size > 0) {
      for (const [stream, offset] of committed) this.toStore.set(stream, Number(offset));
      this.storeTimer ??= setTimeout(() => {
        this.storeTimer = null;
        this.storing = this.storing.then(() => this.store());
      }, this.s.offsetCommitMs);
    }
    return Promise.resolve();
  }

  // ---- the offset store ------------------------------------------------------------------------

  private async readStored(): Promise<Map<string, number>> {
    const out = new Map<string, number>();
    const model = this.link.current();
    if (model === null) throw this.link.problem()!;
    const ch = await model.createChannel();
    try {
      for (const stream of this.s.streams) {
        const q = offsetStoreQueue(stream, this.s.consumerName!);
        await ch.assertQueue(q, { durable: true, arguments: { 'x-max-length': 1 } });
        const m = await ch.get(q, { noAck: false });
        if (m === false) continue;
        const offset = Number((JSON.parse(m.content.toString('utf8')) as { offset?: unknown }).offset);
        ch.nack(m, false, true); // leave it there
        if (Number.isInteger(offset) && offset >= 0) out.set(stream, offset);
      }
    } finally {
      await ch.close().catch(() => undefined);
    }
    return out;
  }

  /** Writes the newest committed offsets (publisher confirms); on failure they wait for the next ack. */
  private async store(): Promise<void> {
    if (this.toStore.size === 0) return;
    const model = this.link.current();
    if (model === null) return;
    const batch = new Map(this.toStore);
    this.toStore.clear();
    try {
      if (this.storeChannel === null) this.storeChannel = await model.createConfirmChannel();
      for (const [stream, offset] of batch) {
        this.storeChannel.sendToQueue(offsetStoreQueue(stream, this.s.consumerName!), Buffer.from(JSON.stringify({ offset })), { persistent: true });
      }
      await this.storeChannel.waitForConfirms();
      for (const [stream, offset] of batch) this.stored?.set(stream, offset);
    } catch (err) {
      this.storeChannel = null;
      for (const [stream, offset] of batch) if (!this.toStore.has(stream)) this.toStore.set(stream, offset);
      this.link.fail(`storing offsets: ${messageOf(err)}`, this.link.generation());
    }
  }

  // ---- replay ---------------------------------------------------------------------------------

  replayable(): boolean {
    return true;
  }

  /** Rewinds: the next poll reads each stream right after `positions` (null: `startOffset`). */
  seek(positions: Offsets | null): void {
    this.sought = positions;
    this.received.clear();
    this.inbox.drain();
    this.reseek = true;
  }

  async poll(max: number): Promise<readonly AmqpMessage[]> {
    if (this.reseek) {
      this.reseek = false;
      // a fresh channel: deliveries of the old one are dropped with their consumers
      await this.subscribe(await this.openChannel());
    }
    const out = await super.poll(max);
    for (let i = 0; i < out.length; i++) this.received.set(out[i].partition, out[i].offset as number);
    return out;
  }

  async deadLetter(m: AmqpMessage, reason: string, failures: number): Promise<void> {
    // a stream cannot reject: a dead letter goes to the exchange if there is one, then is acked
    if (this.s.deadLetter !== undefined && m.gen === this.gen) await this.publishDeadLetter(this.s.deadLetter, m, reason, failures);
  }

  async close(): Promise<void> {
    if (this.storeTimer !== null) clearTimeout(this.storeTimer);
    this.storeTimer = null;
    await this.storing;
    if (!this.closed) await this.store().catch(() => undefined);
    await super.close();
  }
}
