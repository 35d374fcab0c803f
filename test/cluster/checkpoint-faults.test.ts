/**
 * State under faults, on real worker processes (issue 11's proof): the stateful word count of the
 * state chaos run (bench/chaos/stateful-topology.ts: a paced, replayable sentence generator, 2
 * tasks → split → a keyed stateful count) on ZooKeeper, Nimbus and two supervisors with two slots
 * each, its state in a real redis-server (append-only file). Once per guarantee, while the input
 * runs: a worker killed with kill -9 (recovery timed), another worker killed, a supervisor killed
 * with kill -9 and started again, Redis restarted, Nimbus killed with kill -9 and started again.
 * Then the committed counts are read from Redis, as a restarted worker reads them, and compared
 * word by word with the expected ones:
 *
 *   exactly-once   equal, word for word
 *   at-least-once  no word below its count (the words counted twice are printed)
 *   at-most-once   no word above its count (the words lost are printed)
 *
 * and a fourth run rebalances the count bolt 2 → 4 → 2 tasks under exactly-once: exact again.
 *
 * Needs the built CLI (node scripts/build.js), ZooKeeper and redis-server (scripts/ensure-packages.sh).
 */
import * as fs from 'node:fs';
import * as path from 'node:path';
import { startRedis, redisAvailable, type RedisServer } from '../../bench/servers/redis';
import { committedCounts, countDifferences, total } from '../../bench/chaos/state';
import { GO_FILE_KEY, RATE_KEY, SENTENCES_KEY } from '../../bench/chaos/stateful-topology';
import { expectedWordCounts, resolveTopologyConfig, type ProcessingGuarantee } from '../../topology-api';
import type { TopologyPage } from '../../common/protocol/rest';
import { Cluster, ROOT, sleep, waitFor, backstopMs, CLUSTER_START_BOUND_MS, CLUSTER_STOP_BOUND_MS, SUBMIT_BOUND_MS } from '../helpers/cluster-harness';
import { isProcessAlive } from '../helpers/cluster-processes';
import { zookeeperAvailable } from '../helpers/zookeeper';

/** Sentences per second per spout task, and in all: 20 s of input. */
const RATE = 100;
const SENTENCES = 4000;
const INPUT_MS = (SENTENCES / (2 * RATE)) * 1000;
/** A worker's replacement running and a checkpoint committed after it (bounded). */
const RECOVERY_BOUND_MS = 60_000;
/** The input over, then the committed counts at their promise (bounded). */
const SETTLE_BOUND_MS = 120_000;
const FIRST_CHECKPOINT_BOUND_MS = 60_000;
const SETUP_TIMEOUT_MS = backstopMs(CLUSTER_START_BOUND_MS, 30_000);
const TEARDOWN_TIMEOUT_MS = backstopMs(CLUSTER_STOP_BOUND_MS, 30_000);
/** One run: submit, first checkpoint, recovery, the faults (a supervisor and Nimbus restart), settling, kill. */
const RUN_TIMEOUT_MS = backstopMs(SUBMIT_BOUND_MS, FIRST_CHECKPOINT_BOUND_MS, RECOVERY_BOUND_MS, INPUT_MS, 4 * 30_000, SETTLE_BOUND_MS, 20_000);
/** The stateful word count, submitted as users submit their modules (the harness's entry re-exports it). */
const TOPOLOGY = path.relative(path.join(ROOT, 'test', 'fixtures', 'cluster'), path.join(ROOT, 'bench', 'chaos', 'stateful-topology.ts'));

const available = zookeeperAvailable() && redisAvailable();

if (!available) {
  test('ZooKeeper and redis-server are installed', () => {
    throw new Error('ZooKeeper (or java) or redis-server is missing: run scripts/ensure-packages.sh');
  });
} else {
  describe('stateful word count under kill -9, a supervisor lost, Redis and Nimbus restarted', () => {
    let cluster: Cluster;
    let redis: RedisServer;
    const findings: string[] = [];

    beforeAll(async () => {
      redis = await startRedis({ persistent: true });
      cluster = await Cluster.start({ name: 'ckpt-faults', supervisors: 2, slotsPerSupervisor: 2 });
    }, SETUP_TIMEOUT_MS);

    afterAll(async () => {
      if (findings.length > 0) console.log(`state under faults:\n  ${findings.join('\n  ')}`);
      await cluster?.stop();
      await redis?.stop();
    }, TEARDOWN_TIMEOUT_MS);

    function topologyConfig(guarantee: ProcessingGuarantee): Record<string, unknown> {
      return {
        'topology.workers': 2,
        'topology.processing.guarantee': guarantee,
        'topology.message.timeout.secs': 5,
        'topology.state.checkpoint.interval.ms': 500,
        'topology.state.checkpoint.timeout.ms': 5000,
        'topology.state.provider': 'redis',
        'topology.state.provider.config': { url: redis.url, commandTimeoutMs: 1000, connectTimeoutMs: 1000 },
      };
    }

    const committedTxid = (p: TopologyPage): number => p.checkpoint?.committedTxid ?? 0;

    /** Submits the word count under `guarantee`, waits for its first checkpoint, then starts the input. */
    async function start(name: string, guarantee: ProcessingGuarantee): Promise<{ id: string; goMs: number; conf: ReturnType<typeof resolveTopologyConfig> }> {
      const goFile = path.join(cluster.dir, `${name}.go`);
      const conf = topologyConfig(guarantee);
      const id = await cluster.submit(TOPOLOGY, name, conf, { [SENTENCES_KEY]: SENTENCES, [RATE_KEY]: RATE, [GO_FILE_KEY]: goFile });
      await cluster.waitForWorkersRunning(id, 2);
      await waitFor(`${name}: a first checkpoint committed`, async () => committedTxid(await cluster.topology(id)) > 0, FIRST_CHECKPOINT_BOUND_MS, 200);
      const goMs = Date.now();
      fs.writeFileSync(goFile, String(goMs));
      return { id, goMs, conf: resolveTopologyConfig(conf) };
    }

    /**
     * kill -9 the worker holding `component`'s first task; resolves with the time from the kill
     * to the first checkpoint committed once its replacement runs (processing resumed, its state
     * restored and durable again).
     */
    async function killWorkerTimed(id: string, component: string): Promise<number> {
      const before = await cluster.topology(id);
      const victim = before.workers.find((w) => (w.componentNumTasks[component] ?? 0) > 0) ?? before.workers[0];
      const killedAt = Date.now();
      cluster.killWorker9(victim.pid!);
      await waitFor(`worker ${victim.pid} gone`, () => !isProcessAlive(victim.pid!), 10_000);
      let replacedTxid = -1;
      await waitFor(
        `a replacement for worker ${victim.pid} running and a checkpoint committed after it`,
        async () => {
          const p = await cluster.topology(id);
          const replaced = p.workers.length === 2 && p.workers.every((w) => w.pid !== victim.pid && w.state === 'running');
          if (!replaced) return false;
          if (replacedTxid < 0) replacedTxid = committedTxid(p);
          return committedTxid(p) > replacedTxid;
        },
        RECOVERY_BOUND_MS,
        100,
      );
      return Date.now() - killedAt;
    }

    /** The faults of one run, while its input flows; returns what was done, for the report. */
    async function faults(id: string): Promise<string[]> {
      const done: string[] = [];
      done.push(`worker kill -9 (recovered in ${await killWorkerTimed(id, 'count')} ms)`);
      await killWorkerTimed(id, 'sentences');
      done.push('worker kill -9');
      const sup = (await cluster.topology(id)).workers[0].supervisorId;
      await cluster.stopSupervisor(sup, 'SIGKILL');
      await sleep(2000); // the machine stays away a moment
      await cluster.startSupervisor(sup);
      done.push(`supervisor ${sup} kill -9 and start`);
      await redis.restart();
      done.push('Redis restart');
      await cluster.killNimbus();
      await cluster.startNimbus();
      done.push('Nimbus kill -9 and start');
      return done;
    }

    /**
     * The committed counts once the input is over and `settled` holds for them: exactly-once and
     * at-least-once wait for their promise (a commit can be seconds behind on a busy machine),
     * at-most-once (whose losses are final) for counts that stop moving. Bounded; on time-out the
     * counts are returned as they are, for the assertions to say what they are.
     */
    async function settle(name: string, conf: ReturnType<typeof resolveTopologyConfig>, goMs: number, settled: ((counts: Map<string, number>) => boolean) | 'stable'): Promise<Map<string, number>> {
      await waitFor(`${name}: the input over`, () => Date.now() > goMs + INPUT_MS, INPUT_MS + SETTLE_BOUND_MS, 200);
      let last = -1;
      await waitFor(
        `${name}: the committed counts settled`,
        async () => {
          const counts = await committedCounts(conf, name);
          if (settled !== 'stable') return settled(counts);
          const now = total(counts);
          const stable = now === last && now > 0;
          last = now;
          return stable;
        },
        SETTLE_BOUND_MS,
        settled === 'stable' ? 3000 : 500,
      ).catch(() => undefined);
      return committedCounts(conf, name);
    }

    const expected = expectedWordCounts(SENTENCES);

    it.each(['exactly-once', 'at-least-once', 'at-most-once'] as const)(
      '%s: the committed counts keep its promise',
      (guarantee) =>
        cluster.run(async () => {
          const name = `swc-${guarantee}`;
          const { id, goMs, conf } = await start(name, guarantee);
          const done = await faults(id);
          const promise =
            guarantee === 'at-most-once'
              ? 'stable'
              : (c: Map<string, number>): boolean => {
                  const d = countDifferences(c, expected);
                  return d.lost === 0 && (guarantee === 'at-least-once' || d.countedTwice === 0);
                };
          const counts = await settle(name, conf, goMs, promise);
          const page = await cluster.topology(id);
          const d = countDifferences(counts, expected);
          findings.push(
            `${guarantee}: ${total(counts)} of ${total(expected)} words committed, ${d.countedTwice} counted twice, ${d.lost} lost; checkpoints committed ${committedTxid(page)}, aborted ${page.checkpoint?.aborted ?? 0}; ${done.join(', ')}`,
          );
          if (guarantee === 'exactly-once') expect(Object.fromEntries(counts)).toEqual(Object.fromEntries(expected));
          if (guarantee === 'at-least-once') expect(d.lost).toBe(0);
          if (guarantee === 'at-most-once') expect(d.countedTwice).toBe(0);
          await cluster.killTopology(name);
        }),
      RUN_TIMEOUT_MS,
    );

    it(
      'exactly-once: rebalancing the count bolt 2 → 4 → 2 tasks while the input runs keeps the counts exact',
      () =>
        cluster.run(async () => {
          const name = 'swc-rescale';
          const { id, goMs, conf } = await start(name, 'exactly-once');
          const tasksOf = async (n: number): Promise<void> => {
            const txid = committedTxid(await cluster.topology(id));
            await cluster.cliOk(['rebalance', name, '-w', '0', '-e', `count=${n}`]);
            await waitFor(
              `${name}: count at ${n} tasks, every worker running and a checkpoint committed`,
              async () => {
                const p = await cluster.topology(id);
                const tasks = p.bolts.find((b) => b.boltId === 'count')?.tasks;
                return tasks === n && p.workers.length === 2 && p.workers.every((w) => w.state === 'running') && committedTxid(p) > txid;
              },
              RECOVERY_BOUND_MS,
              200,
            );
          };
          await sleep(INPUT_MS / 4);
          await tasksOf(4);
          await sleep(INPUT_MS / 4);
          await tasksOf(2);
          const counts = await settle(name, conf, goMs, (c) => {
            const d = countDifferences(c, expected);
            return d.lost === 0 && d.countedTwice === 0;
          });
          findings.push(`rebalance 2 → 4 → 2 (exactly-once): ${total(counts)} of ${total(expected)} words committed`);
          expect(Object.fromEntries(counts)).toEqual(Object.fromEntries(expected));
          await cluster.killTopology(name);
        }),
      RUN_TIMEOUT_MS,
    );
  });
}
