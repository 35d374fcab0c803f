import { Config, type TopologyConfig, type TopologyContext } from '../../topology-api';
import { BrokerSpout, checkSpoutOptions, spoutLimits, guaranteeOf, intOption, oneOfOption, rawScheme, stringOption, type BrokerSpoutOptions, type Scheme, type SourceAdapter } from '../core';
import { AmqpLink, connectionProblems, SYSTEM, type RabbitMqConnectionOptions } from './connection';
import { AmqpQueueSource, type AmqpMessage } from './queue-source';
import { AmqpStreamSource, type StreamStart } from './stream-source';

export interface RabbitMqSpoutOptions extends BrokerSpoutOptions, RabbitMqConnectionOptions {
  /**
   * The queue every task consumes (classic or quorum), or, for `queueType: 'stream'`, the stream
   * queue(s) shared out over the tasks.
   */
  queue: string | string[];
  /** `classic` (default) and `quorum` are consumed and acked; `stream` is read from an offset. */
  queueType?: 'classic' | 'quorum' | 'stream';
  /** Declare the queue(s) (durable, with `x-queue-type`) when connecting. Default false: they must exist. */
  declare?: boolean;
  /** Streams: where to start without a stored or checkpointed offset. Default `first`. */
  startOffset?: StreamStart;
  /** Streams, at-least-once: store committed offsets under this consumer name (see docs). */
  consumerName?: string;
  /** Streams: most time between offset stores. Default 1000 ms. */
  offsetCommitMs?: number;
  /**
   * Where dead letters are published (with confirms). Without it, a classic/quorum queue's dead
   * letter is rejected (`basic.nack`, no requeue), which follows the queue's own
   * `x-dead-letter-exchange`; a stream's is only acknowledged (and emitted on the `deadletter` stream).
   */
  deadLetterExchange?: string;
  /** Routing key for dead letters. Default: the message's own. */
  deadLetterRoutingKey?: string;
  /** How long a poll waits for a first delivery (default 500 ms). */
  pollWaitMs?: number;
}


function queues(o: RabbitMqSpoutOptions): string[] {
  return Array.isArray(o.queue) ? o.queue : [o.queue];
}

/**
 * A RabbitMQ spout: classic or quorum queues (prefetch tied to the in-flight limit, ack on
 * completion, nack with requeue on failure; at-least-once) or stream queues (read from an
 * offset; replayable, so exactly-once). See docs/connectors/rabbitmq.md.
 */
export class RabbitMqSpout extends BrokerSpout<AmqpMessage, RabbitMqSpoutOptions> {
  protected readonly system = SYSTEM;

  constructor(options: RabbitMqSpoutOptions) {
    // quorum queues count deliveries (x-delivery-count), so a failure can go back to the broker
    // (basic.nack, requeue) and still be dead-lettered after maxRetries; a classic queue only says
    // "redelivered", and a stream cannot take a nack: those retry from the spout
    super({ retryAt: options.queueType === 'quorum' ? 'broker' : 'spout', ...options });
    const o = options;
    const qs = queues(o);
    const start = o.startOffset;
    checkSpoutOptions(SYSTEM, o, [
      ...connectionProblems(o),
      qs.length === 0 || qs.some((q) => typeof q !== 'string' || q.length === 0) ? `"queue" must be a queue name or a list of them (got ${JSON.stringify(o.queue)})` : undefined,
      oneOfOption('queueType', o.queueType, ['classic', 'quorum', 'stream']),
      o.queueType !== 'stream' && qs.length > 1 ? 'several queues are for streams only (`queueType: "stream"`); run one spout per classic or quorum queue' : undefined,
      start === undefined || start === 'first' || start === 'last' || start === 'next' || start instanceof Date || (typeof start === 'number' && Number.isInteger(start) && start >= 0)
        ? undefined
        : `"startOffset" must be "first", "last", "next", an offset >= 0 or a Date (got ${JSON.stringify(start)})`,
      stringOption('consumerName', o.consumerName),
      intOption('offsetCommitMs', o.offsetCommitMs, 1),
      stringOption('deadLetterExchange', o.deadLetterExchange),
      intOption('pollWaitMs', o.pollWaitMs, 1),
      o.retryAt === 'broker' && o.queueType !== 'quorum' ? '"retryAt: broker" needs a quorum queue (a classic queue does not count deliveries, a stream cannot requeue)' : undefined,
      o.queueType !== 'stream' && o.guarantee === 'exactly-once' ? 'exactly-once needs a stream queue (`queueType: "stream"`): a classic or quorum queue cannot replay' : undefined,
    ]);
  }

  protected defaultScheme(): Scheme {
    return rawScheme();
  }

  protected createAdapter(conf: Readonly<TopologyConfig>, context: TopologyContext): SourceAdapter<AmqpMessage> {
    const o = this.options;
    const component = context.getThisComponentId();
    const tasks = context.getComponentTasks(component).length;
    const index = context.getThisTaskIndex();
    const link = new AmqpLink(o, `squall-${context.getStormId()}-${component}-${index}`);
    const { maxPending, prefetch } = spoutLimits(conf, o);
    const deadLetter = o.deadLetterExchange === undefined ? undefined : { exchange: o.deadLetterExchange, routingKey: o.deadLetterRoutingKey };
    const pollWaitMs = o.pollWaitMs ?? 500;
    const declare = o.declare === true ? (o.queueType ?? 'classic') : undefined;
    if (o.queueType === 'stream') {
      const guarantee = o.guarantee ?? guaranteeOf(conf);
      const streams = queues(o).filter((_, i) => i % tasks === index);
      return new AmqpStreamSource(link, {
        streams,
        // what the task may hold un-acked: the broker's credit per stream consumer
        prefetch: Math.min(maxPending + prefetch, 65_535),
        pollWaitMs,
        startOffset: o.startOffset ?? 'first',
        consumerName: guarantee === 'exactly-once' ? undefined : o.consumerName,
        offsetCommitMs: o.offsetCommitMs ?? 1000,
        deadLetter,
        declare,
      });
    }
    return new AmqpQueueSource(link, { queue: queues(o)[0], prefetch: Math.min(maxPending + prefetch, 65_535), pollWaitMs, deadLetter, declare });
  }
}
