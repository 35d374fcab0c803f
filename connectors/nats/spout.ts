import { Config, type TopologyConfig, type TopologyContext } from '../../topology-api';
import { BrokerSpout, checkSpoutOptions, spoutLimits, guaranteeOf, intOption, oneOfOption, rawScheme, stringOption, type BrokerSpoutOptions, type Scheme } from '../core';
import { connectionProblems, NatsLink, SYSTEM, type NatsConnectionOptions } from './connection';
import { JetStreamSource, type NatsMessage } from './source';

export interface JetStreamSpoutOptions extends BrokerSpoutOptions, NatsConnectionOptions {
  /** The stream to read (it must exist). */
  stream: string;
  /**
   * The durable pull consumer every task of the spout shares (at-most-once, at-least-once).
   * Required unless the guarantee is exactly-once.
   */
  consumer?: string;
  /** The durable consumer's filter subject (default: the whole stream). */
  filterSubject?: string;
  /** Where a durable consumer the spout creates starts: `all` (default) or `new`. */
  deliverPolicy?: 'all' | 'new';
  /**
   * The consumer's `ack_wait`: how long the server waits for an ack before it redelivers (to any
   * task). Default: twice `topology.message.timeout.secs`. Messages the spout holds longer (a
   * retry backoff) are kept alive with `+WPI`.
   */
  ackWaitMs?: number;
  /** Create the durable consumer, or update its limits (default true); false: it must exist. */
  manageConsumer?: boolean;
  /**
   * Exactly-once: the filter subjects read as partitions, shared out over the tasks (task i gets
   * every one whose index is i modulo the task count). Default: `[filterSubject]` or the whole stream.
   */
  partitions?: string[];
  /** Exactly-once: the first stream sequence read when there is no checkpoint (default 1). */
  startSequence?: number;
  /** Copy dead letters to this subject (it must be in a stream) before terming them. */
  deadLetterSubject?: string;
  /** How long a poll waits for a first message (default 500 ms). */
  pollWaitMs?: number;
}

const DEFAULT_FEED = 256;

/**
 * A JetStream spout: a durable pull consumer shared by the spout's tasks (at-least-once), or,
 * for exactly-once, ordered consumers over partitions with replay by stream sequence.
 * See docs/connectors/nats.md.
 */
export class JetStreamSpout extends BrokerSpout<NatsMessage, JetStreamSpoutOptions> {
  protected readonly system = SYSTEM;

  constructor(options: JetStreamSpoutOptions) {
    // a failed tuple is handed back with -NAK and its delay; the server counts the deliveries
    super({ retryAt: 'broker', ...options });
    const o = options;
    checkSpoutOptions(SYSTEM, o, [
      ...connectionProblems(o),
      stringOption('stream', o.stream, true),
      stringOption('consumer', o.consumer),
      stringOption('filterSubject', o.filterSubject),
      oneOfOption('deliverPolicy', o.deliverPolicy, ['all', 'new']),
      intOption('ackWaitMs', o.ackWaitMs, 1000),
      intOption('startSequence', o.startSequence, 1),
      intOption('pollWaitMs', o.pollWaitMs, 1),
      stringOption('deadLetterSubject', o.deadLetterSubject),
      o.partitions !== undefined && (!Array.isArray(o.partitions) || o.partitions.length === 0 || o.partitions.some((p) => typeof p !== 'string' || p.length === 0))
        ? '"partitions" must be a non-empty list of subjects'
        : undefined,
      o.guarantee !== 'exactly-once' && o.guarantee !== undefined && o.consumer === undefined ? `"consumer" (a durable name) is required for ${o.guarantee}` : undefined,
    ]);
  }

  protected defaultScheme(): Scheme {
    return rawScheme();
  }

  protected createAdapter(conf: Readonly<TopologyConfig>, context: TopologyContext): JetStreamSource {
    const o = this.options;
    const component = context.getThisComponentId();
    const tasks = context.getComponentTasks(component).length;
    const index = context.getThisTaskIndex();
    const link = new NatsLink(o, `squall-${context.getStormId()}-${component}-${index}`, o.reconnectBackoff ?? { initialMs: 100, maxMs: 5000 }, o.random ?? Math.random);
    const { maxPending, prefetch } = spoutLimits(conf, o);
    const feedCapacity = Math.max(1, Math.min(o.pollBatch ?? DEFAULT_FEED, prefetch, DEFAULT_FEED));
    const base = { stream: o.stream, feedCapacity, pollWaitMs: o.pollWaitMs ?? 500, deadLetterSubject: o.deadLetterSubject };
    if ((o.guarantee ?? guaranteeOf(conf)) === 'exactly-once') {
      const all = o.partitions ?? [o.filterSubject ?? '>'];
      return new JetStreamSource(link, { ...base, mode: { kind: 'replay', partitions: all.filter((_, i) => i % tasks === index), startSequence: o.startSequence ?? 1 } });
    }
    if (o.consumer === undefined) {
      // checked here too: the guarantee may come from the topology configuration
      checkSpoutOptions(SYSTEM, o, ['"consumer" (a durable name) is required unless the guarantee is exactly-once']);
    }
    const timeoutSecs = conf[Config.TOPOLOGY_MESSAGE_TIMEOUT_SECS];
    return new JetStreamSource(link, {
      ...base,
      mode: {
        kind: 'durable',
        consumer: o.consumer!,
        filterSubject: o.filterSubject,
        deliverPolicy: o.deliverPolicy ?? 'all',
        ackWaitMs: o.ackWaitMs ?? 2000 * (typeof timeoutSecs === 'number' ? timeoutSecs : 30),
        // every task may hold its in-flight limit plus a full prefetch buffer un-acked
        maxAckPending: tasks * (maxPending + prefetch + feedCapacity * 2),
        manageConsumer: o.manageConsumer ?? true,
      },
    });
  }
}
