/**
 * `npm run chaos -- --mode state`: the stateful word count (bench/chaos/stateful-topology.ts) with
 * its state in a throwaway Redis, once per guarantee, each under the same seeded faults: kill -9
 * of random workers, kill -9 of a supervisor (started again a few seconds later), and a Redis
 * restart. Then the committed counts (read from Redis) against the expected ones. Prints the three
 * numbers: exactly-once's difference (must be 0), at-least-once's words counted twice, and
 * at-most-once's words lost. Exits 1 when exactly-once is not exact.
 */
import * as fs from 'node:fs';
import * as path from 'node:path';
import { expectedWordCounts, resolveTopologyConfig, type ProcessingGuarantee } from '../../topology-api';
import { Random } from '../../common/random';
import { componentStateRef } from '../../worker/checkpoint/state-refs';
import { createStateProvider } from '../../worker/state/provider';
import { startRedis, type RedisServer } from '../servers/redis';
import { ChaosCluster, waitUntil } from './cluster';
import { ROOT } from './processes';
import { GO_FILE_KEY, RATE_KEY, SENTENCES_KEY } from './stateful-topology';

export interface StateChaosOptions {
  seed: number;
  supervisors: number;
  slots: number;
  workers: number;
  /** Sentences per second per spout task (2 tasks). */
  rate: number;
  durationSecs: number;
  killIntervalSecs: number;
  dir: string;
  daemonConfig: Record<string, unknown>;
}

export interface GuaranteeOutcome {
  guarantee: ProcessingGuarantee;
  expectedWords: number;
  committedWords: number;
  countedTwice: number;
  lost: number;
  faults: string[];
  checkpointsAborted: number;
  committedTxid: number;
}

const sleep = (ms: number): Promise<void> => new Promise((r) => setTimeout(r, ms));

/** Words in all: the sum of the counts. */
export function total(m: ReadonlyMap<string, number>): number {
  let n = 0;
  for (const v of m.values()) n += v;
  return n;
}

/** Committed counts against the expected ones: words counted more often than sent, and words sent but not counted. */
export function countDifferences(counts: ReadonlyMap<string, number>, expected: ReadonlyMap<string, number>): { countedTwice: number; lost: number } {
  let countedTwice = 0;
  let lost = 0;
  for (const [w, n] of expected) {
    const got = counts.get(w) ?? 0;
    if (got > n) countedTwice += got - n;
    else lost += n - got;
  }
  for (const [w, got] of counts) if (!expected.has(w)) countedTwice += got;
  return { countedTwice, lost };
}

/**
 * The committed counts of the count bolt, read from the topology's state backend (every key
 * group), as a worker restoring it would (test/cluster/checkpoint-faults.test.ts reads them too).
 */
export async function committedCounts(conf: ReturnType<typeof resolveTopologyConfig>, name: string): Promise<Map<string, number>> {
  const provider = createStateProvider(conf, { topology: name, dir: null });
  try {
    return new Map((await provider.open(componentStateRef(conf, name, 'count'))) as unknown as Iterable<[string, number]>);
  } finally {
    await provider.close();
  }
}

async function oneRun(cluster: ChaosCluster, redis: RedisServer, o: StateChaosOptions, guarantee: ProcessingGuarantee, log: (l: string) => void): Promise<GuaranteeOutcome> {
  const name = `chaos-state-${guarantee}`;
  const sentences = Math.round(o.durationSecs * o.rate * 2);
  const goFile = path.join(o.dir, `${name}.go`);
  const topologyConfig = {
    'topology.workers': o.workers,
    'topology.processing.guarantee': guarantee,
    'topology.message.timeout.secs': 5,
    'topology.state.checkpoint.interval.ms': 1000,
    'topology.state.checkpoint.timeout.ms': 5000,
    'topology.state.provider': 'redis',
    'topology.state.provider.config': { url: redis.url, commandTimeoutMs: 1000, connectTimeoutMs: 1000 },
  };
  const conf = resolveTopologyConfig(topologyConfig);
  await cluster.submit(path.join(ROOT, 'bench', 'chaos', 'stateful-topology.ts'), name, topologyConfig, { [SENTENCES_KEY]: sentences, [RATE_KEY]: o.rate, [GO_FILE_KEY]: goFile });
  await waitUntil(`${name}: a first checkpoint`, async () => ((await cluster.topology(name)).checkpoint?.committedTxid ?? 0) > 0, 60_000, 200);
  fs.writeFileSync(goFile, String(Date.now()));
  const endMs = Date.now() + o.durationSecs * 1000;
  const random = new Random(o.seed);
  const faults: string[] = [];
  let supervisorDone = false;
  let redisDone = false;
  while (Date.now() < endMs - o.killIntervalSecs * 500) {
    await sleep(o.killIntervalSecs * 1000 * (0.5 + random.nextFloat()));
    const roll = random.nextFloat();
    if (!redisDone && (roll < 0.15 || Date.now() > endMs - 2 * o.killIntervalSecs * 1000)) {
      redisDone = true;
      await redis.restart();
      faults.push('redis restart');
      log(`${guarantee}: Redis restarted`);
      continue;
    }
    if (!supervisorDone && roll < 0.35) {
      supervisorDone = true;
      const ids = [...cluster.supervisors.keys()];
      const id = ids[random.nextInt(ids.length)];
      cluster.supervisors.get(id)!.kill9();
      faults.push(`supervisor ${id}`);
      log(`${guarantee}: kill -9 supervisor ${id}`);
      await sleep(2000 + random.nextFloat() * 3000);
      await cluster.restartSupervisor(id);
      continue;
    }
    const workers = cluster.liveWorkers();
    if (workers.length === 0) continue;
    const victim = workers[random.nextInt(workers.length)];
    try {
      process.kill(victim.pid, 'SIGKILL');
    } catch {
      continue;
    }
    faults.push(`worker ${victim.pid}`);
    log(`${guarantee}: kill -9 worker ${victim.pid} of ${victim.supervisor}`);
  }
  const expected = expectedWordCounts(sentences);
  const want = total(expected);
  // settle: the input is over, then the committed counts stop moving (exactly-once: reach the total)
  await waitUntil(`${name}: the input over`, () => Date.now() > Number(fs.readFileSync(goFile, 'utf8')) + (sentences / (2 * o.rate)) * 1000, 120_000, 200);
  let last = -1;
  await waitUntil(
    `${name}: committed counts settled`,
    async () => {
      await sleep(3000);
      const now = total(await committedCounts(conf, name));
      if (guarantee === 'exactly-once' && now !== want) return false;
      const stable = now === last;
      last = now;
      return stable;
    },
    120_000,
    100,
  ).catch(() => log(`${guarantee}: counts did not settle in time; reporting what is committed`));
  const counts = await committedCounts(conf, name);
  const page = await cluster.topology(name);
  await cluster.kill(name);
  const { countedTwice, lost } = countDifferences(counts, expected);
  return {
    guarantee,
    expectedWords: want,
    committedWords: total(counts),
    countedTwice,
    lost,
    faults,
    checkpointsAborted: page.checkpoint?.aborted ?? 0,
    committedTxid: page.checkpoint?.committedTxid ?? 0,
  };
}

export async function stateChaos(o: StateChaosOptions, log: (l: string) => void): Promise<GuaranteeOutcome[]> {
  const redis = await startRedis({ persistent: true });
  const cluster = await ChaosCluster.start({ dir: o.dir, supervisors: o.supervisors, slots: o.slots, daemonConfig: o.daemonConfig });
  const onSignal = (): void => {
    void Promise.allSettled([cluster.stop(), redis.stop()]).finally(() => process.exit(130));
  };
  process.once('SIGINT', onSignal);
  try {
    const out: GuaranteeOutcome[] = [];
    for (const g of ['exactly-once', 'at-least-once', 'at-most-once'] as const) {
      log(`${g}: ${o.durationSecs} s of input (${o.rate}/s per spout task) under faults every ~${o.killIntervalSecs} s`);
      out.push(await oneRun(cluster, redis, o, g, log));
    }
    return out;
  } finally {
    await cluster.stop();
    await redis.stop();
  }
}

export function printStateOutcomes(outcomes: readonly GuaranteeOutcome[]): string {
  const lines = ['| guarantee | words expected | committed | counted twice | lost | faults | checkpoints committed / aborted |', '| --- | --- | --- | --- | --- | --- | --- |'];
  for (const o of outcomes) {
    lines.push(`| ${o.guarantee} | ${o.expectedWords} | ${o.committedWords} | ${o.countedTwice} | ${o.lost} | ${o.faults.join(', ')} | ${o.committedTxid} / ${o.checkpointsAborted} |`);
  }
  return lines.join('\n');
}
