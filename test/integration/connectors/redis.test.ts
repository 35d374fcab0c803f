/**
 * The Redis connectors against a real redis-server (bench/servers), in a LocalCluster: the
 * Streams spout (shared consumer group, XACK on completion, retries of failed and timed-out
 * tuples, dead letters, XAUTOCLAIM of a dead consumer's entries, position mode for exactly-once),
 * its faults (server killed and restarted mid-run, wrong credentials, unreachable server), and the
 * sink (pipelined batches, idempotent mode, an outage). Worker processes, kill -9 and REST are in
 * redis-cluster.test.ts.
 */
import type Redis from 'ioredis';
import { startRedis, type RedisServer } from '../../../bench/servers/redis';
import { freePort } from '../../../bench/servers/managed';
import { jsonScheme, seededRng } from '../../../connectors/core';
import { fromField, RedisSinkBolt, RedisStreamSpout } from '../../../connectors/redis';
import { LocalCluster } from '../../../local';
import { BaseRichSpout, TopologyBuilder, type SpoutOutputCollector, type Tuple } from '../../../topology-api';
import { fakeContext, RecordingBoltCollector, RecordingSpoutCollector, tuple } from '../../unit/connectors/helpers';
import { appendEntries, newSeen, pendingCount, RecordBolt, redisClient, waitUntil } from './redis-helpers';

jest.setTimeout(90_000);

const FAST = { retryBackoff: { initialMs: 10, maxMs: 100 }, reconnectBackoff: { initialMs: 50, maxMs: 400 }, random: seededRng(1) };

function errorsOf(info: { errors: Record<string, Array<{ error: string }>> }, component: string): string {
  return (info.errors[component] ?? []).map((e) => e.error).join('\n');
}

describe('Redis Streams spout', () => {
  let server: RedisServer;
  let client: Redis;
  let cluster: LocalCluster;

  beforeAll(async () => {
    server = await startRedis();
    client = redisClient(server.port);
  });
  afterEach(async () => {
    await cluster?.close();
  });
  afterAll(async () => {
    client?.disconnect();
    await server?.stop();
  });

  it('two tasks share one consumer group: every entry is processed and XACKed, failed and timed-out ones are delivered again', async () => {
    const n = 600;
    await appendEntries(client, 'ads', n, (i) => JSON.stringify({ id: i }));
    const seen = newSeen();
    const builder = new TopologyBuilder();
    builder.setSpout('ads', () => new RedisStreamSpout({ url: server.url, stream: 'ads', group: 'g', start: '0', payloadField: 'json', scheme: jsonScheme(['id']), ...FAST }), 2);
    builder.setBolt('record', () => new RecordBolt(seen, { failFirst: (id) => Number(id) % 50 === 0, holdFirst: (id) => Number(id) % 97 === 1 }), 1).shuffleGrouping('ads');
    cluster = new LocalCluster();
    await cluster.submitTopology('group', { 'topology.message.timeout.secs': 1, 'topology.max.spout.pending': 100 }, builder);
    await waitUntil('every entry processed and acknowledged', async () => new Set(seen.ids).size === n && (await pendingCount(client, 'ads', 'g')) === 0, 30_000, async () => ({ distinct: new Set(seen.ids).size, pending: await pendingCount(client, 'ads', 'g') }));
    expect(seen.failedOnce.size).toBe(12);
    expect(seen.heldOnce.size).toBe(7); // 1, 98, ..., 583
    for (const id of [...seen.failedOnce, ...seen.heldOnce]) expect(seen.ids.filter((x) => x === id).length).toBeGreaterThanOrEqual(2);
    const consumers = (await client.xinfo('CONSUMERS', 'ads', 'g')) as unknown[][];
    expect(consumers.map((c) => c[1]).sort()).toEqual(['ads-0', 'ads-1']);
  });

  it('an undecodable entry goes to the deadletter stream and the Redis dead-letter stream, counted, and does not stall the spout', async () => {
    const n = 200;
    await appendEntries(client, 'mixed', n, (i) => (i % 20 === 7 ? `{oops ${i}` : JSON.stringify({ id: i })));
    const seen = newSeen();
    const builder = new TopologyBuilder();
    builder.setSpout('mixed', () => new RedisStreamSpout({ url: server.url, stream: 'mixed', start: '0', payloadField: 'json', scheme: jsonScheme(['id']), ...FAST }), 1);
    builder.setBolt('record', () => new RecordBolt(seen), 1).shuffleGrouping('mixed').shuffleGrouping('mixed', 'deadletter');
    cluster = new LocalCluster();
    await cluster.submitTopology('dlq', {}, builder);
    await waitUntil(
      'good entries processed, bad ones dead-lettered',
      async () => new Set(seen.ids).size === n - 10 && seen.dead.length === 10 && (await client.xlen('mixed:dlq')) === 10 && (await pendingCount(client, 'mixed', 'mixed')) === 0,
      20_000,
      async () => ({ ids: seen.ids.length, distinct: new Set(seen.ids).size, dead: seen.dead.length, dlq: await client.xlen('mixed:dlq'), pending: await pendingCount(client, 'mixed', 'mixed'), errors: errorsOf(await cluster.getTopologyInfo('dlq'), 'mixed').slice(0, 600) }),
    );
    expect(seen.dead.map((d) => d[2]).every((p) => String(p).startsWith('{oops'))).toBe(true);
    const dlq = (await client.xrange('mixed:dlq', '-', '+')) as Array<[string, string[]]>;
    expect(dlq[0][1]).toEqual(expect.arrayContaining(['stream', 'mixed', 'error']));
    expect(errorsOf(await cluster.getTopologyInfo('dlq'), 'mixed')).toContain('ERR_CONNECTOR_DECODE');
  });

  it('claims the entries a dead consumer left pending (XAUTOCLAIM) and processes them', async () => {
    await client.xgroup('CREATE', 'orphans', 'g', '0', 'MKSTREAM');
    await appendEntries(client, 'orphans', 50, (i) => JSON.stringify({ id: i }));
    await client.xreadgroup('GROUP', 'g', 'ghost', 'COUNT', 100, 'STREAMS', 'orphans', '>');
    expect(await pendingCount(client, 'orphans', 'g')).toBe(50);
    const seen = newSeen();
    const builder = new TopologyBuilder();
    builder.setSpout('o', () => new RedisStreamSpout({ url: server.url, stream: 'orphans', group: 'g', payloadField: 'json', scheme: jsonScheme(['id']), claimMinIdleMs: 300, claimIntervalMs: 100, ...FAST }), 1);
    builder.setBolt('record', () => new RecordBolt(seen), 1).shuffleGrouping('o');
    cluster = new LocalCluster();
    await cluster.submitTopology('claim', {}, builder);
    await waitUntil('the ghost consumer\'s entries processed and acknowledged', async () => new Set(seen.ids).size === 50 && (await pendingCount(client, 'orphans', 'g')) === 0, 20_000);
  });

  it('wrong credentials and an unreachable server at start: a coded error in the component errors, no crash', async () => {
    const secured = await startRedis({ password: 'right' });
    const nowhere = await freePort();
    try {
      const builder = new TopologyBuilder();
      builder.setSpout('badauth', () => new RedisStreamSpout({ url: `redis://:wrong@127.0.0.1:${secured.port}`, stream: 's', ...FAST }), 1);
      builder.setSpout('nowhere', () => new RedisStreamSpout({ url: `redis://127.0.0.1:${nowhere}`, stream: 's', ...FAST }), 1);
      builder.setBolt('record', () => new RecordBolt(newSeen()), 1).shuffleGrouping('badauth').shuffleGrouping('nowhere');
      cluster = new LocalCluster();
      await cluster.submitTopology('bad', {}, builder);
      const info = await waitUntil(
        'coded errors of both spouts',
        async () => {
          const i = await cluster.getTopologyInfo('bad');
          return errorsOf(i, 'badauth').includes('ERR_CONNECTOR_AUTH') && errorsOf(i, 'nowhere').includes('ERR_CONNECTOR_CONNECT') ? i : null;
        },
        15_000,
      );
      expect(info.status).toBe('ACTIVE');
      expect(errorsOf(info, 'badauth')).not.toContain('right'); // the password is not in the error
      expect(info.numWorkers).toBe(1);
    } finally {
      await secured.stop();
    }
  });

  it('server killed and restarted mid-run: the spout reconnects with backoff; nothing acknowledged is lost, nothing un-acknowledged dropped', async () => {
    const durable = await startRedis({ persistent: true });
    const c = redisClient(durable.port);
    try {
      await appendEntries(c, 'orders', 500, (i) => JSON.stringify({ id: i }));
      const seen = newSeen();
      const builder = new TopologyBuilder();
      builder.setSpout('orders', () => new RedisStreamSpout({ url: durable.url, stream: 'orders', group: 'g', start: '0', payloadField: 'json', scheme: jsonScheme(['id']), claimMinIdleMs: 2000, claimIntervalMs: 500, ...FAST }), 1);
      builder.setBolt('record', () => new RecordBolt(seen), 1).shuffleGrouping('orders');
      cluster = new LocalCluster();
      await cluster.submitTopology('outage', { 'topology.message.timeout.secs': 2 }, builder);
      await waitUntil('some entries processed', () => seen.ids.length >= 100, 15_000);
      await durable.kill9();
      c.disconnect();
      await waitUntil('the outage reported', async () => errorsOf(await cluster.getTopologyInfo('outage'), 'orders').includes('ERR_CONNECTOR_CONNECT'), 10_000);
      await durable.restart();
      const c2 = redisClient(durable.port);
      try {
        await appendEntries(c2, 'orders', 500, (i) => JSON.stringify({ id: 500 + i }));
        await waitUntil('all 1000 processed and acknowledged after the restart', async () => new Set(seen.ids).size === 1000 && (await pendingCount(c2, 'orders', 'g')) === 0, 30_000);
        expect(await c2.xlen('orders')).toBe(1000); // nothing written before the kill was lost
      } finally {
        c2.disconnect();
      }
    } finally {
      c.disconnect();
      await durable.stop();
    }
  });

  it('a connection dropped while every entry is held (no room to poll, no acks): reported at once, reconnected, then acknowledged', async () => {
    // Seen in the Redis cluster suite under load: with the sink down too, nothing completes, the
    // spout never polled nor acked, and the outage never showed in its component errors.
    await appendEntries(client, 'held', 20, (i) => JSON.stringify({ id: i }));
    const spout = new RedisStreamSpout({ url: server.url, stream: 'held', group: 'g', start: '0', payloadField: 'json', scheme: jsonScheme(['id']), maxPending: 4, prefetch: 4, ...FAST });
    const collector = new RecordingSpoutCollector();
    spout.open({}, fakeContext(), collector);
    spout.activate();
    try {
      await waitUntil('4 in flight and the buffer full', () => {
        spout.nextTuple();
        return collector.emitted.length === 4 && spout.heldCount() === 8;
      }, 10_000);
      const consumer = async (): Promise<number> => (String(await client.client('LIST')).match(/name=spout-0-(read|write)\b/g) ?? []).length;
      expect(await consumer()).toBe(2);
      await client.call('CLIENT', 'KILL', 'TYPE', 'normal', 'SKIPME', 'yes'); // the server drops the spout's connections
      await waitUntil('the lost connection reported', () => collector.codes().includes('ERR_CONNECTOR_CONNECT'), 10_000);
      await waitUntil('reconnected', async () => (await consumer()) === 2, 10_000);
      for (const e of collector.emitted) spout.ack(e.msgId);
      await waitUntil('the 4 acknowledged at the broker', async () => (await pendingCount(client, 'held', 'g')) === 4, 10_000); // the other 4 are read, not yet emitted
    } finally {
      await spout.close();
    }
  });

  it('position mode (exactly-once): offsets() is the last id read per key, seek() rewinds to it; keys are split over tasks', async () => {
    const a = await appendEntries(client, 'pa', 30, (i) => JSON.stringify({ id: `a${i}` }));
    await appendEntries(client, 'pb', 30, (i) => JSON.stringify({ id: `b${i}` }));
    const spout = new RedisStreamSpout({ url: server.url, stream: ['pa', 'pb'], start: '0', payloadField: 'json', scheme: jsonScheme(['id'], { withOffset: true }), ...FAST });
    const collector = new RecordingSpoutCollector();
    // task 0 of 2: reads 'pa' only
    spout.open({ 'topology.processing.guarantee': 'exactly-once' }, fakeContext(0, 2, 'ads'), collector);
    spout.activate();
    const emitSome = async (k: number): Promise<void> => {
      const target = collector.emitted.length + k;
      await waitUntil(`${k} more tuples`, () => {
        for (let i = 0; i < 20; i++) spout.nextTuple();
        return collector.emitted.length >= target;
      }, 10_000);
    };
    await emitSome(10);
    expect(collector.emitted.every((e) => e.values[0] === 'pa')).toBe(true);
    const snapshot = spout.offsets();
    expect(snapshot).toEqual({ pa: a[collector.emitted.length - 1] });
    const mark = collector.emitted.length;
    await emitSome(5);
    spout.seek(snapshot);
    const after = collector.emitted.length;
    await emitSome(3);
    expect(collector.emitted[after].values[1]).toBe(a[mark]); // resumes right after the snapshot
    expect(() => new RedisStreamSpout({ url: server.url, stream: 's', mode: 'group', guarantee: 'exactly-once' })).toThrow(expect.objectContaining({ code: 'ERR_CONNECTOR_CONFIG' }));
    await spout.close();
  });
});

/** Emits `values(i)` for i < n with message id i, replays failed ones, records acks. */
class ListSpout extends BaseRichSpout {
  private collector!: SpoutOutputCollector;
  private next = 0;
  private readonly replay: number[] = [];
  constructor(
    private readonly n: number,
    private readonly fields: string[],
    private readonly values: (i: number) => unknown[],
    private readonly acked: Set<number>,
  ) {
    super();
  }
  open(_c: unknown, _x: unknown, collector: SpoutOutputCollector): void {
    this.collector = collector;
  }
  nextTuple(): void {
    const i = this.replay.length > 0 ? this.replay.shift()! : this.next < this.n ? this.next++ : -1;
    if (i >= 0) this.collector.emit(this.values(i), i);
  }
  ack(id: unknown): void {
    this.acked.add(id as number);
  }
  fail(id: unknown): void {
    this.replay.push(id as number);
  }
  declareOutputFields(d: { declare(f: string[]): void }): void {
    d.declare(this.fields);
  }
}

describe('Redis sink', () => {
  let server: RedisServer;
  let client: Redis;
  let cluster: LocalCluster;

  beforeAll(async () => {
    server = await startRedis();
    client = redisClient(server.port);
  });
  afterEach(async () => {
    await cluster?.close();
  });
  afterAll(async () => {
    client?.disconnect();
    await server?.stop();
  });

  it('appends to a stream, sets hashes and increments counters in pipelined batches; every input acked after its write', async () => {
    const n = 1000;
    const acked = new Set<number>();
    const builder = new TopologyBuilder();
    builder.setSpout('events', () => new ListSpout(n, ['id', 'campaign', 'kind'], (i) => [i, `c${i % 10}`, i % 2 ? 'view' : 'click'], acked), 1);
    builder.setBolt('append', () => new RedisSinkBolt({ url: server.url, write: { command: 'xadd', stream: 'out', fields: ['id', 'kind'] }, batchSize: 100 }), 1).shuffleGrouping('events');
    builder.setBolt('count', () => new RedisSinkBolt({ url: server.url, write: { command: 'hincrby', key: 'counts', field: fromField('campaign') }, batchSize: 64 }), 2).fieldsGrouping('events', ['campaign']);
    builder.setBolt('last', () => new RedisSinkBolt({ url: server.url, write: { command: 'hset', key: (t: Tuple) => `c:${t.getStringByField('campaign')}`, fields: ['id'] } }), 1).shuffleGrouping('events');
    cluster = new LocalCluster();
    await cluster.submitTopology('sinks', {}, builder);
    await waitUntil('every event acked', () => acked.size === n, 20_000);
    expect(await client.xlen('out')).toBe(n);
    const counts = await client.hgetall('counts');
    expect(Object.values(counts).map(Number).reduce((a, b) => a + b, 0)).toBe(n);
    expect(counts.c3).toBe('100');
    expect(Number(await client.hget('c:c0', 'id')) % 10).toBe(0);
  });

  it('idempotent mode applies each write once, however often it is replayed', async () => {
    const bolt = new RedisSinkBolt({ url: server.url, write: { command: 'incrby', key: 'clicks', by: fromField<number>('n') }, idempotencyKey: fromField('id'), batchSize: 4 });
    const collector = new RecordingBoltCollector();
    bolt.prepare({}, fakeContext(0, 1, 'sink'), collector);
    const batch = (ids: number[]): Array<void | Promise<void>> => ids.map((i) => bolt.execute(tuple([`e${i}`, 10], ['id', 'n'])));
    await Promise.all(batch([1, 2, 3, 4]));
    await Promise.all(batch([3, 4, 5, 6])); // a replay of 3 and 4
    expect(await client.get('clicks')).toBe('60');
    expect(collector.acked.length).toBe(8);
    await bolt.cleanup();
  });

  it('an outage: the write is retried with backoff and the coded error reported; then the inputs fail (so they are replayed); it recovers', async () => {
    const flaky = await startRedis();
    try {
      const bolt = new RedisSinkBolt({ url: flaky.url, write: { command: 'incrby', key: 'k' }, batchSize: 2, writeAttempts: 3, reconnectBackoff: { initialMs: 20, maxMs: 100 } });
      const collector = new RecordingBoltCollector();
      bolt.prepare({}, fakeContext(0, 1, 'sink'), collector);
      await Promise.all([bolt.execute(tuple(['a'], ['x'])), bolt.execute(tuple(['b'], ['x']))]);
      expect(collector.acked.length).toBe(2);
      await flaky.kill9();
      await Promise.all([bolt.execute(tuple(['c'], ['x'])), bolt.execute(tuple(['d'], ['x']))]);
      expect(collector.failed.length).toBe(2);
      expect(collector.codes()).toContain('ERR_CONNECTOR_CONNECT');
      await flaky.restart();
      await Promise.all([bolt.execute(tuple(['e'], ['x'])), bolt.execute(tuple(['f'], ['x']))]);
      expect(collector.acked.length).toBe(4);
      await bolt.cleanup();
    } finally {
      await flaky.stop();
    }
  });
});
