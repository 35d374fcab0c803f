/**
 * Connector benchmarks, each against the raw client loop on the same server in the same run:
 *
 * - `connectors/redis-spout`: Redis Streams spout (consumer group, acking on) → null bolt, from a
 *   pre-filled stream, vs XREADGROUP + XACK in a loop;
 * - `connectors/redis-sink`: a spout of numbered tuples → Redis sink (XADD, batches of 500, acking
 *   on), vs pipelined XADD in a loop;
 * - `connectors/pg-sink`: the same into the PostgreSQL upsert sink, vs multi-row upserts in a loop.
 *
 * Topologies run in this process (one WorkerRuntime, as the bench's "in" shapes); the server is a
 * throwaway one from bench/servers.
 */
import { Client } from 'pg';
import { BaseRichSpout, TopologyBuilder, type OutputFieldsDeclarer, type SpoutOutputCollector, type TopologyConfig, type TopologyContext } from '../../topology-api';
import { stringScheme } from '../../connectors/core';
import { PgUpsertSinkBolt } from '../../connectors/postgresql';
import { RedisSinkBolt, RedisStreamSpout } from '../../connectors/redis';
import { NullBolt } from '../components';
import { InProcessRun } from '../inprocess';
import { median, rate, sleep, type Snapshot } from '../measure';
import { CpuMeter } from '../procfs';
import { startPostgres } from '../servers/postgres';
import { startRedis } from '../servers/redis';
import { benchRedis, fillStream, rawPgUpsert, rawRedisRead, rawRedisWrite, type ConnectorBenchResult as ScenarioResult } from './raw';

const WARMUP_MS = 2000;
const WINDOWS = 5;
const WINDOW_MS = 1000;
const RAW_MS = 4000;
const PAYLOAD = JSON.stringify({ id: 0, kind: 'view', at: 1_700_000_000_000, from: '10.0.0.1' });

/** Numbered tuples `[id, payload]` with a message id each (acking on). */
class NumberSpout extends BaseRichSpout {
  private collector!: SpoutOutputCollector;
  private n = 0;
  constructor(private readonly keys: number) {
    super();
  }
  open(_c: Readonly<TopologyConfig>, _x: TopologyContext, collector: SpoutOutputCollector): void {
    this.collector = collector;
  }
  nextTuple(): void {
    const n = this.n++;
    this.collector.emit([n % this.keys, PAYLOAD], n);
  }
  declareOutputFields(d: OutputFieldsDeclarer): void {
    d.declare(['id', 'p']);
  }
}

/** Per-second acked rate of `component`'s tuples over WINDOWS windows after a warm-up: the median. */
async function measure(run: InProcessRun, component: string, field: 'acked' | 'executed'): Promise<{ rate: number; samples: number[]; cpu: number; other: number }> {
  await sleep(WARMUP_MS);
  const meter = new CpuMeter([process.pid]);
  let a: Snapshot = await run.snapshot();
  const samples: number[] = [];
  for (let i = 0; i < WINDOWS; i++) {
    await sleep(WINDOW_MS);
    const b = await run.snapshot();
    samples.push(rate(a, b, component, field));
    a = b;
  }
  return { rate: median(samples), samples, cpu: meter.percents()[0], other: meter.otherPercent() };
}

const ACKING: TopologyConfig = { 'topology.max.spout.pending': 5000 };

async function redisSpout(): Promise<ScenarioResult> {
  const server = await startRedis();
  const redis = benchRedis(server.url);
  try {
    await fillStream(redis, 'spout', 1_500_000, () => PAYLOAD);
    const b = new TopologyBuilder();
    b.setSpout('spout', () => new RedisStreamSpout({ url: server.url, stream: 'spout', group: 'bench', start: '0', payloadField: 'p', scheme: stringScheme() }), 1);
    b.setBolt('sink', NullBolt, 1).shuffleGrouping('spout');
    const run = InProcessRun.startBuilder(b, ACKING);
    let m;
    try {
      m = await measure(run, '*spouts', 'acked');
    } finally {
      await run.close();
    }
    const raw = await rawRedisRead(redis, 'spout', 'raw', RAW_MS);
    return result({ rate: m.rate, raw, ratio: m.rate / raw, cpu: m.cpu }, { rate: m.samples }, m.other);
  } finally {
    redis.disconnect();
    await server.stop();
  }
}

async function redisSink(): Promise<ScenarioResult> {
  const server = await startRedis();
  const redis = benchRedis(server.url);
  try {
    const b = new TopologyBuilder();
    b.setSpout('spout', () => new NumberSpout(1 << 30), 1);
    b.setBolt('sink', () => new RedisSinkBolt({ url: server.url, write: { command: 'xadd', stream: 'sink', fields: ['p'], maxLen: 1_000_000 }, batchSize: 500 }), 1).shuffleGrouping('spout');
    const run = InProcessRun.startBuilder(b, ACKING);
    let m;
    try {
      m = await measure(run, '*spouts', 'acked');
    } finally {
      await run.close();
    }
    const raw = await rawRedisWrite(redis, 'raw', () => PAYLOAD, RAW_MS);
    return result({ rate: m.rate, raw, ratio: m.rate / raw, cpu: m.cpu }, { rate: m.samples }, m.other);
  } finally {
    redis.disconnect();
    await server.stop();
  }
}

async function pgSink(): Promise<ScenarioResult> {
  const server = await startPostgres();
  const c = new Client({ connectionString: server.url });
  c.on('error', () => undefined);
  await c.connect();
  try {
    await c.query('CREATE TABLE sink (id int PRIMARY KEY, v text)');
    await c.query('CREATE TABLE raw (id int PRIMARY KEY, v bigint)');
    const b = new TopologyBuilder();
    b.setSpout('spout', () => new NumberSpout(100_000), 1);
    b.setBolt('sink', () => new PgUpsertSinkBolt({ connectionString: server.url, table: 'sink', columns: { id: 'id', v: 'p' }, key: ['id'], batchSize: 500 }), 1).shuffleGrouping('spout');
    const run = InProcessRun.startBuilder(b, ACKING);
    let m;
    try {
      m = await measure(run, '*spouts', 'acked');
    } finally {
      await run.close();
    }
    const raw = await rawPgUpsert(server.url, 'raw', RAW_MS);
    return result({ rate: m.rate, raw, ratio: m.rate / raw, cpu: m.cpu }, { rate: m.samples }, m.other);
  } finally {
    await c.end().catch(() => undefined);
    await server.stop();
  }
}

function result(values: Record<string, number>, samples: Record<string, number[]>, other: number): ScenarioResult {
  return { values, samples, workers: [], otherCpuPercent: other, checks: [] };
}

export async function connectorScenario(which: string): Promise<ScenarioResult> {
  switch (which) {
    case 'redis-spout':
      return redisSpout();
    case 'redis-sink':
      return redisSink();
    case 'pg-sink':
      return pgSink();
    default:
      throw new Error(`unknown connector scenario ${which}`);
  }
}
