/**
 * Every grouping delivers across worker processes as it does in one process
 * (test/unit/worker/groupings.test.ts): one topology with shuffle, fields, all, global, direct,
 * localOrShuffle, none, partialKey and custom groupings, each into a recording bolt with
 * parallelism > 1, spread over 3 workers on 2 supervisors. The recording bolts write each tuple
 * with their task id and process id; the spout puts its own process id in every tuple.
 *
 * Needs the built CLI (node scripts/build.js) and ZooKeeper (scripts/ensure-packages.sh).
 */
import type { TopologyPage } from '../../common/protocol/rest';
import { Cluster, waitFor, backstopMs, CLUSTER_START_BOUND_MS, CLUSTER_STOP_BOUND_MS, SUBMIT_BOUND_MS } from '../helpers/cluster-harness';
import { countBy, groupSets, sinkMeta, sinkRecords, spoutAcked, spoutEmitted, type SinkMeta, type SinkRecord } from '../helpers/cluster-output';
import { zookeeperAvailable } from '../helpers/zookeeper';

/** Jest backstops behind the named waits (test/helpers/cluster-harness.ts, "time budgets"). */
const SETUP_TIMEOUT_MS = backstopMs(CLUSTER_START_BOUND_MS, SUBMIT_BOUND_MS, 40_000);
const TEARDOWN_TIMEOUT_MS = backstopMs(CLUSTER_STOP_BOUND_MS);
const MESSAGES = 1200; // 600 per spout task: divisible by every target count below
const KEYS = 37;

/** Parallelism of each recording component (topology: test/fixtures/cluster/groupings.ts). */
const SINKS: Record<string, number> = { shuffle: 4, fields: 4, all: 3, global: 3, direct: 3, local: 6, none: 3, partial: 4, custom: 3 };

type Rec = SinkRecord & { values: [string, number, number] };

if (!zookeeperAvailable()) {
  test('ZooKeeper is installed', () => {
    throw new Error('ZooKeeper (or java) is missing: run scripts/ensure-packages.sh');
  });
} else {
  describe('groupings across workers', () => {
    let cluster: Cluster;
    let page: TopologyPage;
    let out: string;
    const records = new Map<string, Rec[]>();
    const meta = new Map<string, SinkMeta[]>();
    /** A component's task ids, ascending. */
    const tasksOf = (component: string): number[] => [...meta.get(component)![0].tasks].sort((a, b) => a - b);
    const perTask = (component: string): Map<number, number> => {
      const counts = countBy(records.get(component)!, (r) => r.task);
      for (const t of tasksOf(component)) if (!counts.has(t)) counts.set(t, 0);
      return counts;
    };

    beforeAll(async () => {
      cluster = await Cluster.start({ name: 'groupings', supervisors: 2, slotsPerSupervisor: 2 });
      await cluster.run(async () => {
        const id = await cluster.submit('groupings.ts', 'groupings', { 'topology.workers': 3, 'topology.max.spout.pending': 500 }, { 'test.input.count': MESSAGES });
        out = cluster.outputDirOf('groupings');
        page = await cluster.waitForWorkersRunning(id, 3);
        await waitFor(`all ${MESSAGES} spout messages acked`, () => new Set(spoutAcked(out, 'src')).size === MESSAGES, 40_000);
        for (const component of Object.keys(SINKS)) {
          // a tree is acked only after every sink recorded and acked its tuple: the files are complete
          records.set(component, sinkRecords<Rec>(out, component));
          meta.set(component, sinkMeta(out, component));
        }
      });
    }, SETUP_TIMEOUT_MS);

    afterAll(async () => {
      await cluster?.stop();
    }, TEARDOWN_TIMEOUT_MS);

    it('runs every component over several workers, on both supervisors, with no replay', () =>
      cluster.run(async () => {
        expect(new Set(page.workers.map((w) => w.supervisorId))).toEqual(new Set(['sup-1', 'sup-2']));
        for (const [component, parallelism] of Object.entries(SINKS)) {
          expect(meta.get(component)!.map((m) => m.task).sort((a, b) => a - b)).toEqual(tasksOf(component));
          expect(tasksOf(component)).toHaveLength(parallelism);
          const workers = page.workers.filter((w) => (w.componentNumTasks[component] ?? 0) > 0);
          expect({ component, workers: workers.length }).toEqual({ component, workers: Math.min(3, parallelism) });
          // the meta files agree: the tasks really run in as many processes
          expect(new Set(meta.get(component)!.map((m) => m.pid)).size).toBe(Math.min(3, parallelism));
        }
        const emitted = spoutEmitted(out, 'src');
        expect(emitted).toHaveLength(MESSAGES); // nothing failed, nothing replayed
        expect(new Set(records.get('all')!.map((r) => r.values[2])).size).toBe(2); // the 2 spout tasks are in 2 processes
        // REST stats come with the workers' heartbeats (every second): wait for the last one
        const rest = await waitFor('REST to show every message acked', async () => {
          const p = await cluster.topology('groupings');
          return p.spouts[0].acked === MESSAGES ? p : false;
        }, 10_000);
        expect(rest.spouts[0]).toMatchObject({ spoutId: 'src', emitted: MESSAGES, acked: MESSAGES, failed: 0 });
      }));

    it('shuffle spreads exactly evenly, nothing lost', () => {
      expect([...perTask('shuffle').values()]).toEqual([300, 300, 300, 300]);
      expect(new Set(records.get('shuffle')!.map((r) => r.values[1])).size).toBe(MESSAGES);
    });

    it('none spreads like shuffle', () => {
      expect([...perTask('none').values()]).toEqual([400, 400, 400]);
      expect(new Set(records.get('none')!.map((r) => r.values[1])).size).toBe(MESSAGES);
    });

    it('fields sends every tuple of a key to one task, whichever worker emitted it', () => {
      const recs = records.get('fields')!;
      expect(recs).toHaveLength(MESSAGES);
      const tasksByKey = groupSets(recs, (r) => r.values[0], (r) => r.task);
      expect(tasksByKey.size).toBe(KEYS);
      for (const tasks of tasksByKey.values()) expect(tasks.size).toBe(1);
      // every key came from both spout processes, and still reached a single task
      for (const pids of groupSets(recs, (r) => r.values[0], (r) => r.values[2]).values()) expect(pids.size).toBe(2);
      expect(new Set(recs.map((r) => r.task)).size).toBe(4);
    });

    it('all delivers every tuple to every task exactly once', () => {
      const recs = records.get('all')!;
      expect(recs).toHaveLength(MESSAGES * 3);
      for (const [task, count] of perTask('all')) {
        expect({ task, count }).toEqual({ task, count: MESSAGES });
        expect(new Set(recs.filter((r) => r.task === task).map((r) => r.values[1])).size).toBe(MESSAGES);
      }
    });

    it('global delivers everything to the lowest task id', () => {
      const lowest = tasksOf('global')[0];
      expect(perTask('global')).toEqual(new Map(tasksOf('global').map((t) => [t, t === lowest ? MESSAGES : 0])));
    });

    it('direct reaches exactly the task the emitter named', () => {
      const recs = records.get('direct')!;
      const tasks = tasksOf('direct');
      expect(recs).toHaveLength(MESSAGES);
      for (const r of recs) expect({ n: r.values[1], task: r.task }).toEqual({ n: r.values[1], task: tasks[r.values[1] % tasks.length] });
      expect(new Set(recs.map((r) => `${r.source}:${r.stream}`))).toEqual(new Set(['router:routed']));
      // the router's tasks run in 2 processes and the direct tasks in 3: most deliveries cross workers
      expect(recs.filter((r) => r.pid !== r.values[2]).length).toBeGreaterThan(0);
    });

    it('localOrShuffle keeps every tuple in the emitting worker, evenly over its local tasks', () => {
      const recs = records.get('local')!;
      expect(recs).toHaveLength(MESSAGES);
      for (const r of recs) expect({ n: r.values[1], sink: r.pid }).toEqual({ n: r.values[1], sink: r.values[2] });
      const localTasks = groupSets(meta.get('local')!, (m) => m.pid, (m) => m.task);
      for (const [srcPid, recsOfSrc] of groupSets(recs, (r) => r.values[2], (r) => r)) {
        const tasks = [...localTasks.get(srcPid)!];
        expect(tasks.length).toBeGreaterThan(1);
        const counts = countBy([...recsOfSrc], (r) => r.task);
        expect(tasks.map((t) => counts.get(t) ?? 0)).toEqual(tasks.map(() => MESSAGES / 2 / tasks.length));
      }
    });

    it('partialKey splits each key over at most two tasks', () => {
      const recs = records.get('partial')!;
      expect(recs).toHaveLength(MESSAGES);
      const tasksByKey = groupSets(recs, (r) => r.values[0], (r) => r.task);
      expect(tasksByKey.size).toBe(KEYS);
      for (const tasks of tasksByKey.values()) expect(tasks.size).toBeLessThanOrEqual(2);
      expect([...tasksByKey.values()].some((t) => t.size === 2)).toBe(true);
    });

    it('custom delivers to the task the grouping object chose', () => {
      const recs = records.get('custom')!;
      const tasks = tasksOf('custom');
      expect(recs).toHaveLength(MESSAGES);
      for (const r of recs) expect({ n: r.values[1], task: r.task }).toEqual({ n: r.values[1], task: tasks[r.values[1] % tasks.length] });
    });
  });
}
