/**
 * A bounded feed from one JetStream pull consumer: `consume()` keeps up to `capacity` messages
 * requested from the server, a pump moves them into an inbox of the same capacity, and the poll
 * takes from it. The pump stops reading the iterator while the inbox is full, and the client only
 * re-pulls as the iterator is read, so a feed never holds more than 2 × capacity messages.
 */
import type { Consumer, ConsumerMessages, JsMsg } from 'nats';
import { Inbox } from '../core';

/** How long one pull request stays open at the server before the client renews it. */
const PULL_EXPIRES_MS = 5000;

export class Feed<T> {
  readonly inbox: Inbox<T>;
  private msgs: ConsumerMessages | null = null;
  private ended: Error | null = null;
  private stopped = false;
  private handBack = false;

  constructor(
    readonly partition: string,
    capacity: number,
    private readonly wrap: (m: JsMsg, partition: string) => T,
  ) {
    this.inbox = new Inbox<T>(capacity);
  }

  async start(consumer: Consumer): Promise<void> {
    this.msgs = await consumer.consume({ max_messages: this.inbox.capacity, expires: PULL_EXPIRES_MS });
    void this.pump(this.msgs);
  }

  private async pump(msgs: ConsumerMessages): Promise<void> {
    try {
      for await (const m of msgs) {
        while (this.inbox.full() && !this.stopped) await this.inbox.waitRoom();
        if (this.stopped) {
          // keep reading, not break: nats.js ends the iterator (and resolves close()) only from
          // inside the loop, after the messages already received, which go back to the server
          if (this.handBack) m.nak();
          continue;
        }
        this.inbox.push(this.wrap(m, this.partition));
      }
      if (!this.stopped) this.ended = new Error(`the consumer of ${this.partition} stopped delivering`);
    } catch (err) {
      this.ended = err instanceof Error ? err : new Error(String(err));
    }
    this.inbox.wake();
  }

  /** Why the feed stopped by itself (consumer deleted, connection closed), if it did. */
  failure(): Error | null {
    return this.ended;
  }

  /**
   * Stops pulling; returns what was buffered and never taken. With `handBack`, what the client
   * received and the pump never read goes back to the server (`-NAK`) as the pump drains it.
   */
  async stop(handBack: boolean): Promise<T[]> {
    this.stopped = true;
    this.handBack = handBack;
    const left = this.inbox.drain();
    await this.msgs?.close().catch(() => undefined);
    return left;
  }
}
