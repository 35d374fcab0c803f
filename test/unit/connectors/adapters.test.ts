/**
 * The pure parts of the Redis and PostgreSQL adapters: error classification, option checks,
 * stream id order, upsert SQL and the per-batch merge by key.
 */
import { classifyPgError, mergeByKey, PgUpsertSinkBolt, upsertSql } from '../../../connectors/postgresql';
import { classifyRedisError, compareIds, RedisSinkBolt, RedisStreamSpout } from '../../../connectors/redis';
import { seededRng } from '../../../connectors/core';

describe('Redis adapter', () => {
  it('classifies ioredis errors by code', () => {
    expect(classifyRedisError(new Error('WRONGPASS invalid username-password pair or user is disabled.'), 'connect', 'h:1').code).toBe('ERR_CONNECTOR_AUTH');
    expect(classifyRedisError(new Error('NOAUTH Authentication required.'), 'poll', 'h:1').code).toBe('ERR_CONNECTOR_AUTH');
    expect(classifyRedisError(Object.assign(new Error('connect ECONNREFUSED 127.0.0.1:1'), { code: 'ECONNREFUSED' }), 'connect', 'h:1').code).toBe('ERR_CONNECTOR_CONNECT');
    expect(classifyRedisError(new Error('Connection is closed.'), 'ack', 'h:1').code).toBe('ERR_CONNECTOR_CONNECT');
    expect(classifyRedisError(new Error('NOGROUP No such key'), 'poll', 'h:1').code).toBe('ERR_CONNECTOR_IO');
    const err = classifyRedisError(new Error('WRONGPASS x'), 'connect', 'h:1');
    expect(String(err.stack)).toMatch(/^SquallError \[ERR_CONNECTOR_AUTH\]: /);
  });

  it('orders stream ids numerically', () => {
    const rng = seededRng(3);
    const ids = Array.from({ length: 200 }, () => `${Math.floor(rng() * 1000)}-${Math.floor(rng() * 20)}`);
    const sorted = [...ids].sort(compareIds);
    for (let i = 1; i < sorted.length; i++) {
      const [am, as] = sorted[i - 1].split('-').map(Number);
      const [bm, bs] = sorted[i].split('-').map(Number);
      expect(am < bm || (am === bm && as <= bs)).toBe(true);
    }
  });

  it('refuses bad options at construction, listing every problem', () => {
    expect(() => new RedisStreamSpout({ stream: [], url: 'http://x', start: 'later', blockMs: 0 })).toThrow(
      expect.objectContaining({ code: 'ERR_CONNECTOR_CONFIG', problems: expect.arrayContaining([expect.stringContaining('"stream"'), expect.stringContaining('"url"'), expect.stringContaining('"start"'), expect.stringContaining('"blockMs"')]) }),
    );
    expect(() => new RedisSinkBolt({ write: { command: 'lpush' } as never })).toThrow(expect.objectContaining({ code: 'ERR_CONNECTOR_CONFIG' }));
    expect(() => new RedisStreamSpout({ stream: 's', start: '1700000000000-0' })).not.toThrow();
  });
});

describe('PostgreSQL adapter', () => {
  it('builds one multi-row upsert per batch, quoting identifiers', () => {
    expect(upsertSql('public.counts', ['campaign', 'n'], ['campaign'], 'add', 2)).toBe(
      'INSERT INTO "public"."counts" ("campaign", "n") VALUES ($1, $2), ($3, $4) ON CONFLICT ("campaign") DO UPDATE SET "n" = "public"."counts"."n" + EXCLUDED."n"',
    );
    expect(upsertSql('t', ['id', 'v'], ['id'], 'replace', 1)).toBe('INSERT INTO "t" ("id", "v") VALUES ($1, $2) ON CONFLICT ("id") DO UPDATE SET "v" = EXCLUDED."v"');
    expect(upsertSql('t', ['id', 'v'], ['id'], 'ignore', 1)).toBe('INSERT INTO "t" ("id", "v") VALUES ($1, $2) ON CONFLICT ("id") DO NOTHING');
    expect(upsertSql('we"ird', ['a'], ['a'], 'replace', 1)).toContain('"we""ird"');
  });

  it.each([1, 2, 3, 4, 5])('merges a batch by key as the database would apply it row by row (seed %i)', (seed) => {
    const rng = seededRng(seed);
    const rows = Array.from({ length: 300 }, () => [`k${Math.floor(rng() * 40)}`, Math.floor(rng() * 100)]);
    const model = (mode: 'replace' | 'add' | 'ignore'): Map<string, number> => {
      const m = new Map<string, number>();
      for (const [k, v] of rows as Array<[string, number]>) {
        if (!m.has(k)) m.set(k, v);
        else if (mode === 'replace') m.set(k, v);
        else if (mode === 'add') m.set(k, m.get(k)! + v);
      }
      return m;
    };
    for (const mode of ['replace', 'add', 'ignore'] as const) {
      const merged = mergeByKey(rows, [0], mode);
      expect(new Map(merged.map((r) => [r[0] as string, Number(r[1])]))).toEqual(model(mode));
      expect(new Set(merged.map((r) => r[0])).size).toBe(merged.length);
    }
  });

  it('classifies pg errors by SQLSTATE and errno', () => {
    expect(classifyPgError(Object.assign(new Error('password authentication failed for user "postgres"'), { code: '28P01' }), 'connect', 'h').code).toBe('ERR_CONNECTOR_AUTH');
    expect(classifyPgError(Object.assign(new Error('connect ECONNREFUSED'), { code: 'ECONNREFUSED' }), 'connect', 'h').code).toBe('ERR_CONNECTOR_CONNECT');
    expect(classifyPgError(Object.assign(new Error('terminating connection due to administrator command'), { code: '57P01' }), 'write', 'h').code).toBe('ERR_CONNECTOR_CONNECT');
    expect(classifyPgError(Object.assign(new Error('relation "x" does not exist'), { code: '42P01' }), 'write', 'h').code).toBe('ERR_CONNECTOR_IO');
  });

  it('refuses bad options at construction', () => {
    expect(() => new PgUpsertSinkBolt({ table: '', columns: [], key: ['id'] })).toThrow(
      expect.objectContaining({ code: 'ERR_CONNECTOR_CONFIG', problems: expect.arrayContaining([expect.stringContaining('"table"'), expect.stringContaining('"columns"'), expect.stringContaining('key column "id"')]) }),
    );
  });
});
