import { headers as natsHeaders, type MsgHdrs } from 'nats';
import type { SquallError, TopologyConfig, TopologyContext, Tuple } from '../../topology-api';
import { BatchingSinkBolt, checkSinkOptions, stringOption, tupleObject, type BatchingSinkOptions, type Operation, type SinkWriter } from '../core';
import { classifyNatsError, connectionProblems, NatsLink, SYSTEM, type NatsConnectionOptions } from './connection';

/** One message to publish. */
export interface NatsOutMessage {
  /** Default: the sink's `subject`. */
  subject?: string;
  data: Uint8Array | string;
  /**
   * `Nats-Msg-Id`: the stream drops a second message with the same id within its duplicate
   * window (2 min by default), which makes a replayed write idempotent.
   */
  id?: string;
  headers?: Record<string, string>;
}

export interface JetStreamSinkOptions extends BatchingSinkOptions, NatsConnectionOptions {
  /** The subject written to (a stream must capture it), unless `toMessage` names one per tuple. */
  subject?: string;
  /** Turns a tuple into a message. Default: the tuple's fields as a JSON object, to `subject`. */
  toMessage?: (tuple: Tuple) => NatsOutMessage;
  /** Bound on waiting for one PubAck. Default 5000 ms. */
  publishTimeoutMs?: number;
}

interface Item {
  subject: string;
  data: Uint8Array | string;
  id: string | undefined;
  headers: MsgHdrs | undefined;
}

class JetStreamWriter implements SinkWriter<Item> {
  readonly system = SYSTEM;

  constructor(
    private readonly link: NatsLink,
    private readonly timeoutMs: number,
  ) {}

  async connect(): Promise<void> {
    await this.link.open();
  }

  /** Publishes the batch at once (pipelined) and resolves when the stream stored every message. */
  async write(items: readonly Item[]): Promise<void> {
    const js = (await this.link.open()).jetstream();
    const acks = new Array<Promise<unknown>>(items.length);
    for (let i = 0; i < items.length; i++) {
      const it = items[i];
      acks[i] = js.publish(it.subject, it.data, { msgID: it.id, headers: it.headers, timeout: this.timeoutMs });
    }
    await Promise.all(acks);
  }

  classify(err: unknown, during: Operation): SquallError {
    return classifyNatsError(err, during, `JetStream at ${this.link.where()}`);
  }

  close(): Promise<void> {
    return this.link.close();
  }
}

/**
 * A sink publishing each tuple to JetStream: batched, pipelined, and each input acked only after
 * the stream acknowledged its message (PubAck). See docs/connectors/nats.md.
 */
export class JetStreamSinkBolt extends BatchingSinkBolt<Item, JetStreamSinkOptions> {
  protected readonly system = SYSTEM;

  constructor(options: JetStreamSinkOptions) {
    super(options);
    const o = options;
    checkSinkOptions(SYSTEM, o, [
      ...connectionProblems(o),
      stringOption('subject', o.subject),
      o.subject === undefined && o.toMessage === undefined ? 'give "subject", or "toMessage" returning a subject per tuple' : undefined,
      o.toMessage !== undefined && typeof o.toMessage !== 'function' ? '"toMessage" must be a function' : undefined,
    ]);
  }

  protected createWriter(_conf: Readonly<TopologyConfig>, context: TopologyContext): SinkWriter<Item> {
    const o = this.options;
    const name = `squall-${context.getStormId()}-${context.getThisComponentId()}-${context.getThisTaskIndex()}`;
    return new JetStreamWriter(new NatsLink(o, name, o.reconnectBackoff ?? { initialMs: 50, maxMs: 2000 }, o.random ?? Math.random), o.publishTimeoutMs ?? 5000);
  }

  protected toItem(input: Tuple): Item {
    const o = this.options;
    if (o.toMessage === undefined) return { subject: o.subject!, data: JSON.stringify(tupleObject(input)), id: undefined, headers: undefined };
    const m = o.toMessage(input);
    const subject = m.subject ?? o.subject;
    if (subject === undefined) throw new Error('toMessage returned no subject and the sink has none');
    let h: MsgHdrs | undefined;
    if (m.headers !== undefined) {
      h = natsHeaders();
      for (const [k, v] of Object.entries(m.headers)) h.set(k, v);
    }
    return { subject, data: m.data, id: m.id, headers: h };
  }
}
