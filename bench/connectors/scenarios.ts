/**
 * Connector benchmarks, each against the raw client loop on the same server in the same run
 * (bench/connectors/harness.ts runs them):
 *
 * - `connectors/redis-spout`: Redis Streams spout (consumer group, acking on) → null bolt, from a
 *   pre-filled stream, vs XREADGROUP + XACK in a loop;
 * - `connectors/redis-sink`: a spout of numbered tuples → Redis sink (XADD, batches of 500, acking
 *   on), vs pipelined XADD in a loop;
 * - `connectors/pg-sink`: the same into the PostgreSQL upsert sink, vs multi-row upserts in a loop;
 * - `connectors/nats-spout`, `connectors/nats-sink`: JetStream (bench/connectors/nats.ts);
 * - `connectors/rabbitmq-spout`, `connectors/rabbitmq-sink`: RabbitMQ (bench/connectors/rabbitmq.ts);
 * - `connectors/mqtt-spout`, `connectors/mqtt-sink`: MQTT (bench/connectors/mqtt.ts).
 */
import { Client } from 'pg';
import { stringScheme } from '../../connectors/core';
import { PgUpsertSinkBolt } from '../../connectors/postgresql';
import { RedisSinkBolt, RedisStreamSpout } from '../../connectors/redis';
import { startMosquitto } from '../servers/mosquitto';
import { startNats } from '../servers/nats';
import { startPostgres } from '../servers/postgres';
import { startRabbitMq } from '../servers/rabbitmq';
import { startRedis, type RedisServer } from '../servers/redis';
import { connectorBench, PAYLOAD, sinkTopology, spoutTopology, type BenchSession } from './harness';
import { mqttSink, mqttSpout } from './mqtt';
import { natsSink, natsSpout } from './nats';
import { rabbitmqSink, rabbitmqSpout } from './rabbitmq';
import { benchRedis, fillStream, rawPgUpsert, rawRedisRead, rawRedisWrite, type ConnectorBenchResult as ScenarioResult } from './raw';

/**
 * Warm-up and windows take 7 s, and the raw loop reads the same stream under its own group: 1.5M
 * ran out by the fourth window at 350k/s, 4M by the last once the spout read with ioredis 5.
 */
const REDIS_BACKLOG = 8_000_000;

async function redisSpout(server: RedisServer): Promise<BenchSession> {
  await fillStream(server.url, 'spout', REDIS_BACKLOG, () => PAYLOAD);
  const redis = benchRedis(server.url);
  return {
    topology: spoutTopology(() => new RedisStreamSpout({ url: server.url, stream: 'spout', group: 'bench', start: '0', payloadField: 'p', scheme: stringScheme() })),
    backlog: REDIS_BACKLOG,
    raw: (ms) => rawRedisRead(redis, 'spout', 'raw', ms),
    close: () => Promise.resolve(redis.disconnect()),
  };
}

function redisSink(server: RedisServer): Promise<BenchSession> {
  const redis = benchRedis(server.url);
  return Promise.resolve({
    topology: sinkTopology(() => new RedisSinkBolt({ url: server.url, write: { command: 'xadd', stream: 'sink', fields: ['p'], maxLen: 1_000_000 }, batchSize: 500 })),
    raw: (ms) => rawRedisWrite(redis, 'raw', () => PAYLOAD, ms),
    close: () => Promise.resolve(redis.disconnect()),
  });
}

async function pgSink(server: { url: string }): Promise<BenchSession> {
  const c = new Client({ connectionString: server.url });
  c.on('error', () => undefined);
  await c.connect();
  try {
    await c.query('CREATE TABLE sink (id int PRIMARY KEY, v text)');
    await c.query('CREATE TABLE raw (id int PRIMARY KEY, v bigint)');
  } finally {
    await c.end().catch(() => undefined);
  }
  return {
    topology: sinkTopology(() => new PgUpsertSinkBolt({ connectionString: server.url, table: 'sink', columns: { id: 'id', v: 'p' }, key: ['id'], batchSize: 500 }), 100_000),
    raw: (ms) => rawPgUpsert(server.url, 'raw', ms),
    close: () => Promise.resolve(),
  };
}

/** Each scenario: its server and its session (what it pre-fills, the topology, the raw loop). */
const SCENARIOS: Record<string, () => Promise<ScenarioResult>> = {
  'redis-spout': () => connectorBench(startRedis, redisSpout),
  'redis-sink': () => connectorBench(startRedis, redisSink),
  'pg-sink': () => connectorBench(startPostgres, pgSink),
  'nats-spout': () => connectorBench(startNats, natsSpout),
  'nats-sink': () => connectorBench(startNats, natsSink),
  'rabbitmq-spout': () => connectorBench(startRabbitMq, rabbitmqSpout),
  'rabbitmq-sink': () => connectorBench(startRabbitMq, rabbitmqSink),
  'mqtt-spout': () => connectorBench(startMosquitto, mqttSpout),
  'mqtt-sink': () => connectorBench(startMosquitto, mqttSink),
};

export function connectorScenario(which: string): Promise<ScenarioResult> {
  const scenario = SCENARIOS[which];
  if (scenario === undefined) return Promise.reject(new Error(`unknown connector scenario ${which}`));
  return scenario();
}
