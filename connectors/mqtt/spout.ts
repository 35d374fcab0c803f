import { Config, type TopologyConfig, type TopologyContext } from '../../topology-api';
import { BrokerSpout, checkSpoutOptions, spoutLimits, intOption, rawScheme, stringOption, type BrokerSpoutOptions, type Scheme } from '../core';
import { connectionProblems, MqttLink, SYSTEM, type MqttConnectionOptions } from './connection';
import { MqttSource, type MqttMessage } from './source';

export interface MqttSpoutOptions extends BrokerSpoutOptions, MqttConnectionOptions {
  /** Topic filter(s) subscribed at QoS 1 (wildcards allowed; `$share/group/filter` too). */
  topics: string | string[];
  /**
   * The client id is `<clientIdPrefix>-<task index>`: fixed per task, so a restarted task (after
   * a crash, on any worker) resumes its session. Default `squall-<topology name>-<component>`.
   * Two topologies must not share one.
   */
  clientIdPrefix?: string;
  /** MQTT 5: how long the broker keeps the session of a disconnected task. Default 1 day. */
  sessionExpirySecs?: number;
  /** Publish dead letters here (QoS 1) before acknowledging them. */
  deadLetterTopic?: string;
  /** How long a poll waits for a first message (default 500 ms). */
  pollWaitMs?: number;
}

const MAX_RECEIVE = 65_535;

function topicsOf(o: MqttSpoutOptions): string[] {
  return Array.isArray(o.topics) ? o.topics : [o.topics];
}

/**
 * An MQTT spout: a QoS 1 subscription in a persistent session with a client id fixed per task,
 * PUBACK when the tuple tree completes. At-least-once as far as MQTT allows; not replayable.
 * See docs/connectors/mqtt.md.
 */
export class MqttSpout extends BrokerSpout<MqttMessage, MqttSpoutOptions> {
  protected readonly system = SYSTEM;

  constructor(options: MqttSpoutOptions) {
    super(options);
    const o = options;
    const topics = topicsOf(o);
    checkSpoutOptions(SYSTEM, o, [
      ...connectionProblems(o),
      topics.length === 0 || topics.some((t) => typeof t !== 'string' || t.length === 0) ? `"topics" must be a topic filter or a list of them (got ${JSON.stringify(o.topics)})` : undefined,
      stringOption('clientIdPrefix', o.clientIdPrefix),
      intOption('sessionExpirySecs', o.sessionExpirySecs, 1),
      stringOption('deadLetterTopic', o.deadLetterTopic),
      intOption('pollWaitMs', o.pollWaitMs, 1),
      o.guarantee === 'exactly-once' ? 'MQTT cannot replay: exactly-once is not available (use at-least-once)' : undefined,
    ]);
  }

  protected defaultScheme(): Scheme {
    return rawScheme();
  }

  protected createAdapter(conf: Readonly<TopologyConfig>, context: TopologyContext): MqttSource {
    const o = this.options;
    const component = context.getThisComponentId();
    const name = typeof conf[Config.TOPOLOGY_NAME] === 'string' ? (conf[Config.TOPOLOGY_NAME] as string) : context.getStormId();
    const clientId = `${o.clientIdPrefix ?? `squall-${name}-${component}`}-${context.getThisTaskIndex()}`;
    const { maxPending, prefetch } = spoutLimits(conf, o);
    const capacity = Math.min(MAX_RECEIVE, maxPending + prefetch);
    const v5 = (o.protocolVersion ?? 5) === 5;
    const link = new MqttLink(o, {
      clientId,
      clean: false,
      ...(v5 ? { properties: { sessionExpiryInterval: o.sessionExpirySecs ?? 86_400, receiveMaximum: capacity } } : {}),
    });
    return new MqttSource(link, { topics: topicsOf(o), capacity, pollWaitMs: o.pollWaitMs ?? 500, deadLetterTopic: o.deadLetterTopic });
  }
}
