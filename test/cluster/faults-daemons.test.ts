/**
 * Daemon faults on a real cluster (ZooKeeper, `squall nimbus`, two `squall supervisor` processes
 * with 2 slots each, on loopback), one after the other, under one endless reliable word count
 * whose spout keeps a ledger of emitted and acked message ids (bench/chaos/components.ts):
 *
 * 1. a supervisor killed with kill -9 (alone: its workers must stop by themselves);
 * 2. Nimbus killed with kill -9, a worker killed while Nimbus is down, Nimbus started again;
 * 3. SIGTERM to Nimbus;
 * 4. SIGTERM to a supervisor (it stops its workers first).
 *
 * After each fault, processing must resume by itself and every message emitted before the fault
 * must be acked within a bound derived from the configured timeouts; at the end, with the spout
 * deactivated, every message id ever emitted must be acked. SIGTERM must end each daemon with
 * status 0 within a bound, with nothing left open (an exit probe records what each process still
 * held) and no orphan process. The tests share the topology and run in order.
 *
 * Needs the built CLI (node scripts/build.js) and ZooKeeper (scripts/ensure-packages.sh).
 */
import type { Recovery, SpoutLedger } from '../../bench/chaos/ledger';
import type { TopologyPage, WorkerEntry } from '../../common/protocol/rest';
import { Cluster, waitFor, backstopMs, CLUSTER_START_BOUND_MS, CLUSTER_STOP_BOUND_MS, SUBMIT_BOUND_MS } from '../helpers/cluster-harness';
import {
  DAEMON_MS,
  describeRecovery,
  ExitProbe,
  FAULT_FIXTURE,
  FAULT_TOPOLOGY_CONFIG,
  LINK_BACKOFF_MAX_MS,
  TUPLE_FAIL_MAX_MS,
  WORKER_START_MS,
  leftOpen,
  ledgerOf,
  ledgerReport,
  sigterm,
  waitGone,
  waitProgress,
  waitRecovered,
  RECOVERY_WAIT_MS,
} from '../helpers/cluster-faults';
import { isProcessAlive } from '../helpers/cluster-processes';
import { zookeeperAvailable } from '../helpers/zookeeper';

/** Jest backstops behind the named waits (test/helpers/cluster-harness.ts, "time budgets"). */
const SETUP_TIMEOUT_MS = backstopMs(CLUSTER_START_BOUND_MS, SUBMIT_BOUND_MS, 15_000);
const TEARDOWN_TIMEOUT_MS = backstopMs(CLUSTER_STOP_BOUND_MS);
/** The longest test: two recoveries and a daemon restart. */
const TEST_TIMEOUT_MS = backstopMs(2 * RECOVERY_WAIT_MS, 30_000);
const NAME = 'wc-daemons';
/** Sentences per second per spout task (2 tasks). */
const RATE = 100;

/** Recovery when a worker's own supervisor restarts it (see faults-workers.test.ts). */
const WORKER_RECOVERY_BOUND_MS = DAEMON_MS.restartBackoffMax + WORKER_START_MS + LINK_BACKOFF_MAX_MS + 2 * TUPLE_FAIL_MAX_MS;
/**
 * Recovery when Nimbus must move a worker to another supervisor: the lost supervisor's ZooKeeper
 * node goes when its session times out (the server checks every tick: up to 1.5 session
 * timeouts), Nimbus reassigns at once (watch) or at its next monitor round, the new worker starts
 * (bundle download included), links are repointed, and lost tuples fail and are replayed twice
 * over at worst.
 */
const MOVE_RECOVERY_BOUND_MS = 1.5 * DAEMON_MS.sessionTimeout + DAEMON_MS.nimbusMonitor + 2 * WORKER_START_MS + LINK_BACKOFF_MAX_MS + 2 * TUPLE_FAIL_MAX_MS;
/** A daemon's SIGTERM path: Nimbus closes at once; a supervisor stops its workers (SIGTERM, SIGKILL after the shutdown sleep) first. */
const NIMBUS_EXIT_BOUND_MS = 3_000;
const SUPERVISOR_EXIT_BOUND_MS = DAEMON_MS.shutdownSleep + 3_000;

const running = (page: TopologyPage): WorkerEntry[] => page.workers.filter((w) => w.state === 'running' && w.pid);

if (!zookeeperAvailable()) {
  test('ZooKeeper is installed', () => {
    throw new Error('ZooKeeper (or java) is missing: run scripts/ensure-packages.sh');
  });
} else {
  describe('daemon faults under an endless reliable word count', () => {
    let cluster: Cluster;
    let id: string;
    let ledger: SpoutLedger;
    const recoveries: Array<[string, Recovery]> = [];
    const probe = new ExitProbe();

    beforeAll(async () => {
      probe.install();
      cluster = await Cluster.start({ name: 'faults-daemons', supervisors: 2, slotsPerSupervisor: 2 });
      await cluster.run(async () => {
        id = await cluster.submit(FAULT_FIXTURE.wordCount, NAME, { ...FAULT_TOPOLOGY_CONFIG, 'topology.workers': 2 }, { 'ledger.spout.rate': RATE });
        ledger = ledgerOf(cluster, NAME);
        await workersRunning(2);
        await waitProgress(ledger, 100, 15_000, 'the topology starting');
      });
    }, SETUP_TIMEOUT_MS);

    afterAll(async () => {
      try {
        for (const [what, r] of recoveries) console.log(`${what}: ${describeRecovery(r)}`);
        await cluster?.stop();
      } finally {
        probe.uninstall();
      }
    }, TEARDOWN_TIMEOUT_MS);

    /** Waits for `count` running workers, none of them one of `not`. */
    function workersRunning(count: number, not: ReadonlySet<number> = new Set(), timeoutMs = 30_000): Promise<TopologyPage> {
      return waitFor(
        `${count} running workers${not.size ? ` other than pids ${[...not].join(', ')}` : ''}`,
        async () => {
          const page = await cluster.topology(id);
          return page.workers.length === count && running(page).filter((w) => !not.has(w.pid as number)).length === count ? page : false;
        },
        timeoutMs,
      );
    }

    async function recovered(what: string, faultMs: number, boundMs: number): Promise<Recovery> {
      const r = await waitRecovered(ledger, faultMs, boundMs, what, { resumed: true });
      recoveries.push([what, r]);
      await waitProgress(ledger, 100, 10_000, `${what}: processing going on`);
      return r;
    }

    it(
      'a supervisor killed with kill -9: its workers stop by themselves, Nimbus moves them, processing resumes',
      () =>
        cluster.run(async () => {
          const page = await cluster.topology(id);
          const lost = page.workers[0].supervisorId;
          const survivor = cluster.supervisorIds().find((s) => s !== lost) as string;
          const orphans = cluster.workersOf(lost);
          expect(orphans).toHaveLength(1);
          const fault = Date.now();
          cluster.supervisors.get(lost)!.kill9();
          // A worker whose supervisor is gone (its IPC channel closed) stops: no orphan process.
          await waitGone(orphans, 5_000, `the workers of the killed supervisor ${lost}`);
          const exit = await probe.waitRecord(orphans[0]);
          expect({ code: exit.code, leftOpen: leftOpen(exit) }).toEqual({ code: 0, leftOpen: [] });

          const moved = await workersRunning(2, new Set(orphans), MOVE_RECOVERY_BOUND_MS);
          expect(moved.workers.every((w) => w.supervisorId === survivor)).toBe(true);
          await recovered(`kill -9 of supervisor ${lost}`, fault, MOVE_RECOVERY_BOUND_MS);

          await cluster.startSupervisor(lost); // rejoins under the same id
          expect((await cluster.supervisorSummary()).map((s) => s.id).sort()).toEqual(['sup-1', 'sup-2']);
        }),
      TEST_TIMEOUT_MS,
    );

    it(
      'Nimbus killed with kill -9, a worker killed while it is down: the supervisor restarts the worker alone; the restarted Nimbus keeps the placement',
      () =>
        cluster.run(async () => {
          const before = await cluster.topology(id);
          await cluster.killNimbus();
          const victim = running(before)[0];
          const fault = Date.now();
          cluster.killWorker9(victim.pid as number);
          // No Nimbus: the supervisor restarts the worker in its slot; processing resumes.
          await recovered('kill -9 of a worker while Nimbus is down', fault, WORKER_RECOVERY_BOUND_MS);

          await cluster.startNimbus();
          const after = await workersRunning(2, new Set([victim.pid as number]));
          const slots = (p: TopologyPage): string[] => p.workers.map((w) => `${w.supervisorId}:${w.port}`).sort();
          expect(slots(after)).toEqual(slots(before));
          expect(after).toMatchObject({ id, status: 'ACTIVE', workersTotal: 2 });
          const crash = after.workerErrors.find((e) => e.error.includes('SIGKILL'));
          expect(crash).toMatchObject({ errorHost: '127.0.0.1', errorPort: victim.port });
        }),
      TEST_TIMEOUT_MS,
    );

    it(
      'SIGTERM to Nimbus: it exits 0 at once with nothing left open; the topology runs on; a new Nimbus serves it',
      () =>
        cluster.run(async () => {
          const before = await cluster.topology(id);
          const nimbus = cluster.nimbus!;
          const exit = await sigterm(nimbus, NIMBUS_EXIT_BOUND_MS);
          expect(exit).toMatchObject({ code: 0, signal: null });
          // No process.exit(): the process ended because its event loop ran empty.
          expect(await probe.waitRecord(nimbus.pid)).toMatchObject({ code: 0, calledExit: false, resources: [] });
          await waitProgress(ledger, 2 * RATE, 10_000, 'acks while Nimbus is stopped');

          await cluster.startNimbus();
          const after = await cluster.topology(id);
          expect(after).toMatchObject({ status: 'ACTIVE', workersTotal: 2 });
          expect(running(after).map((w) => w.pid).sort()).toEqual(running(before).map((w) => w.pid).sort());
          console.log(`SIGTERM of Nimbus: exit 0 after ${exit.exitMs} ms`);
        }),
      TEST_TIMEOUT_MS,
    );

    it(
      'SIGTERM to a supervisor: it stops its workers (exit 0, nothing open), then exits 0 itself; Nimbus moves the workers at once',
      () =>
        cluster.run(async () => {
          const page = await cluster.topology(id);
          const target = page.workers[0].supervisorId;
          const sup = cluster.supervisors.get(target)!;
          const workers = cluster.workersOf(target);
          expect(workers.length).toBeGreaterThan(0);
          const fault = Date.now();
          const exit = await sigterm(sup, SUPERVISOR_EXIT_BOUND_MS);
          // Its workers were gone by the time it exited.
          expect(workers.filter(isProcessAlive)).toEqual([]);
          expect(exit).toMatchObject({ code: 0, signal: null });
          expect(await probe.waitRecord(sup.pid)).toMatchObject({ code: 0, calledExit: false, resources: [] });
          for (const pid of workers) {
            const record = await probe.waitRecord(pid);
            expect({ code: record.code, leftOpen: leftOpen(record) }).toEqual({ code: 0, leftOpen: [] });
          }

          // Its node is removed at once, so Nimbus moves the workers without waiting for a timeout.
          const moved = await workersRunning(2, new Set(workers), MOVE_RECOVERY_BOUND_MS);
          expect(moved.workers.every((w) => w.supervisorId !== target)).toBe(true);
          await recovered(`SIGTERM of supervisor ${target}`, fault, MOVE_RECOVERY_BOUND_MS);
          console.log(`SIGTERM of supervisor ${target}: exit 0 after ${exit.exitMs} ms, its ${workers.length} workers stopped first`);
          await cluster.startSupervisor(target);
        }),
      TEST_TIMEOUT_MS,
    );

    it(
      'after every fault: every message id emitted so far is acked, none skipped',
      () =>
        cluster.run(async () => {
          const end = Date.now();
          recoveries.push(['the end', await waitRecovered(ledger, end, 2 * TUPLE_FAIL_MAX_MS, 'the end', { resumed: true })]);
          expect(ledger.gaps(2, end)).toEqual([]);
          console.log(ledgerReport('daemon faults', ledger).replace(/, \d+ unacked/, ', none emitted before the end unacked'));
          await cluster.killTopology(NAME);
        }),
      TEST_TIMEOUT_MS,
    );
  });
}
