import type { MqttClient } from 'mqtt';
import type { SquallError, TopologyConfig, TopologyContext, Tuple } from '../../topology-api';
import { BatchingSinkBolt, checkSinkOptions, stringOption, tupleObject, type BatchingSinkOptions, type Operation, type SinkWriter } from '../core';
import { classifyMqttError, connectionProblems, MqttLink, SYSTEM, type MqttConnectionOptions } from './connection';

/** One message to publish. */
export interface MqttOutMessage {
  /** Default: the sink's `topic`. */
  topic?: string;
  payload: Buffer | Uint8Array | string;
  retain?: boolean;
}

export interface MqttSinkOptions extends BatchingSinkOptions, MqttConnectionOptions {
  /** The topic written to, unless `toMessage` names one per tuple. */
  topic?: string;
  /** Turns a tuple into a message. Default: the tuple's fields as a JSON object, to `topic`. */
  toMessage?: (tuple: Tuple) => MqttOutMessage;
  /** Default `squall-<topology name>-<component>-<task index>-pub` (a clean session). */
  clientIdPrefix?: string;
}

interface Item {
  topic: string;
  payload: Buffer | string;
  retain: boolean;
}

class Qos1Writer implements SinkWriter<Item> {
  readonly system = SYSTEM;
  private client: MqttClient | null = null;

  constructor(private readonly link: MqttLink) {}

  async connect(): Promise<void> {
    this.client = await this.link.open();
  }

  /** Publishes the batch at QoS 1 and resolves when every PUBACK came (one promise per batch). */
  write(items: readonly Item[]): Promise<void> {
    const client = this.link.current();
    if (client === null || client !== this.client) return Promise.reject(this.link.problem() ?? new Error('not connected'));
    return new Promise<void>((resolve, reject) => {
      let left = items.length;
      let failed = false;
      const done = (err?: Error): void => {
        if (failed) return;
        if (err) {
          failed = true;
          reject(err);
          return;
        }
        if (--left === 0) resolve();
      };
      if (left === 0) resolve();
      for (let i = 0; i < items.length; i++) {
        const it = items[i];
        client.publish(it.topic, it.payload, { qos: 1, retain: it.retain }, done);
      }
    });
  }

  classify(err: unknown, during: Operation): SquallError {
    return classifyMqttError(err, during, this.link.where());
  }

  close(): Promise<void> {
    this.client = null;
    return this.link.close();
  }
}

/**
 * A sink publishing each tuple at QoS 1: batched, and each input acked only after the broker's
 * PUBACK for its message. See docs/connectors/mqtt.md.
 */
export class MqttSinkBolt extends BatchingSinkBolt<Item, MqttSinkOptions> {
  protected readonly system = SYSTEM;

  constructor(options: MqttSinkOptions) {
    super(options);
    const o = options;
    checkSinkOptions(SYSTEM, o, [
      ...connectionProblems(o),
      stringOption('topic', o.topic),
      stringOption('clientIdPrefix', o.clientIdPrefix),
      o.topic === undefined && o.toMessage === undefined ? 'give "topic", or "toMessage" returning a topic per tuple' : undefined,
      o.toMessage !== undefined && typeof o.toMessage !== 'function' ? '"toMessage" must be a function' : undefined,
    ]);
  }

  protected createWriter(conf: Readonly<TopologyConfig>, context: TopologyContext): SinkWriter<Item> {
    const name = typeof conf['topology.name'] === 'string' ? (conf['topology.name'] as string) : context.getStormId();
    const clientId = `${this.options.clientIdPrefix ?? `squall-${name}-${context.getThisComponentId()}`}-${context.getThisTaskIndex()}-pub`;
    return new Qos1Writer(new MqttLink(this.options, { clientId, clean: true }));
  }

  protected toItem(input: Tuple): Item {
    const o = this.options;
    if (o.toMessage === undefined) return { topic: o.topic!, payload: JSON.stringify(tupleObject(input)), retain: false };
    const m = o.toMessage(input);
    const topic = m.topic ?? o.topic;
    if (topic === undefined) throw new Error('toMessage returned no topic and the sink has none');
    const payload = typeof m.payload === 'string' || Buffer.isBuffer(m.payload) ? m.payload : Buffer.from(m.payload.buffer, m.payload.byteOffset, m.payload.byteLength);
    return { topic, payload, retain: m.retain ?? false };
  }
}
