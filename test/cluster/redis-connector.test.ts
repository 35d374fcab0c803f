/**
 * The Redis connectors on real worker processes: `squall submit` of a topology that imports
 * `squall/connectors/redis` (the bundle carries ioredis, as any npm dependency) on ZooKeeper,
 * Nimbus and a supervisor with two worker slots, against a real redis-server. Faults: a worker
 * killed with kill -9 mid-run (its un-acknowledged entries are delivered again and processed),
 * Redis killed and restarted mid-run (the coded error shows in REST, processing resumes, nothing
 * is lost), wrong credentials and an unreachable server at start (a coded error in REST, the
 * worker keeps running instead of crash-looping).
 */
import * as path from 'node:path';
import type Redis from 'ioredis';
import { startRedis, type RedisServer } from '../../bench/servers/redis';
import { freePort } from '../../bench/servers/managed';
import { Cluster, ROOT, waitFor } from '../helpers/cluster-harness';
import { isProcessAlive } from '../helpers/cluster-processes';
import { componentErrors as errorsOf, submitFixtureTopology } from '../helpers/connector-cluster';
import { appendEntries, pendingCount, redisClient } from '../integration/connectors/redis-helpers';
import type { PipelineOptions } from '../fixtures/connectors/redis-pipeline';

jest.setTimeout(150_000);

const FIXTURE = path.join(ROOT, 'test', 'fixtures', 'connectors', 'redis-pipeline');

let cluster: Cluster;
let redis: RedisServer;
let client: Redis;

beforeAll(async () => {
  redis = await startRedis({ persistent: true });
  client = redisClient(redis.port);
  cluster = await Cluster.start({ name: 'redis-conn', supervisors: 1, slotsPerSupervisor: 2 });
});

afterAll(async () => {
  client?.disconnect();
  await cluster?.stop();
  await redis?.stop();
});

const submitPipeline = (name: string, options: PipelineOptions, conf: Record<string, unknown>): Promise<string> => submitFixtureTopology(cluster, FIXTURE, 'redisPipeline', name, options, conf);
const componentErrors = (id: string, component: string): Promise<string[]> => errorsOf(cluster, id, component);

async function seenCount(c: Redis, key: string): Promise<number> {
  return c.hlen(key);
}

it('squall submit bundles ioredis; on two worker processes a worker killed with kill -9 has its un-acknowledged entries delivered again', () =>
  cluster.run(async () => {
    const n = 6000;
    await appendEntries(client, 'k9', n, (i) => JSON.stringify({ id: i }));
    const id = await submitPipeline('k9', { url: redis.url, stream: 'k9', group: 'k9', workMs: 20, claimMinIdleMs: 1500 }, { 'topology.workers': 2, 'topology.max.spout.pending': 50, 'topology.message.timeout.secs': 5 });
    const page = await cluster.waitForWorkersRunning(id, 2);
    await waitFor('1000 entries processed', async () => (await client.hlen('seen')) >= 1000, 60_000);
    const victim = page.workers.find((w) => w.componentNumTasks.entries > 0)!;
    process.kill(victim.pid!, 'SIGKILL');
    await waitFor(`worker ${victim.pid} gone`, () => !isProcessAlive(victim.pid!), 10_000);
    // what the killed worker's consumer had in flight: delivered, never acknowledged
    const pending = (await client.xpending('k9', 'k9', '-', '+', 1000)) as Array<[string, string, number, number]>;
    const orphaned = pending.length;
    expect(orphaned).toBeGreaterThan(0);
    await waitFor('every entry processed and acknowledged', async () => (await client.hlen('seen')) === n && (await pendingCount(client, 'k9', 'k9')) === 0, 90_000);
    const counts = Object.values(await client.hgetall('seen')).map(Number);
    expect(counts.every((c) => c >= 1)).toBe(true);
    await cluster.killTopology('k9');
  }));

it('Redis killed and restarted mid-run: ERR_CONNECTOR_CONNECT shows in REST, processing resumes, nothing is lost', () =>
  cluster.run(async () => {
    const n = 4000;
    await client.del('seen');
    await appendEntries(client, 'outage', n, (i) => JSON.stringify({ id: i }));
    const id = await submitPipeline('outage', { url: redis.url, stream: 'outage', group: 'outage', workMs: 10 }, { 'topology.workers': 2, 'topology.max.spout.pending': 50, 'topology.message.timeout.secs': 5 });
    await cluster.waitForWorkersRunning(id, 2);
    await waitFor('500 entries processed', async () => (await client.hlen('seen')) >= 500, 60_000);
    client.disconnect();
    await redis.kill9();
    await waitFor('the outage in REST', async () => (await componentErrors(id, 'entries')).some((e) => e.includes('ERR_CONNECTOR_CONNECT')), 20_000);
    await redis.restart();
    client = redisClient(redis.port);
    expect(await client.xlen('outage')).toBe(n); // appendfsync always: nothing written before the kill is lost
    await waitFor('every entry processed and acknowledged after the restart', async () => (await seenCount(client, 'seen')) === n && (await pendingCount(client, 'outage', 'outage')) === 0, 90_000);
    await cluster.killTopology('outage');
  }));

it('wrong credentials and an unreachable server: coded errors in REST, and the worker keeps running (no crash loop)', () =>
  cluster.run(async () => {
    const secured = await startRedis({ password: 'right' });
    try {
      const nowhere = await freePort();
      const auth = await submitPipeline('badauth', { url: `redis://:wrong@127.0.0.1:${secured.port}`, stream: 's', spouts: 1 }, { 'topology.workers': 1 });
      const gone = await submitPipeline('nowhere', { url: `redis://127.0.0.1:${nowhere}`, stream: 's', spouts: 1 }, { 'topology.workers': 1 });
      const [a] = (await cluster.waitForWorkersRunning(auth, 1)).workers;
      const [b] = (await cluster.waitForWorkersRunning(gone, 1)).workers;
      // several reconnect attempts reported, each with its code, by the same worker process
      await waitFor('ERR_CONNECTOR_AUTH reported repeatedly', async () => (await componentErrors(auth, 'entries')).filter((e) => e.includes('ERR_CONNECTOR_AUTH')).length >= 3, 30_000);
      await waitFor('ERR_CONNECTOR_CONNECT reported repeatedly', async () => (await componentErrors(gone, 'entries')).filter((e) => e.includes('ERR_CONNECTOR_CONNECT')).length >= 3, 30_000);
      const after = [(await cluster.topology(auth)).workers[0], (await cluster.topology(gone)).workers[0]];
      expect(after.map((w) => w.pid)).toEqual([a.pid, b.pid]);
      expect(after.every((w) => w.state === 'running')).toBe(true);
      expect((await componentErrors(auth, 'entries')).join('\n')).not.toContain('wrong'); // no password in errors
      await cluster.killTopology('badauth');
      await cluster.killTopology('nowhere');
    } finally {
      await secured.stop();
    }
  }));
