/**
 * RabbitMQ / AMQP 0-9-1 connectors (`squall/connectors/rabbitmq`): a spout for classic and quorum
 * queues (at-least-once) and stream queues (replayable: exactly-once), and a sink publishing with
 * publisher confirms. See docs/connectors/rabbitmq.md.
 */
export { RabbitMqSpout, type RabbitMqSpoutOptions } from './spout';
export { RabbitMqSinkBolt, type AmqpOutMessage, type RabbitMqSinkOptions } from './sink';
export { offsetStoreQueue, type StreamStart } from './stream-source';
export type { RabbitMqConnectionOptions } from './connection';
export type { AmqpMessage } from './queue-source';
export { jsonScheme, rawScheme, stringScheme, tupleObject } from '../core';
