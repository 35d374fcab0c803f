/**
 * Worker faults on a real cluster (ZooKeeper, `squall nimbus`, two `squall supervisor` processes
 * with 2 slots each, all on loopback), each with a reliable topology whose spout keeps a ledger
 * of emitted and acked message ids (bench/chaos/components.ts):
 *
 * - kill -9 of workers, repeatedly, during a reliable word count: no message id lost;
 * - SIGTERM to a worker: it stops cleanly (exit 0, nothing left open), is restarted, and what it
 *   had in flight is replayed;
 * - user code throwing in `execute` and `nextTuple`: the input fails and is replayed, the error is
 *   reported with component, host, port and time, and the worker keeps running;
 * - a bolt blocking its event loop past the heartbeat timeout: its worker is found hung,
 *   replaced, and REST says so;
 * - a topology whose workers cannot start: REST and `squall list` report it, and its restarts back
 *   off instead of looping hot.
 *
 * Figures (replays, recovery times) are printed. Needs the built CLI (node scripts/build.js) and
 * ZooKeeper (scripts/ensure-packages.sh).
 */
import * as fs from 'node:fs';
import * as path from 'node:path';
import type { TopologyPage, WorkerEntry } from '../../common/protocol/rest';
import { Cluster, waitFor, backstopMs, CLUSTER_START_BOUND_MS, CLUSTER_STOP_BOUND_MS, SUBMIT_BOUND_MS } from '../helpers/cluster-harness';
import {
  DAEMON_MS,
  ExitProbe,
  FAULT_FIXTURE,
  FAULT_TOPOLOGY_CONFIG,
  LINK_BACKOFF_MAX_MS,
  TUPLE_FAIL_MAX_MS,
  WORKER_START_MS,
  leftOpen,
  ledgerOf,
  ledgerReport,
  slotPortsOf,
  waitAllAcked,
  waitGone,
  waitProgress,
  waitRecovered,
} from '../helpers/cluster-faults';
import { isProcessAlive } from '../helpers/cluster-processes';
import { zookeeperAvailable } from '../helpers/zookeeper';
import { Random } from '../../common/random';
import type { Recovery } from '../../bench/chaos/ledger';
import { OPEN_ERROR } from '../fixtures/faults/broken';
import { SPLIT_ERROR, SPOUT_ERROR } from '../fixtures/faults/flaky';
import { MARKER_FILE } from '../fixtures/faults/stuck';

/** Jest backstops behind the named waits (test/helpers/cluster-harness.ts, "time budgets"). */
const SETUP_TIMEOUT_MS = backstopMs(CLUSTER_START_BOUND_MS);
const TEARDOWN_TIMEOUT_MS = backstopMs(CLUSTER_STOP_BOUND_MS);
/** The longest test: a submission, four kills each waited out (workers running, progress), every message acked and the kill. */
const TEST_TIMEOUT_MS = backstopMs(SUBMIT_BOUND_MS, 4 * 35_000, 40_000, 20_000);

/**
 * Bound on recovery from losing a worker that its supervisor restarts in place: the restart
 * backoff (at most its cap), the new process starting, its peers' links reconnecting (their
 * backoff is capped at 5 s), and the tuples lost with it failing (1.5 message timeouts after they
 * were emitted) and being replayed; twice the last, since a replay sent before the new worker is
 * linked is lost again.
 */
const WORKER_RECOVERY_BOUND_MS = DAEMON_MS.restartBackoffMax + WORKER_START_MS + LINK_BACKOFF_MAX_MS + 2 * TUPLE_FAIL_MAX_MS;

const running = (page: TopologyPage): WorkerEntry[] => page.workers.filter((w) => w.state === 'running' && w.pid);

if (!zookeeperAvailable()) {
  test('ZooKeeper is installed', () => {
    throw new Error('ZooKeeper (or java) is missing: run scripts/ensure-packages.sh');
  });
} else {
  describe('worker faults on a two-supervisor cluster', () => {
    let cluster: Cluster;
    const probe = new ExitProbe();

    beforeAll(async () => {
      probe.install();
      cluster = await Cluster.start({ name: 'faults-workers', supervisors: 2, slotsPerSupervisor: 2 });
    }, SETUP_TIMEOUT_MS);

    afterAll(async () => {
      try {
        await cluster?.stop();
      } finally {
        probe.uninstall();
      }
    }, TEARDOWN_TIMEOUT_MS);

    /** Waits for `count` running workers, each with a PID other than those in `not`. */
    function workersRunning(id: string, count: number, not: ReadonlySet<number> = new Set(), timeoutMs = 20_000): Promise<TopologyPage> {
      return waitFor(
        `${count} running workers of ${id}${not.size ? ` other than pids ${[...not].join(', ')}` : ''}`,
        async () => {
          const page = await cluster.topology(id);
          const live = running(page).filter((w) => !not.has(w.pid as number));
          return page.workers.length === count && live.length === count ? page : false;
        },
        timeoutMs,
      );
    }

    it(
      'kill -9 of workers, 4 times during a reliable word count: every message id is acked, the replays are counted',
      () =>
        cluster.run(async () => {
          const messages = 4500; // 2 spout tasks × 150/s: 15 s of input, longer than the 4 kills take
          const id = await cluster.submit(FAULT_FIXTURE.wordCount, 'wc-kill9', { ...FAULT_TOPOLOGY_CONFIG, 'topology.workers': 2 }, { 'ledger.input.count': messages, 'ledger.spout.rate': 150 });
          const ledger = ledgerOf(cluster, 'wc-kill9');
          let page = await workersRunning(id, 2);
          await waitProgress(ledger, 100, 15_000, 'wc-kill9 starting');

          const random = new Random(4);
          const killed: number[] = [];
          const faults: number[] = [];
          for (let k = 0; k < 4; k++) {
            const victim = running(page)[random.nextInt(2)];
            expect(ledger.refresh().acked).toBeLessThan(messages); // mid-run
            faults.push(Date.now());
            cluster.killWorker9(victim.pid as number);
            killed.push(victim.pid as number);
            // the next kill once both workers run again (the victim's slot restarted it)
            page = await workersRunning(id, 2, new Set(killed));
            await waitProgress(ledger, 50, 15_000, `after kill ${k + 1}`);
          }
          await waitAllAcked(ledger, messages, 40_000, 'wc-kill9');
          for (const pid of killed) expect(isProcessAlive(pid)).toBe(false);

          // every message acked: each kill was recovered from (how fast is the chaos run's business)
          const recoveries = faults.map((f) => ledger.recovery(f) as Recovery);
          for (const r of recoveries) expect(r).not.toBeNull();
          expect(ledger.replays).toBeGreaterThan(0); // tuples in flight at the kills were replayed
          // Every kill is reported as a worker crash of the topology.
          const crashes = (await cluster.topology(id)).workerErrors.filter((e) => e.error.startsWith('ERR_WORKER_CRASHED') && e.error.includes('SIGKILL'));
          expect(crashes.length).toBe(killed.length);
          console.log(ledgerReport(`kill -9 of workers ${killed.join(', ')} (bound ${WORKER_RECOVERY_BOUND_MS} ms)`, ledger, recoveries));
          await cluster.killTopology('wc-kill9');
        }),
      TEST_TIMEOUT_MS,
    );

    it(
      'SIGTERM to a worker: it exits 0 with nothing left open, is restarted in its slot, and its in-flight tuples are replayed',
      () =>
        cluster.run(async () => {
          const messages = 2000;
          const id = await cluster.submit(FAULT_FIXTURE.wordCount, 'wc-term', { ...FAULT_TOPOLOGY_CONFIG, 'topology.workers': 2 }, { 'ledger.input.count': messages, 'ledger.spout.rate': 150 });
          const ledger = ledgerOf(cluster, 'wc-term');
          const page = await workersRunning(id, 2);
          await waitProgress(ledger, 150, 15_000, 'wc-term starting');

          const victim = running(page).find((w) => (w.componentNumTasks.sentences ?? 0) > 0) as WorkerEntry; // a spout task is in it
          const pid = victim.pid as number;
          const fault = Date.now();
          process.kill(pid, 'SIGTERM');
          const exit = await probe.waitRecord(pid, 5_000);
          expect({ code: exit.code, leftOpen: leftOpen(exit) }).toEqual({ code: 0, leftOpen: [] });
          const after = await workersRunning(id, 2, new Set([pid]));
          const replacement = after.workers.find((w) => w.supervisorId === victim.supervisorId && w.port === victim.port);
          expect(replacement?.pid).not.toBe(pid); // same slot, new process

          const recovery = await waitRecovered(ledger, fault, WORKER_RECOVERY_BOUND_MS, 'SIGTERM of a worker');
          await waitAllAcked(ledger, messages, 30_000, 'wc-term');
          expect(ledger.opens).toBe(3); // 2 spout tasks, one of them opened again in the new process
          console.log(ledgerReport(`SIGTERM of worker ${pid} (exit 0 after ${exit.uptimeMs} ms of uptime; bound ${WORKER_RECOVERY_BOUND_MS} ms)`, ledger, [recovery]));
          await cluster.killTopology('wc-term');
        }),
      TEST_TIMEOUT_MS,
    );

    it(
      'user code that throws in execute and nextTuple: the input fails and is replayed, the error is reported with component, host, port and time, the workers keep running',
      () =>
        cluster.run(async () => {
          const messages = 1200;
          const since = Date.now();
          const id = await cluster.submit(
            FAULT_FIXTURE.flaky,
            'flaky',
            { ...FAULT_TOPOLOGY_CONFIG, 'topology.workers': 2 },
            { 'ledger.input.count': messages, 'ledger.spout.rate': 200, 'flaky.spout.throw.every': 500, 'flaky.split.throw.mod': 100 },
          );
          const ledger = ledgerOf(cluster, 'flaky');
          const page = await workersRunning(id, 2);
          const pids = page.workers.map((w) => w.pid).sort();
          await waitAllAcked(ledger, messages, 40_000, 'flaky');

          // Ids ≡ 3 mod 100 failed once in split (the input failed → fail() → replayed) and then passed.
          const throwing = Array.from({ length: messages / 100 }, (_, k) => k * 100 + 3);
          expect(ledger.fails).toBeGreaterThanOrEqual(throwing.length);
          expect(ledger.replays).toBeGreaterThanOrEqual(throwing.length);
          // No worker was restarted: the errors were the components', not the processes'.
          const now = await cluster.topology(id);
          expect(now.workers.map((w) => w.pid).sort()).toEqual(pids);
          expect(now.workerErrors).toEqual([]);

          const ports = new Set(page.workers.map((w) => w.port));
          const reported = await waitFor(
            'REST to show the errors of split and of the spout',
            async () => {
              const p = await cluster.topology(id);
              const split = p.bolts.find((b) => b.boltId === 'split');
              const spout = p.spouts.find((s) => s.spoutId === 'sentences');
              return split?.lastError && spout?.lastError ? { split, spout, page: p } : false;
            },
            10_000,
          );
          for (const [entry, text] of [
            [reported.split, SPLIT_ERROR],
            [reported.spout, SPOUT_ERROR],
          ] as const) {
            expect(entry.lastError).toContain(text);
            expect(entry.errorHost).toBe('127.0.0.1');
            expect(ports.has(entry.errorPort as number)).toBe(true);
            expect(entry.errorTime).toBeGreaterThanOrEqual(since);
            expect(entry.errorTime).toBeLessThanOrEqual(Date.now());
          }
          const component = await cluster.get<{ componentErrors: Array<{ error: string; errorHost: string; errorPort: number; errorTime: number }> }>(`/topology/${id}/component/split`);
          expect(component.componentErrors.length).toBeGreaterThan(0);
          for (const e of component.componentErrors) expect(e).toMatchObject({ error: expect.stringContaining(SPLIT_ERROR), errorHost: '127.0.0.1' });
          // the other components kept working: every sentence's words were counted and acked
          expect(reported.page.bolts.find((b) => b.boltId === 'count')?.lastError).toBe('');
          console.log(ledgerReport(`user code errors (${throwing.length} throwing sentences)`, ledger));
          await cluster.killTopology('flaky');
        }),
      TEST_TIMEOUT_MS,
    );

    it(
      'a bolt blocking its event loop past the heartbeat timeout: the worker is found hung and replaced, REST shows ERR_WORKER_HUNG, nothing is lost',
      () =>
        cluster.run(async () => {
          const messages = 1500;
          // Longer than any detection could take on a loaded machine: the worker must be killed
          // as hung, never waited for (the supervisor finds it within its timeout, ~4 s idle).
          const blockMs = 60_000;
          const id = await cluster.submit(
            FAULT_FIXTURE.stuck,
            'stuck',
            { ...FAULT_TOPOLOGY_CONFIG, 'topology.workers': 2 },
            { 'ledger.input.count': messages, 'ledger.spout.rate': 200, 'stuck.at': 300, 'stuck.ms': blockMs },
          );
          const ledger = ledgerOf(cluster, 'stuck');
          await workersRunning(id, 2);
          const marker = await waitFor('the bolt to block', () => readMarker(cluster.outputDirOf('stuck')), 15_000, 50);
          const hung = await waitFor(
            `REST to report worker ${marker.pid} hung`,
            async () => {
              const p = await cluster.topology(id);
              return p.workerErrors.find((e) => e.error.startsWith('ERR_WORKER_HUNG')) ? p : false;
            },
            DAEMON_MS.workerTimeout + DAEMON_MS.supervisorMonitor + 5_000,
          );
          const error = hung.workerErrors.find((e) => e.error.startsWith('ERR_WORKER_HUNG'))!;
          expect(error.error).toMatch(/no heartbeat for [\d.]+ s \(timeout 3 s\)/);
          expect(error.errorHost).toBe('127.0.0.1');
          // Found by the supervisor (no heartbeat for its timeout), before the bolt would have returned.
          expect(error.errorTime - marker.t).toBeGreaterThanOrEqual(DAEMON_MS.workerTimeout - DAEMON_MS.workerHeartbeat);
          expect(error.errorTime - marker.t).toBeLessThan(blockMs);
          await waitGone([marker.pid], DAEMON_MS.shutdownSleep + 3_000, 'the hung worker');
          expect(Date.now() - marker.t).toBeLessThan(blockMs); // killed, not waited for
          await workersRunning(id, 2, new Set([marker.pid]));
          const recovery = await waitRecovered(ledger, marker.t, DAEMON_MS.workerTimeout + DAEMON_MS.shutdownSleep + WORKER_RECOVERY_BOUND_MS, 'hung worker');
          await waitAllAcked(ledger, messages, 30_000, 'stuck');
          console.log(ledgerReport(`worker ${marker.pid} blocked by a bolt for ${blockMs} ms (found hung after ${error.errorTime - marker.t} ms)`, ledger, [recovery]));
          await cluster.killTopology('stuck');
        }),
      TEST_TIMEOUT_MS,
    );

    it(
      'a topology whose workers cannot start: REST and `squall list` report it, and restarts back off',
      () =>
        cluster.run(async () => {
          const id = await cluster.submit(FAULT_FIXTURE.broken, 'broken', { ...FAULT_TOPOLOGY_CONFIG, 'topology.workers': 1 });
          // Backoff: base 1 s doubling to the 2 s cap, with equal jitter: delays in [0.5, 1] s after
          // the first failure, then [1, 2] s. Five failures take at least 0.5 + 3 × 1 = 3.5 s.
          const page = await waitFor(
            'five worker start failures in REST',
            async () => {
              const p = await cluster.topology(id);
              return p.workerErrors.length >= 5 ? p : false;
            },
            60_000, // five node starts of ~1 s each (4 s on a busy machine) plus the backoffs
          );
          const errors = [...page.workerErrors].reverse(); // oldest first
          const slotPorts = new Set(cluster.supervisorIds().flatMap((sup) => slotPortsOf(cluster, sup)));
          for (const e of errors) {
            expect(e.error).toContain('ERR_WORKER_START_FAILED');
            expect(e.error).toContain(OPEN_ERROR);
            expect(e.errorHost).toBe('127.0.0.1');
            expect(slotPorts.has(e.errorPort)).toBe(true);
          }
          // Per slot (after nimbus.task.launch.secs Nimbus may try another one, whose count starts afresh).
          const gaps: number[] = [];
          for (const port of new Set(errors.map((e) => e.errorPort))) {
            const times = errors.filter((e) => e.errorPort === port).map((e) => e.errorTime);
            const slotGaps = times.slice(1).map((t, i) => t - times[i]);
            if (slotGaps.length > 0) expect(slotGaps[0]).toBeGreaterThanOrEqual(500 - 50);
            for (const gap of slotGaps.slice(1)) expect(gap).toBeGreaterThanOrEqual(1_000 - 50);
            gaps.push(...slotGaps);
          }
          expect(gaps.length).toBeGreaterThanOrEqual(3);
          expect(page.workers.map((w) => w.state)).not.toContain('running');

          const [summary] = await cluster.topologies();
          expect(summary.schedulerDisplayResource).toMatch(/^workers not heartbeating: 1 of 1; last worker error \(127\.0\.0\.1:\d+\): ERR_WORKER_START_FAILED: /);
          const listed = await cluster.cliOk(['list']);
          const row = listed.split('\n').find((l) => l.startsWith('broken'));
          expect(row).toContain('workers not heartbeating: 1 of 1; last worker error');
          expect(row).toContain(OPEN_ERROR);
          console.log(`workers that cannot start: ${errors.length} start failures, gaps between them ${gaps.join(', ')} ms`);
          await cluster.killTopology('broken');
        }),
      TEST_TIMEOUT_MS,
    );
  });
}

/** What the stuck bolt wrote as it started blocking (false before). */
function readMarker(dir: string): { id: number; pid: number; t: number } | false {
  const file = path.join(dir, MARKER_FILE);
  return fs.existsSync(file) ? (JSON.parse(fs.readFileSync(file, 'utf8')) as { id: number; pid: number; t: number }) : false;
}
