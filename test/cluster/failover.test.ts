/**
 * At-least-once through failures on a real cluster (ZooKeeper, Nimbus, two supervisors with 2 slots
 * each, all separate processes on loopback): a worker killed with kill -9, Nimbus killed and
 * started again, a supervisor lost with its workers. Each test runs its own finite, paced input
 * through test/fixtures/cluster/reliable.ts, whose spout replays failed messages and records
 * acked ids in files; every message id must end up acked. Replays are reported.
 *
 * Needs the built CLI (node scripts/build.js) and ZooKeeper (scripts/ensure-packages.sh).
 */
import type { TopologyPage, WorkerEntry } from '../../common/protocol/rest';
import { Cluster, sleep, waitFor, backstopMs, CLUSTER_START_BOUND_MS, CLUSTER_STOP_BOUND_MS, SUBMIT_BOUND_MS } from '../helpers/cluster-harness';
import { sinkRecords, spoutAcked, spoutEmitted, spoutEvents } from '../helpers/cluster-output';
import { DAEMON_MS } from '../helpers/cluster-faults';
import { isProcessAlive } from '../helpers/cluster-processes';
import { zookeeperAvailable } from '../helpers/zookeeper';

/** Jest backstops behind the named waits (test/helpers/cluster-harness.ts, "time budgets"). */
const SETUP_TIMEOUT_MS = backstopMs(CLUSTER_START_BOUND_MS);
const TEARDOWN_TIMEOUT_MS = backstopMs(CLUSTER_STOP_BOUND_MS);
/** The longest test: a submission, the first acks, a daemon restart, a move and every message acked. */
const TEST_TIMEOUT_MS = backstopMs(SUBMIT_BOUND_MS, 15_000, 30_000, 10_000, 20_000, 60_000, 20_000);
/** Short message timeout: lost tuples fail (and are replayed) 3 to 4.5 s after they were emitted. */
const TOPOLOGY_CONFIG = { 'topology.workers': 2, 'topology.message.timeout.secs': 3, 'topology.max.spout.pending': 100 };

const spoutWorker = (page: TopologyPage): WorkerEntry => {
  const w = page.workers.find((x) => (x.componentNumTasks.numbers ?? 0) > 0);
  if (!w) throw new Error(`no worker runs the spout: ${JSON.stringify(page.workers)}`);
  return w;
};

/** Acked ids, distinct. */
const ackedCount = (out: string): number => new Set(spoutAcked(out, 'numbers')).size;

/** How many messages were emitted more than once, and why, for the test output. */
function replayReport(test: string, out: string, messages: number): string {
  const emitted = spoutEmitted(out, 'numbers').length;
  const events = [...spoutEvents(out, 'numbers').values()].flat();
  const fails = events.filter((e) => e.event === 'fail').length;
  const opens = events.filter((e) => e.event === 'open').length;
  return `${test}: ${messages} messages, ${emitted} emits = ${emitted - messages} replays (${fails} fail() calls; spout opened ${opens} times), ${spoutAcked(out, 'numbers').length - messages} duplicate acks`;
}

if (!zookeeperAvailable()) {
  test('ZooKeeper is installed', () => {
    throw new Error('ZooKeeper (or java) is missing: run scripts/ensure-packages.sh');
  });
} else {
  describe('failures on a two-supervisor cluster', () => {
    let cluster: Cluster;

    beforeAll(async () => {
      cluster = await Cluster.start({ name: 'failover', supervisors: 2, slotsPerSupervisor: 2 });
    }, SETUP_TIMEOUT_MS);

    afterAll(async () => {
      await cluster?.stop();
    }, TEARDOWN_TIMEOUT_MS);

    /** Submits reliable.ts as `name` and waits for 2 running workers and the first acks. */
    async function start(name: string, messages: number, rate: number): Promise<{ id: string; out: string; page: TopologyPage }> {
      const id = await cluster.submit('reliable.ts', name, TOPOLOGY_CONFIG, { 'test.input.count': messages, 'test.spout.rate': rate });
      const out = cluster.outputDirOf(name);
      const page = await cluster.waitForWorkersRunning(id, 2);
      expect(new Set(page.workers.map((w) => w.supervisorId))).toEqual(new Set(['sup-1', 'sup-2']));
      await waitFor(`${name}: the first 200 messages acked`, () => ackedCount(out) >= 200, 15_000);
      return { id, out, page };
    }

    it(
      'kill -9 of a worker: it is restarted with a new PID and every message id is eventually acked',
      () =>
        cluster.run(async () => {
          const messages = 4000; // 10 s of input: mid-run at the kill, with work left for the replacement
          const { id, out, page } = await start('kill-worker', messages, 400);
          // The worker without the spout: what it had in flight is lost, times out and is replayed.
          const victim = page.workers.find((w) => w !== spoutWorker(page))!;
          const victimPid = victim.pid as number;
          const ackedBefore = ackedCount(out);
          expect(ackedBefore).toBeLessThan(messages); // mid-run
          cluster.killWorker9(victimPid);

          const after = await waitFor(
            `a new worker in place of pid ${victimPid}`,
            async () => {
              const p = await cluster.topology(id);
              return p.workers.length === 2 && p.workers.every((w) => w.state === 'running' && w.pid && w.pid !== victimPid) ? p : false;
            },
            20_000,
          );
          expect(isProcessAlive(victimPid)).toBe(false);
          // the spout's worker was not touched; the other one is a new process (its supervisor
          // restarts it in the same slot at once; Nimbus would move it had it stayed silent)
          expect(spoutWorker(after).pid).toBe(spoutWorker(page).pid);
          const replacement = after.workers.find((w) => w.pid !== spoutWorker(page).pid)!;

          await waitFor('every message id acked', () => ackedCount(out) === messages, 40_000);
          // the new worker did part of the work
          expect(sinkRecords(out, 'sink').some((r) => r.pid === replacement.pid)).toBe(true);
          console.log(replayReport(`kill -9 worker ${victimPid} (${victim.supervisorId}:${victim.port}) → pid ${replacement.pid} (${replacement.supervisorId}:${replacement.port})`, out, messages));

          await cluster.killTopology('kill-worker');
        }),
      TEST_TIMEOUT_MS,
    );

    it(
      'restarting Nimbus: the topology keeps running while Nimbus is down, and REST shows the same topology after',
      () =>
        cluster.run(async () => {
          // 24 s of input at 250/s: still running through the outage and Nimbus's return, even slowed down
          const messages = 6000;
          const { id, out, page } = await start('nimbus-restart', messages, 250);
          const pidsBefore = page.workers.map((w) => w.pid).sort();
          const componentsBefore = { spouts: page.spouts.map((s) => s.spoutId), bolts: page.bolts.map((b) => b.boltId).sort() };

          await cluster.killNimbus();
          const ackedAtKill = ackedCount(out);
          const unreachable = await cluster.cli(['list', '--nimbus', cluster.nimbusAddress]);
          expect(unreachable.code).toBe(1);
          expect(unreachable.stderr).toContain('ERR_NIMBUS_UNREACHABLE');
          // Workers and supervisors do not need Nimbus to run the topology.
          await waitFor('acks to keep coming while Nimbus is down', () => ackedCount(out) >= ackedAtKill + 250, 10_000);
          expect(ackedCount(out)).toBeLessThan(messages); // still mid-run

          await cluster.startNimbus();
          const back = await cluster.topology(id);
          expect(back).toMatchObject({ id, name: 'nimbus-restart', status: 'ACTIVE', workersTotal: 2 });
          expect({ spouts: back.spouts.map((s) => s.spoutId), bolts: back.bolts.map((b) => b.boltId).sort() }).toEqual(componentsBefore);
          expect(back.bundleHash).toBe(page.bundleHash);
          expect(back.uptimeSeconds).toBeGreaterThanOrEqual(page.uptimeSeconds); // from the launch time, not Nimbus's start
          expect((await cluster.topologies()).map((t) => [t.id, t.status])).toEqual([[id, 'ACTIVE']]);

          // The restarted Nimbus adopts the running workers: past a full task timeout and
          // several monitor rounds, the same processes still run the topology.
          await sleep(DAEMON_MS.nimbusTaskTimeout + 2_000);
          const settled = await cluster.topology(id);
          expect(settled.workers.map((w) => w.pid).sort()).toEqual(pidsBefore);
          expect(settled.workers.every((w) => w.state === 'running')).toBe(true);

          await waitFor('every message id acked', () => ackedCount(out) === messages, 60_000);
          console.log(replayReport('nimbus restart', out, messages));
          await cluster.killTopology('nimbus-restart');
        }),
      TEST_TIMEOUT_MS,
    );

    it(
      "losing a supervisor (kill -9 of it and its workers): its executors move to the other supervisor and acks continue",
      () =>
        cluster.run(async () => {
          const messages = 4000; // 16 s of input: mid-run at the loss and through the move
          const { id, out, page } = await start('lose-supervisor', messages, 250);
          // Lose the machine that runs the spout: its replacement resumes from the acked files.
          const lost = spoutWorker(page).supervisorId;
          const survivor = cluster.supervisorIds().find((s) => s !== lost)!;
          const killed = await cluster.stopSupervisor(lost, 'SIGKILL');
          expect(killed).toHaveLength(1);
          const ackedAtLoss = ackedCount(out);
          expect(ackedAtLoss).toBeLessThan(messages);

          const moved = await waitFor(
            `both workers to run on ${survivor}`,
            async () => {
              const p = await cluster.topology(id);
              return p.workers.length === 2 && p.workers.every((w) => w.supervisorId === survivor && w.state === 'running') ? p : false;
            },
            30_000,
          );
          expect(moved.status).toBe('ACTIVE');
          expect(new Set(moved.workers.map((w) => w.port)).size).toBe(2);
          expect(spoutWorker(moved).supervisorId).toBe(survivor);
          // (the move may come from the missed heartbeats or from the session expiry, whichever is first)
          await waitFor(`${lost} to drop out of the supervisor summary`, async () => (await cluster.supervisorSummary()).map((s) => s.id).join() === survivor, 10_000);

          await waitFor('acks to continue after the move', () => ackedCount(out) >= ackedAtLoss + 200, 20_000);
          await waitFor('every message id acked', () => ackedCount(out) === messages, 60_000);
          console.log(replayReport(`lost ${lost} with worker ${killed.join(', ')}`, out, messages));

          await cluster.killTopology('lose-supervisor');
          await cluster.startSupervisor(lost); // the cluster as it was, for whatever runs next
        }),
      TEST_TIMEOUT_MS,
    );
  });
}
