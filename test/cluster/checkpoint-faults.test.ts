/**
 * Checkpointed state under faults, on a real cluster (ZooKeeper, `squall nimbus`, two `squall
 * supervisor` processes with 2 slots each, worker processes) with state in a real Redis: a
 * stateful word count over a paced, replayable generator (bench/chaos/stateful-topology.ts), while
 * workers are killed (kill -9), a supervisor is killed (kill -9) and started again, and Redis is
 * restarted. Then the committed counts, read from Redis, are compared with the expected ones:
 *
 * - exactly-once: equal, word for word;
 * - at-least-once: none lower (nothing lost); how many were counted twice is printed;
 * - at-most-once: none higher (nothing counted twice); how many were lost is printed.
 *
 * Also measures how long after a worker kill -9 the topology commits a checkpoint again (recovery
 * time; target: within twice the detection timeout). Needs the built CLI, ZooKeeper and
 * redis-server (scripts/ensure-packages.sh).
 */
import * as fs from 'node:fs';
import * as path from 'node:path';
import { expectedWordCounts, resolveTopologyConfig, type TopologyConfig } from '../../topology-api';
import type { TopologyPage, WorkerEntry } from '../../common/protocol/rest';
import { startRedis, redisAvailable, type RedisServer } from '../../bench/servers/redis';
import { GO_FILE_KEY, RATE_KEY, SENTENCES_KEY } from '../../bench/chaos/stateful-topology';
import { defaultStateSource } from '../../worker/checkpoint/state-source';
import { componentStateRef } from '../../worker/checkpoint/state-refs';
import { whenSettled } from '../../worker/checkpoint/state-access';
import { Cluster, FAST_DAEMON_CONFIG, ROOT, waitFor } from '../helpers/cluster-harness';
import { zookeeperAvailable } from '../helpers/zookeeper';

const TEST_TIMEOUT_MS = 120_000;
const FIXTURE = path.relative(path.join(ROOT, 'test', 'fixtures', 'cluster'), path.join(ROOT, 'bench', 'chaos', 'stateful-topology.ts'));
const SENTENCES = 4000;
/** Per spout task: 2 tasks × 100/s, so the input lasts 20 s, longer than the faults take. */
const RATE = 100;
/** The detection timeout a kill -9 is bounded by: the supervisor's worker timeout. */
const DETECTION_MS = (FAST_DAEMON_CONFIG['supervisor.worker.timeout.secs'] as number) * 1000;

interface Outcome {
  counts: Map<string, number>;
  expected: Map<string, number>;
  double: number;
  lost: number;
  recoveryMs: number[];
  aborted: number;
}

const running = (page: TopologyPage): WorkerEntry[] => page.workers.filter((w) => w.state === 'running' && w.pid);

/** The committed counts of the count bolt, read from the state backend (every key group). */
async function committedCounts(conf: Readonly<TopologyConfig>, name: string): Promise<Map<string, number>> {
  const source = defaultStateSource(conf);
  try {
    const state = (await whenSettled(source.open(componentStateRef(conf, name, 'count')))) as unknown as Iterable<[string, number]>;
    return new Map(state);
  } finally {
    await whenSettled(source.close?.());
  }
}

function sum(m: ReadonlyMap<string, number>): number {
  let n = 0;
  for (const v of m.values()) n += v;
  return n;
}

if (!zookeeperAvailable() || !redisAvailable()) {
  test('ZooKeeper and redis-server are installed', () => {
    throw new Error('ZooKeeper (or java) or redis-server is missing: run scripts/ensure-packages.sh');
  });
} else {
  describe('checkpointed state under kill -9 of workers and a supervisor, and a Redis restart', () => {
    let cluster: Cluster;
    let redis: RedisServer;

    beforeAll(async () => {
      redis = await startRedis({ persistent: true });
      cluster = await Cluster.start({ name: 'checkpoint-faults', supervisors: 2, slotsPerSupervisor: 2 });
    }, TEST_TIMEOUT_MS);

    afterAll(async () => {
      try {
        await cluster?.stop();
      } finally {
        await redis?.stop();
      }
    }, TEST_TIMEOUT_MS);

    async function committedTxid(id: string): Promise<number> {
      return (await cluster.topology(id)).checkpoint?.committedTxid ?? 0;
    }

    /** Waits until a checkpoint later than `after` commits; returns when it was seen. */
    async function nextCommit(id: string, after: number, what: string, timeoutMs = 30_000): Promise<number> {
      await waitFor(`${what}: a checkpoint after ${after} committed`, async () => (await committedTxid(id)) > after, timeoutMs, 100);
      return Date.now();
    }

    async function run(guarantee: 'exactly-once' | 'at-least-once' | 'at-most-once'): Promise<Outcome> {
      const name = `swc-${guarantee}`;
      const goFile = path.join(cluster.dir, `${name}.go`);
      const topologyConfig: Record<string, unknown> = {
        'topology.workers': 2,
        'topology.processing.guarantee': guarantee,
        'topology.message.timeout.secs': 5,
        'topology.state.checkpoint.interval.ms': 500,
        'topology.state.checkpoint.timeout.ms': 5000,
        'topology.state.provider': 'redis',
        'topology.state.provider.config': { url: redis.url, commandTimeoutMs: 1000, connectTimeoutMs: 1000 },
      };
      const conf = resolveTopologyConfig(topologyConfig);
      const id = await cluster.submit(FIXTURE, name, topologyConfig, { [SENTENCES_KEY]: SENTENCES, [RATE_KEY]: RATE, [GO_FILE_KEY]: goFile });
      let page = await cluster.waitForWorkersRunning(id, 2, 30_000);
      await nextCommit(id, 0, `${name} starting`);
      fs.writeFileSync(goFile, String(Date.now()));
      const recoveryMs: number[] = [];
      const killed = new Set<number>();

      // two kill -9 of a worker, each followed by the next commit (the recovery time)
      for (let k = 0; k < 2; k++) {
        await nextCommit(id, await committedTxid(id), `${name} before kill ${k + 1}`);
        const victim = running(page).filter((w) => !killed.has(w.pid as number))[k % 2];
        const before = await committedTxid(id);
        const at = Date.now();
        cluster.killWorker9(victim.pid as number);
        killed.add(victim.pid as number);
        recoveryMs.push((await nextCommit(id, before, `${name} after kill ${k + 1}`)) - at);
        page = await cluster.waitForWorkersRunning(id, 2, 30_000);
      }
      // a supervisor killed and started again; then Redis restarted
      const sup = cluster.supervisorIds()[0];
      await cluster.stopSupervisor(sup, 'SIGKILL');
      await cluster.startSupervisor(sup);
      page = await cluster.waitForWorkersRunning(id, 2, 40_000);
      await nextCommit(id, await committedTxid(id), `${name} after the supervisor`, 40_000);
      await redis.restart();
      await nextCommit(id, await committedTxid(id), `${name} after Redis restarted`, 40_000);

      // the input ends (SENTENCES / (2 × RATE) s after go); then two more commits settle it
      const expected = expectedWordCounts(SENTENCES);
      const total = sum(expected);
      if (guarantee === 'exactly-once') {
        await waitFor(`${name}: every sentence counted once`, async () => sum(await committedCounts(conf, name)) === total, 60_000, 500);
      } else {
        const inputEndsMs = Number(fs.readFileSync(goFile, 'utf8')) + (SENTENCES / (2 * RATE)) * 1000;
        await waitFor(`${name}: the input over`, () => Date.now() > inputEndsMs, 60_000, 200);
        // at-least-once: replays of what failed (message timeout 5 s) have run
        await waitFor(`${name}: counts settled`, async () => {
          const a = sum(await committedCounts(conf, name));
          const txid = await committedTxid(id);
          await nextCommit(id, txid + 2, `${name} settling`);
          return sum(await committedCounts(conf, name)) === a && a > 0;
        }, 60_000, 500);
      }
      const counts = await committedCounts(conf, name);
      const aborted = (await cluster.topology(id)).checkpoint?.aborted ?? 0;
      await cluster.killTopology(name);
      let double = 0;
      let lost = 0;
      for (const [w, n] of expected) {
        const got = counts.get(w) ?? 0;
        if (got > n) double += got - n;
        else lost += n - got;
      }
      console.log(`${guarantee}: ${sum(counts)} words committed of ${total}: ${double} counted twice, ${lost} lost; ${aborted} checkpoints aborted; recovery after kill -9: ${recoveryMs.join(', ')} ms (detection timeout ${DETECTION_MS} ms)`);
      return { counts, expected, double, lost, recoveryMs, aborted };
    }

    it(
      'exactly-once: the committed counts equal the expected counts, word for word',
      () =>
        cluster.run(async () => {
          const o = await run('exactly-once');
          expect(Object.fromEntries(o.counts)).toEqual(Object.fromEntries(o.expected));
        }),
      TEST_TIMEOUT_MS,
    );

    it(
      'at-least-once: nothing is lost; what was counted twice is reported',
      () =>
        cluster.run(async () => {
          const o = await run('at-least-once');
          expect(o.lost).toBe(0);
        }),
      TEST_TIMEOUT_MS,
    );

    it(
      'at-most-once: nothing is counted twice; what was lost is reported',
      () =>
        cluster.run(async () => {
          const o = await run('at-most-once');
          expect(o.double).toBe(0);
        }),
      TEST_TIMEOUT_MS,
    );
  });
}
