/**
 * Redis connectors (`squall/connectors/redis`, on ioredis): the Redis Streams spout and the Redis
 * sink. See docs/connectors/redis.md.
 */
export { classifyRedisError, type RedisConnectionOptions } from './connection';
export { fromField, RedisSinkBolt, type FromTuple, type RedisSinkOptions, type RedisWrite, type RedisWriteSpec } from './sink';
export { compareIds, REDIS_ENTRY_FIELDS, redisEntryScheme, redisFieldsScheme, RedisStreamSpout, type RedisStreamMessage, type RedisStreamSpoutOptions } from './stream-spout';
export { DEAD_LETTER_STREAM, jsonScheme, rawScheme, stringScheme, type Scheme } from '../core';
