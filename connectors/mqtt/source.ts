/**
 * The MQTT source adapter (on connectors/core's BrokerSpout): a QoS 1 subscription in a persistent
 * session (MQTT 5 `clean start: false` with a session expiry, or 3.1.1 `clean session: false`) under
 * a client id fixed per task, with PUBACK held back until the tuple tree completed.
 *
 * mqtt.js acknowledges a QoS 1 PUBLISH as soon as its `handleMessage` hook calls back without an
 * error, and handles one packet at a time. So the hook keeps the packet for the spout and calls
 * back *with* an error, which makes mqtt.js go on to the next packet without sending a PUBACK
 * (tested against mosquitto in test/integration/connectors/mqtt-client.test.ts); the spout sends
 * the PUBACK itself (`_sendPacket`) when the tree completes. While the inbox is full the hook does
 * not call back at all, so mqtt.js stops reading the socket: that is the overflow rule (mosquitto
 * 2.0 does not always keep to the client's MQTT 5 receive maximum).
 *
 * What MQTT can and cannot re-deliver is in docs/connectors/mqtt.md: the broker re-sends un-acked
 * messages only when the same client id reconnects (never on a timeout), so a failed tuple is
 * retried by the core from the message it holds; there is no negative acknowledgement.
 */
import type { IPublishPacket, MqttClient } from 'mqtt';
import type { SquallError } from '../../topology-api';
import { Inbox, type Operation, type SourceAdapter, type SourceMessage } from '../core';
import { classifyMqttError, SYSTEM, type MqttLink } from './connection';

export interface MqttMessage extends SourceMessage {
  /** The packet id (unique among this connection's un-acked messages only). */
  readonly offset: number;
  readonly payload: Buffer;
  readonly qos: number;
  /** The connection it came on: a PUBACK is only sent on that one. */
  readonly epoch: number;
}

export interface MqttSourceSettings {
  topics: string[];
  /** What the task may hold un-acked (the inbox and the MQTT 5 receive maximum). */
  capacity: number;
  pollWaitMs: number;
  deadLetterTopic?: string;
}

/** Passed to mqtt.js's handleMessage callback to skip its automatic PUBACK. */
const DEFER_PUBACK = new Error('squall: PUBACK deferred until the tuple tree completes');

type SendPacket = (packet: { cmd: 'puback'; messageId: number }, cb?: (err?: Error) => void) => void;

export class MqttSource implements SourceAdapter<MqttMessage> {
  readonly system = SYSTEM;
  readonly commitStyle = 'message' as const;
  readonly pollBlocks = true;

  private readonly inbox: Inbox<MqttMessage>;
  private client: MqttClient | null = null;
  private epoch = -1;
  private closed = false;

  constructor(
    private readonly link: MqttLink,
    private readonly s: MqttSourceSettings,
  ) {
    this.inbox = new Inbox<MqttMessage>(s.capacity);
  }

  async connect(): Promise<void> {
    // messages of the previous connection not yet taken: the broker re-sends them on this one
    this.client = null;
    this.inbox.drain();
    let resumed = false;
    const client = await this.link.open((c) => {
      this.client = c;
      // the broker re-sends the session's un-acked messages right after CONNACK, before open() resolves
      c.once('connect', (connack: { sessionPresent?: boolean }) => {
        this.epoch = this.link.epoch() + 1;
        resumed = connack?.sessionPresent === true;
      });
      c.handleMessage = (packet, callback) => {
        void this.receive(c, this.epoch, packet, callback);
      };
    });
    const subscribed = client.subscribeAsync(this.s.topics, { qos: 1 }).then((granted) => {
      const refused = granted.filter((g) => g.qos !== 1 && g.qos !== 0);
      if (refused.length > 0) throw Object.assign(new Error(`the broker refused the subscription to ${refused.map((g) => g.topic).join(', ')} (reason ${refused[0].qos})`), { code: refused[0].qos });
    });
    if (!resumed) {
      await subscribed;
      return;
    }
    // A resumed session already holds the subscription, and the broker sends its queued messages
    // ahead of the SUBACK, more than the inbox holds when many waited (mosquitto 2.0 does not keep
    // to the receive maximum then). mqtt.js reads one packet at a time and the hook waits for room,
    // so the SUBACK is only read once the spout polls: waiting for it here, before the spout polls,
    // would never end (the broker drops the silent connection after 1.5 keepalives, and the next
    // connect does the same). So the re-subscription completes in the background.
    subscribed.catch((err: unknown) => this.link.markLost(client, `subscribe: ${err instanceof Error ? err.message : String(err)}`));
  }

  private async receive(client: MqttClient, epoch: number, packet: IPublishPacket, callback: (err?: Error) => void): Promise<void> {
    if (packet.qos === 0) {
      // QoS 0 (the publisher's choice): nothing to acknowledge, nothing will be re-sent
      while (this.inbox.full() && !this.closed && this.client === client) await this.inbox.waitRoom();
      if (this.client === client && !this.closed) this.push(packet, epoch, 0);
      callback();
      return;
    }
    while (this.inbox.full() && !this.closed && this.client === client) await this.inbox.waitRoom();
    // a replaced connection's message is left to the broker, which re-sends it on the new one
    if (this.client === client && !this.closed) this.push(packet, epoch, packet.qos);
    callback(DEFER_PUBACK);
  }

  private push(packet: IPublishPacket, epoch: number, qos: number): void {
    this.inbox.push({
      partition: packet.topic,
      offset: packet.messageId ?? 0,
      payload: Buffer.isBuffer(packet.payload) ? packet.payload : Buffer.from(packet.payload),
      deliveries: packet.dup ? 2 : 1,
      qos,
      epoch,
    });
  }

  poll(max: number): Promise<readonly MqttMessage[]> {
    return this.inbox.poll(max, this.s.pollWaitMs, () => this.link.problem());
  }

  /** PUBACK for each message of the current connection; older ones the broker re-sends anyway. */
  ack(messages: readonly MqttMessage[]): Promise<void> {
    const client = this.link.current();
    if (client === null) return Promise.resolve();
    const send = (client as unknown as { _sendPacket: SendPacket })._sendPacket.bind(client);
    for (let i = 0; i < messages.length; i++) {
      const m = messages[i];
      if (m.qos === 1 && m.epoch === this.epoch) send({ cmd: 'puback', messageId: m.offset });
    }
    return Promise.resolve();
  }

  /** Publishes the dead letter (QoS 1, resolved on PUBACK) to `deadLetterTopic`; the core then acks the original. */
  async deadLetter(m: MqttMessage, reason: string, failures: number): Promise<void> {
    const topic = this.s.deadLetterTopic;
    if (topic === undefined) return;
    const client = this.link.current();
    if (client === null) throw this.link.problem()!;
    await client.publishAsync(topic, m.payload, {
      qos: 1,
      properties: { userProperties: { 'squall-error': reason, 'squall-failures': String(failures), 'squall-topic': m.partition } },
    });
  }

  replayable(): boolean {
    return false;
  }

  classify(err: unknown, during: Operation): SquallError {
    return classifyMqttError(err, during, `${this.s.topics.join(', ')} at ${this.link.where()}`);
  }

  async close(): Promise<void> {
    if (this.closed) return;
    this.closed = true;
    this.inbox.drain();
    await this.link.close();
  }
}
