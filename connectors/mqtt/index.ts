/**
 * MQTT connectors (`squall/connectors/mqtt`): a spout on a QoS 1 subscription in a persistent
 * session (at-least-once as far as MQTT allows) and a sink publishing at QoS 1.
 * See docs/connectors/mqtt.md.
 */
export { MqttSpout, type MqttSpoutOptions } from './spout';
export { MqttSinkBolt, type MqttOutMessage, type MqttSinkOptions } from './sink';
export type { MqttConnectionOptions } from './connection';
export type { MqttMessage } from './source';
export { jsonScheme, rawScheme, stringScheme, tupleObject } from '../core';
