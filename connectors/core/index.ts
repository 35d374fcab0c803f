/**
 * The shared connector core (`squall/connectors/core`): what every spout and sink of an external
 * system is built on. See docs/connectors/core.md.
 */
export { Backoff, type BackoffOptions } from './backoff';
export { checkOptions, connectorError, intOption, isConnectorError, messageOf, oneOfOption, stringOption, type ConnectorErrorCode } from './errors';
export { guaranteeOf, PROCESSING_GUARANTEE, type Guarantee } from './guarantee';
export { OffsetTracker, type Tracked } from './offsets';
export { BoundedQueue, DueQueue } from './queues';
export { jsonScheme, rawScheme, stringScheme } from './schemes';
export { BatchingSinkBolt, checkSinkOptions, type BatchingSinkOptions, type SinkCounters, type SinkWriter } from './sink';
export type { Offsets, Operation, Scheme, SourceAdapter, SourceMessage } from './source';
export { BrokerSpout, checkSpoutOptions, spoutLimits, DEAD_LETTER_FIELDS, DEAD_LETTER_STREAM, type BrokerSpoutOptions, type SpoutCounters } from './spout';
export { seededRng, SYSTEM_CLOCK, type ConnectorClock, type Rng } from './timing';
export { Inbox } from './inbox';
export { tupleObject } from './values';
