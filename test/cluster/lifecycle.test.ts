/**
 * A topology's life on a real cluster: ZooKeeper, `squall nimbus` and two `squall supervisor`
 * processes (2 slots each) on loopback, driven with the CLI and watched over REST, as an operator
 * would. One cluster for the file; each test leaves no topology behind.
 *
 * Needs the built CLI (node scripts/build.js) and ZooKeeper (scripts/ensure-packages.sh).
 */
import * as fs from 'node:fs';
import * as path from 'node:path';
import type { BoltEntry, SpoutEntry, TopologyPage } from '../../common/protocol/rest';
import { Cluster, FIXTURES, sleep, waitFor, backstopMs, CLUSTER_START_BOUND_MS, CLUSTER_STOP_BOUND_MS, SUBMIT_BOUND_MS } from '../helpers/cluster-harness';
import { countBy, groupSets, sinkRecords, spoutAcked, spoutEmitted, spoutEvents } from '../helpers/cluster-output';
import { isProcessAlive } from '../helpers/cluster-processes';
import { zookeeperAvailable } from '../helpers/zookeeper';
import { sentenceOf } from '../fixtures/cluster/components';

/** Jest backstops behind the named waits (test/helpers/cluster-harness.ts, "time budgets"). */
const SETUP_TIMEOUT_MS = backstopMs(CLUSTER_START_BOUND_MS);
const TEARDOWN_TIMEOUT_MS = backstopMs(CLUSTER_STOP_BOUND_MS);
/** The longest test: a submission and at most 120 s of the longest test's own waits. */
const TEST_TIMEOUT_MS = backstopMs(SUBMIT_BOUND_MS, 120_000);

const spout = (page: TopologyPage, id: string): SpoutEntry => {
  const s = page.spouts.find((c) => c.spoutId === id);
  if (!s) throw new Error(`no spout ${id} in ${JSON.stringify(page.spouts)}`);
  return s;
};
const bolt = (page: TopologyPage, id: string): BoltEntry => {
  const b = page.bolts.find((c) => c.boltId === id);
  if (!b) throw new Error(`no bolt ${id} in ${JSON.stringify(page.bolts)}`);
  return b;
};

/** `squall list` rows as arrays of cells (the table has no empty cells but the last, "note"). */
function listRows(stdout: string): string[][] {
  const lines = stdout.trimEnd().split('\n');
  return lines.slice(2).map((l) => l.trim().split(/\s+/));
}

if (!zookeeperAvailable()) {
  test('ZooKeeper is installed', () => {
    throw new Error('ZooKeeper (or java) is missing: run scripts/ensure-packages.sh');
  });
} else {
  describe('a topology on a two-supervisor cluster, driven by the CLI', () => {
    let cluster: Cluster;

    beforeAll(async () => {
      cluster = await Cluster.start({ name: 'lifecycle', supervisors: 2, slotsPerSupervisor: 2 });
    }, SETUP_TIMEOUT_MS);

    afterAll(async () => {
      await cluster?.stop();
    }, TEARDOWN_TIMEOUT_MS);

    it(
      'counts words exactly over a finite input on 2 workers, one per supervisor; REST and `squall list` show it',
      () =>
        cluster.run(async () => {
          const sentences = 1000;
          const id = await cluster.submit('word-count.ts', 'wc', { 'topology.workers': 2 }, { 'test.input.count': sentences });
          expect(id).toMatch(/^wc-\d+-\d+$/);
          const out = cluster.outputDirOf('wc');

          const expected = new Map<string, number>();
          for (let n = 0; n < sentences; n++) for (const w of sentenceOf(n).split(' ')) expected.set(w, (expected.get(w) ?? 0) + 1);
          const totalWords = [...expected.values()].reduce((a, b) => a + b, 0);

          await waitFor('every sentence acked', () => new Set(spoutAcked(out, 'sentences')).size === sentences, 30_000);
          await waitFor(`${totalWords} word counts recorded`, () => sinkRecords(out, 'count').length >= totalWords, 10_000);

          // Exactly the plain count: each word on one task, counted once per occurrence.
          const records = sinkRecords<{ task: number; values: [string, number] }>(out, 'count');
          expect(records).toHaveLength(totalWords);
          expect(spoutEmitted(out, 'sentences')).toHaveLength(sentences); // no replays
          const tasksByWord = groupSets(records, (r) => r.values[0], (r) => r.task);
          expect(new Set(tasksByWord.keys())).toEqual(new Set(expected.keys()));
          for (const tasks of tasksByWord.values()) expect(tasks.size).toBe(1);
          const finalCounts = new Map<string, number>();
          for (const r of records) finalCounts.set(r.values[0], Math.max(finalCounts.get(r.values[0]) ?? 0, r.values[1]));
          expect(finalCounts).toEqual(expected);
          expect(countBy(records, (r) => r.values[0])).toEqual(expected);

          // REST: the topology, its components, a worker on each supervisor, and the stats.
          const page = await waitFor(
            'REST stats to show every sentence acked',
            async () => {
              const p = await cluster.topology(id);
              return spout(p, 'sentences').acked === sentences && bolt(p, 'count').executed === totalWords ? p : false;
            },
            10_000,
          );
          expect(page).toMatchObject({ id, name: 'wc', status: 'ACTIVE', workersTotal: 2 });
          expect(page.spouts.map((s) => s.spoutId)).toEqual(['sentences']);
          expect(page.bolts.map((b) => b.boltId).sort()).toEqual(['count', 'split']);
          expect(page.workers).toHaveLength(2);
          expect(page.workers.map((w) => w.supervisorId).sort()).toEqual(['sup-1', 'sup-2']);
          for (const w of page.workers) expect(w).toMatchObject({ state: 'running', host: '127.0.0.1' });
          expect(spout(page, 'sentences')).toMatchObject({ emitted: sentences, acked: sentences, failed: 0, executors: 2, tasks: 2 });
          expect(bolt(page, 'split')).toMatchObject({ executed: sentences, acked: sentences, emitted: totalWords, executors: 2, tasks: 4 });
          expect(bolt(page, 'count')).toMatchObject({ executed: totalWords, acked: totalWords, failed: 0, executors: 3, tasks: 3 });
          expect(page.topologyStats[0]).toMatchObject({ acked: sentences, failed: 0 });
          expect(page.configuration['topology.workers']).toBe(2);

          const summary = await cluster.clusterSummary();
          expect(summary).toMatchObject({ supervisors: 2, topologies: 1, slotsTotal: 4, slotsUsed: 2, slotsFree: 2 });
          const sups = await cluster.supervisorSummary();
          expect(sups.map((s) => [s.id, s.slotsUsed])).toEqual([
            ['sup-1', 1],
            ['sup-2', 1],
          ]);

          // squall list: name, status, workers, executors, tasks, uptime (and the id).
          const listed = await cluster.cliOk(['list']);
          expect(listed.split('\n')[0].trim().split(/\s+/)).toEqual(['name', 'status', 'workers', 'executors', 'tasks', 'uptime', 'id', 'note']);
          const rows = listRows(listed);
          expect(rows).toHaveLength(1);
          const [name, status, workers, executors, tasks, uptime, listedId] = rows[0];
          expect({ name, status, workers, executors, tasks, listedId }).toEqual({
            name: 'wc',
            status: 'ACTIVE',
            workers: '2',
            executors: String(page.executorsTotal),
            tasks: String(page.tasksTotal),
            listedId: id,
          });
          expect(uptime).toMatch(/^(\d+[hms] ?)+$/);

          await cluster.killTopology('wc');
        }),
      TEST_TIMEOUT_MS,
    );

    it(
      'deactivate stops the spout (its emitted count stays exactly constant) and activate resumes it',
      () =>
        cluster.run(async () => {
          // An endless, paced input: 2 spout tasks × 100 sentences/s.
          const id = await cluster.submit('word-count.ts', 'paced', { 'topology.workers': 2 }, { 'test.spout.rate': 100 });
          const out = cluster.outputDirOf('paced');
          await cluster.waitForWorkersRunning(id, 2);
          await waitFor('the spout to emit', () => spoutEmitted(out, 'sentences').length >= 100, 15_000);

          expect(await cluster.cliOk(['deactivate', 'paced'])).toContain('deactivated "paced"');
          expect((await cluster.topology(id)).status).toBe('INACTIVE');
          await waitFor('both spout tasks to be told deactivate()', () => {
            const events = spoutEvents(out, 'sentences');
            return events.size === 2 && [...events.values()].every((ev) => ev.some((e) => e.event === 'deactivate'));
          }, 10_000);
          // From here on nextTuple is not called: the count is frozen. REST catches up with it
          // at the next heartbeat; in-flight sentences still finish.
          const frozen = spoutEmitted(out, 'sentences').length;
          await waitFor('the in-flight sentences to be acked', () => spoutAcked(out, 'sentences').length === frozen, 10_000);
          await waitFor('REST to show the frozen emitted count, all acked', async () => {
            const s = spout(await cluster.topology(id), 'sentences');
            return s.emitted === frozen && s.acked === frozen;
          }, 10_000);

          const windowMs = 3_000; // three heartbeats, three monitor rounds
          await sleep(windowMs);
          expect(spoutEmitted(out, 'sentences')).toHaveLength(frozen);
          const during = await cluster.topology(id);
          expect(during.status).toBe('INACTIVE');
          expect(spout(during, 'sentences').emitted).toBe(frozen);
          expect(spout(during, 'sentences').acked).toBe(frozen);

          expect(await cluster.cliOk(['activate', 'paced'])).toContain('activated "paced"');
          await waitFor('both spout tasks to be told activate()', () => [...spoutEvents(out, 'sentences').values()].every((ev) => ev.some((e) => e.event === 'activate')), 10_000);
          await waitFor('the spout to emit again', () => spoutEmitted(out, 'sentences').length >= frozen + 100, 10_000);
          const after = await waitFor('REST to show it emitting again', async () => {
            const p = await cluster.topology(id);
            return spout(p, 'sentences').emitted > frozen ? p : false;
          }, 10_000);
          expect(after.status).toBe('ACTIVE');
        }),
      TEST_TIMEOUT_MS,
    );

    it(
      'rebalance -n 3 -e split=4 moves the topology onto 3 workers with 4 split executors, and processing continues',
      () =>
        cluster.run(async () => {
          const before = await cluster.topology('paced');
          expect(before).toMatchObject({ status: 'ACTIVE', workersTotal: 2 });
          expect(bolt(before, 'split').executors).toBe(2);

          const stdout = await cluster.cliOk(['rebalance', 'paced', '-w', '1', '-n', '3', '-e', 'split=4']);
          expect(stdout).toContain('rebalancing "paced" in 1s to 3 workers with {"split":4}');

          const page = await waitFor(
            'REST to show 3 running workers and 4 split executors',
            async () => {
              const p = await cluster.topology('paced');
              return p.status === 'ACTIVE' && p.workersTotal === 3 && p.workers.length === 3 && p.workers.every((w) => w.state === 'running') && bolt(p, 'split').executors === 4
                ? p
                : false;
            },
            20_000,
          );
          // 2 more split executors; acker tasks (one per worker at submission) are fixed, like all task ids
          expect(page.executorsTotal).toBe(before.executorsTotal + 2);
          expect(new Set(page.workers.map((w) => w.supervisorId))).toEqual(new Set(['sup-1', 'sup-2']));
          const component = await cluster.get<{ executors: number; tasks: number; executorStats: unknown[] }>(`/topology/paced/component/split`);
          expect(component).toMatchObject({ executors: 4, tasks: 4 });
          expect(component.executorStats).toHaveLength(4);
          const summary = await cluster.clusterSummary();
          expect(summary.slotsUsed).toBe(3);

          // Processing continues on the new workers.
          const acked = spoutAcked(cluster.outputDirOf('paced'), 'sentences').length;
          await waitFor('more sentences acked after the rebalance', () => spoutAcked(cluster.outputDirOf('paced'), 'sentences').length >= acked + 200, 15_000);
          await waitFor('REST to show acks from the new workers', async () => spout(await cluster.topology('paced'), 'sentences').acked > 0, 10_000);
        }),
      TEST_TIMEOUT_MS,
    );

    it(
      'kill -w 0 removes the topology, frees its slots and stops its workers',
      () =>
        cluster.run(async () => {
          const page = await cluster.topology('paced');
          const pids = page.workers.map((w) => w.pid as number);
          expect(pids).toHaveLength(3);
          for (const pid of pids) expect(isProcessAlive(pid)).toBe(true);

          expect(await cluster.cliOk(['kill', 'paced', '-w', '0'])).toContain('killed "paced"');
          await waitFor('the topology to be gone from REST', async () => (await cluster.topologies()).length === 0, 10_000);
          await waitFor('every slot to be free', async () => (await cluster.clusterSummary()).slotsUsed === 0, 10_000);
          await waitFor(`its worker processes (${pids.join(', ')}) to exit`, () => pids.every((p) => !isProcessAlive(p)), 15_000);
          for (const sup of cluster.supervisorIds()) expect(cluster.workersOf(sup)).toEqual([]);
          const sups = await cluster.supervisorSummary();
          for (const s of sups) expect(s).toMatchObject({ slotsUsed: 0, usedPorts: [] });
          expect((await cluster.cliOk(['list'])).trim()).toBe('No topologies running.');
          const gone = await fetch(`${cluster.url}/api/v1/topology/paced`);
          expect(gone.status).toBe(404);
          expect(await gone.json()).toMatchObject({ code: 'ERR_TOPOLOGY_NOT_FOUND' });
        }),
      TEST_TIMEOUT_MS,
    );

    // `squall submit -c key=value`: a key that is not a daemon key is the topology's own and
    // reaches open/prepare (Storm's `storm jar -c`); this once went to the daemon config and was refused.
    it(
      'submit -c passes a user key (outside topology.*) to the topology',
      async () => {
          const out = cluster.outputDirOf('user-keys');
          const res = await cluster.cli([
            'submit',
            path.join(FIXTURES, 'word-count.ts'),
            '--name',
            'user-keys',
            '--nimbus',
            cluster.nimbusAddress,
            '-c',
            'topology.workers=1',
            '-c',
            `test.output.dir=${out}`,
            '-c',
            'test.input.count=10',
          ]);
          expect(res.stderr).toBe('');
          expect(res.code).toBe(0);
          await waitFor('the topology to ack its 10 sentences', () => fs.existsSync(out) && new Set(spoutAcked(out, 'sentences')).size === 10, 20_000);
          await cluster.killTopology('user-keys');
      },
      TEST_TIMEOUT_MS,
    );
  });
}
