/**
 * The physical limits the connector benchmarks are measured against: the client library alone,
 * in a tight loop, on the same server in the same run (Redis XADD pipelined, XREADGROUP + XACK,
 * PostgreSQL multi-row upserts), with the same batch sizes as the connectors use.
 */
import Redis from 'ioredis';
import { Client } from 'pg';
import { upsertSql } from '../../connectors/postgresql';
import { respCommand, RespWriter } from './resp-writer';

export function benchRedis(url: string): Redis {
  const r = new Redis(url, { maxRetriesPerRequest: 1, enableAutoPipelining: false });
  r.on('error', () => undefined);
  return r;
}

/**
 * Appends `n` entries of `field` = value(i) to `stream` over a raw RESP pipeline, `batch` per
 * write: ioredis's pipelines filled 1.5M entries at ~60k/s here, too slow for a backlog that a
 * spout reads at 350k/s.
 */
export async function fillStream(url: string, stream: string, n: number, value: (i: number) => string, field = 'p', batch = 1000): Promise<void> {
  const u = new URL(url);
  const w = await RespWriter.connect(Number(u.port), u.hostname);
  try {
    for (let start = 0; start < n; start += batch) {
      let commands = '';
      const end = Math.min(n, start + batch);
      for (let i = start; i < end; i++) commands += respCommand(['XADD', stream, '*', field, value(i)]);
      await w.send(commands, end - start);
    }
    if (w.firstError !== null) throw new Error(`filling ${stream}: ${w.firstError}`);
  } finally {
    w.close();
  }
}

/** XADD as fast as one client goes, pipelined `batch` at a time, for `ms`: entries/s. */
export async function rawRedisWrite(redis: Redis, stream: string, value: (i: number) => string, ms: number, batch = 500): Promise<number> {
  let n = 0;
  const t0 = performance.now();
  while (performance.now() - t0 < ms) {
    const p = redis.pipeline();
    for (let i = 0; i < batch; i++) p.xadd(stream, 'MAXLEN', '~', 1_000_000, '*', 'p', value(n + i));
    await p.exec();
    n += batch;
  }
  return (n / (performance.now() - t0)) * 1000;
}

/** XADD over a raw RESP pipeline (no client library), `batch` per write, for `ms`: what the server takes from one connection. */
export async function rawRespWrite(url: string, stream: string, value: (i: number) => string, ms: number, batch = 1000): Promise<number> {
  const u = new URL(url);
  const w = await RespWriter.connect(Number(u.port), u.hostname);
  try {
    let n = 0;
    const t0 = performance.now();
    while (performance.now() - t0 < ms) {
      let commands = '';
      for (let i = 0; i < batch; i++) commands += respCommand(['XADD', stream, 'MAXLEN', '~', '1000000', '*', 'p', value(n + i)]);
      await w.send(commands, batch);
      n += batch;
    }
    return (n / (performance.now() - t0)) * 1000;
  } finally {
    w.close();
  }
}

/** XREADGROUP `count` at a time and XACK each batch, as fast as one client goes, for `ms`: entries/s. */
export async function rawRedisRead(redis: Redis, stream: string, group: string, ms: number, count = 500): Promise<number> {
  await redis.xgroup('CREATE', stream, group, '0', 'MKSTREAM').catch(() => undefined);
  let n = 0;
  const t0 = performance.now();
  while (performance.now() - t0 < ms) {
    const reply = (await redis.xreadgroup('GROUP', group, 'raw', 'COUNT', count, 'STREAMS', stream, '>')) as Array<[string, Array<[string, string[]]>]> | null;
    if (reply === null || reply[0][1].length === 0) break;
    const ids = reply[0][1].map((e) => e[0]);
    await redis.xack(stream, group, ...ids);
    n += ids.length;
  }
  return (n / (performance.now() - t0)) * 1000;
}

/** Multi-row upserts of `batch` rows (the sink's statement) as fast as one client goes, for `ms`: rows/s. */
export async function rawPgUpsert(url: string, table: string, ms: number, batch = 500, keys = 100_000): Promise<number> {
  const c = new Client({ connectionString: url });
  c.on('error', () => undefined);
  await c.connect();
  try {
    const sql = upsertSql(table, ['id', 'v'], ['id'], 'replace', batch);
    let n = 0;
    const t0 = performance.now();
    while (performance.now() - t0 < ms) {
      const params: unknown[] = [];
      for (let i = 0; i < batch; i++) params.push((n + i) % keys, n + i);
      await c.query(sql, params);
      n += batch;
    }
    return (n / (performance.now() - t0)) * 1000;
  } finally {
    await c.end().catch(() => undefined);
  }
}

/** The shape of bench/scenarios.ts ScenarioResult (kept here so the scenarios table imports us, not the other way round). */
export interface ConnectorBenchResult {
  values: Record<string, number>;
  samples: Record<string, number[]>;
  workers: never[];
  otherCpuPercent: number;
  checks: Array<{ what: string; ok: boolean; detail: string }>;
}
