/**
 * NATS JetStream connectors (`squall/connectors/nats`): a spout on a durable pull consumer
 * (at-least-once) or on ordered consumers replayed by stream sequence (exactly-once), and a sink
 * publishing with acknowledgements. See docs/connectors/nats.md.
 */
export { JetStreamSpout, type JetStreamSpoutOptions } from './spout';
export { JetStreamSinkBolt, type JetStreamSinkOptions, type NatsOutMessage } from './sink';
export type { NatsConnectionOptions } from './connection';
export type { NatsMessage } from './source';
export { jsonScheme, rawScheme, stringScheme, tupleObject } from '../core';
