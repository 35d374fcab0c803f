import type { ConfirmChannel } from 'amqplib';
import type { SquallError, TopologyConfig, TopologyContext, Tuple } from '../../topology-api';
import { BatchingSinkBolt, checkSinkOptions, stringOption, tupleObject, type BatchingSinkOptions, type Operation, type SinkWriter } from '../core';
import { AmqpLink, classifyAmqpError, connectionProblems, SYSTEM, type RabbitMqConnectionOptions } from './connection';

/** One message to publish. */
export interface AmqpOutMessage {
  /** Default: the sink's `exchange` (`''`, the default exchange, routes by queue name). */
  exchange?: string;
  /** Default: the sink's `routingKey`. */
  routingKey?: string;
  content: Buffer | Uint8Array | string;
  /** AMQP `message-id` (consumers can drop a replayed duplicate by it). */
  messageId?: string;
  headers?: Record<string, unknown>;
  contentType?: string;
}

export interface RabbitMqSinkOptions extends BatchingSinkOptions, RabbitMqConnectionOptions {
  /** Default exchange name for every message (default `''`). */
  exchange?: string;
  /** Default routing key (with the default exchange: the queue name). */
  routingKey?: string;
  /** Turns a tuple into a message. Default: the tuple's fields as a JSON object. */
  toMessage?: (tuple: Tuple) => AmqpOutMessage;
  /** Mark messages persistent (delivery mode 2). Default true. */
  persistent?: boolean;
}

interface Item {
  exchange: string;
  routingKey: string;
  content: Buffer;
  messageId: string | undefined;
  headers: Record<string, unknown> | undefined;
  contentType: string | undefined;
}

class ConfirmWriter implements SinkWriter<Item> {
  readonly system = SYSTEM;
  private ch: ConfirmChannel | null = null;
  private broken = false;

  constructor(
    private readonly link: AmqpLink,
    private readonly persistent: boolean,
  ) {}

  async connect(): Promise<void> {
    const model = await this.link.open();
    const ch = await model.createConfirmChannel();
    ch.on('error', () => (this.broken = true));
    ch.on('close', () => (this.broken = true));
    this.ch = ch;
    this.broken = false;
  }

  /**
   * Publishes the whole batch (waiting for `drain` when the socket buffer is full), then waits for
   * the broker to confirm every message; a nack or a closed channel rejects, and the core retries
   * the batch on a new connection.
   */
  async write(items: readonly Item[]): Promise<void> {
    const ch = this.ch;
    if (ch === null || this.broken) throw this.link.problem() ?? new Error('channel closed');
    for (let i = 0; i < items.length; i++) {
      const it = items[i];
      const ok = ch.publish(it.exchange, it.routingKey, it.content, {
        persistent: this.persistent,
        messageId: it.messageId,
        headers: it.headers,
        contentType: it.contentType,
      });
      if (!ok) await new Promise<void>((resolve) => ch.once('drain', resolve));
    }
    await ch.waitForConfirms();
  }

  classify(err: unknown, during: Operation): SquallError {
    return classifyAmqpError(err, during, this.link.where());
  }

  close(): Promise<void> {
    this.ch = null;
    return this.link.close();
  }
}

/**
 * A sink publishing each tuple to RabbitMQ with publisher confirms: batched, and each input acked
 * only after the broker confirmed its message. See docs/connectors/rabbitmq.md.
 */
export class RabbitMqSinkBolt extends BatchingSinkBolt<Item, RabbitMqSinkOptions> {
  protected readonly system = SYSTEM;

  constructor(options: RabbitMqSinkOptions) {
    super(options);
    const o = options;
    checkSinkOptions(SYSTEM, o, [
      ...connectionProblems(o),
      o.exchange !== undefined && typeof o.exchange !== 'string' ? '"exchange" must be a string' : undefined,
      stringOption('routingKey', o.routingKey),
      o.routingKey === undefined && o.toMessage === undefined ? 'give "routingKey" (with the default exchange: a queue name), or "toMessage"' : undefined,
      o.toMessage !== undefined && typeof o.toMessage !== 'function' ? '"toMessage" must be a function' : undefined,
    ]);
  }

  protected createWriter(_conf: Readonly<TopologyConfig>, context: TopologyContext): SinkWriter<Item> {
    const name = `squall-${context.getStormId()}-${context.getThisComponentId()}-${context.getThisTaskIndex()}`;
    return new ConfirmWriter(new AmqpLink(this.options, name), this.options.persistent ?? true);
  }

  protected toItem(input: Tuple): Item {
    const o = this.options;
    if (o.toMessage === undefined) {
      return { exchange: o.exchange ?? '', routingKey: o.routingKey!, content: Buffer.from(JSON.stringify(tupleObject(input))), messageId: undefined, headers: undefined, contentType: 'application/json' };
    }
    const m = o.toMessage(input);
    const routingKey = m.routingKey ?? o.routingKey;
    if (routingKey === undefined) throw new Error('toMessage returned no routingKey and the sink has none');
    const content = typeof m.content === 'string' ? Buffer.from(m.content) : Buffer.isBuffer(m.content) ? m.content : Buffer.from(m.content.buffer, m.content.byteOffset, m.content.byteLength);
    return { exchange: m.exchange ?? o.exchange ?? '', routingKey, content, messageId: m.messageId, headers: m.headers, contentType: m.contentType };
  }
}
