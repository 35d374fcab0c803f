import type { SquallError } from '../../topology-api';

/** A message as an adapter hands it to the shared spout core. */
export interface SourceMessage {
  /** The partition it came from: a Redis stream key, a JetStream subject, a queue. */
  readonly partition: string;
  /**
   * Its position in the partition (a Redis stream id, a stream sequence). Offsets of one partition
   * arrive in the broker's order; `offsets()` reports them and `seek()` resumes after them.
   */
  readonly offset: string | number;
  readonly payload: unknown;
  /**
   * How many times the broker has delivered it, 1 for the first time, when the broker knows
   * (Redis' pending-entry delivery count, JetStream's `num_delivered`). A redelivered message
   * starts with `deliveries - 1` failures, so a message that crashes its worker every time is
   * dead-lettered after `maxRetries` deliveries instead of looping forever.
   */
  readonly deliveries: number;
}

export type Offsets = Readonly<Record<string, string | number>>;

/** Where an adapter failed, for classifying the error. */
export type Operation = 'connect' | 'poll' | 'ack' | 'deadLetter' | 'write';

/**
 * What a broker adapter implements; the shared core (BrokerSpout) does the rest: the bounded
 * prefetch, in-flight limit, retries with backoff, dead-lettering, offset tracking, reconnects and
 * the guarantees. Every method may reject; the core classifies the error (`classify`), reports it,
 * backs off and reconnects. The core never runs two `poll`s, two `connect`s or two `ack`s at once.
 */
export interface SourceAdapter<M extends SourceMessage> {
  /** The system's name in errors and docs: `redis`, `nats`, ... */
  readonly system: string;
  /**
   * How the broker takes acknowledgements: `message`, each message by its id (Redis XACK,
   * JetStream ack, AMQP basic.ack); `prefix`, a committed offset per partition (Kafka, RabbitMQ
   * stream offset tracking), for which the core passes the contiguous done prefix.
   */
  readonly commitStyle: 'message' | 'prefix';
  /** Does `poll` wait for messages by itself (a blocking read)? If not, the core idles between empty polls. */
  readonly pollBlocks: boolean;
  /** (Re)connects, replacing any previous connection. */
  connect(): Promise<void>;
  /** Up to `max` messages, in the broker's order within each partition; [] when none came within its own wait. */
  poll(max: number): Promise<readonly M[]>;
  /**
   * Acknowledges at the broker: `messages` completed (or were dead-lettered, or, at-most-once, were
   * received); `committed` is, per partition whose prefix moved, the last offset of its
   * contiguous done prefix (`prefix` brokers commit it; `message` brokers get an empty map).
   */
  ack(messages: readonly M[], committed: ReadonlyMap<string, string | number>): Promise<void>;
  /**
   * Hands a failed message back to the broker, to be delivered again after `delayMs`, to any
   * consumer (JetStream `-NAK` with a delay, AMQP `basic.nack` with requeue): the spout's
   * `retryAt: 'broker'`. The redelivery's `deliveries` carries the failures, so `maxRetries`
   * still applies. After it the core never acknowledges that delivery.
   */
  requeue?(message: M, delayMs: number): Promise<void>;
  /** Puts a message on the broker's own dead-letter queue (a Redis stream, a DLX, a term). */
  deadLetter?(message: M, reason: string, failures: number): Promise<void>;
  /** Can the current configuration rewind (exactly-once)? */
  replayable(): boolean;
  /** Where the next poll starts: after `positions` per partition; null is the configured start. */
  seek?(positions: Offsets | null): void;
  /**
   * Optional: the core hands over a callback for the adapter to call when its connection drops by
   * itself (the server went away). A spout whose records are all held has no room to poll, and a
   * sink downstream that cannot write stops the acks, so without it the spout would learn of the
   * loss only when something completes; with it, the core reports ERR_CONNECTOR_CONNECT at once
   * and reconnects. Connections the adapter closes itself must not call it.
   */
  onConnectionLost?(lost: (err: unknown) => void): void;
  /** Turns a client library's error into a coded connector error. */
  classify(err: unknown, during: Operation): SquallError;
  /** Closes every connection; idempotent. */
  close(): Promise<void>;
}

/**
 * Turns a message into tuple values (Storm's `Scheme`). `decode` throws (or returns null) for a
 * message the topology cannot read: the core dead-letters it at once, counts it and goes on.
 */
export interface Scheme {
  readonly fields: readonly string[];
  decode(payload: unknown, message: SourceMessage): unknown[] | null;
}
