/**
 * What REST says about a worker right after it starts, on a cluster with Nimbus's default-like
 * monitor period (a round every 30 s here, to make the window obvious; the default is 10 s).
 *
 * Needs the built CLI (node scripts/build.js) and ZooKeeper (scripts/ensure-packages.sh).
 */
import { Cluster, waitFor, backstopMs, CLUSTER_START_BOUND_MS, CLUSTER_STOP_BOUND_MS, SUBMIT_BOUND_MS } from '../helpers/cluster-harness';
import { zookeeperAvailable } from '../helpers/zookeeper';

/** Jest backstops behind the named waits (test/helpers/cluster-harness.ts, "time budgets"). */
const SETUP_TIMEOUT_MS = backstopMs(CLUSTER_START_BOUND_MS);
const TEARDOWN_TIMEOUT_MS = backstopMs(CLUSTER_STOP_BOUND_MS);
/** The longest test: a submission and its workers shown running. */
const TEST_TIMEOUT_MS = backstopMs(SUBMIT_BOUND_MS, 20_000);

if (!zookeeperAvailable()) {
  test('ZooKeeper is installed', () => {
    throw new Error('ZooKeeper (or java) is missing: run scripts/ensure-packages.sh');
  });
} else {
  describe('worker state in REST between monitor rounds', () => {
    let cluster: Cluster;

    beforeAll(async () => {
      cluster = await Cluster.start({ name: 'worker-state', supervisors: 1, slotsPerSupervisor: 1, config: { 'nimbus.monitor.freq.secs': 30 } });
    }, SETUP_TIMEOUT_MS);

    afterAll(async () => {
      await cluster?.stop();
    }, TEARDOWN_TIMEOUT_MS);

    // Nimbus judges liveness in monitor rounds (default every 10 s) but REST reads heartbeats
    // fresh: the read side observes the beats it has just read, so a worker whose heartbeat it
    // serves is never shown as "starting" (with a 30 s monitor period here to make that visible).
    it('shows a worker whose heartbeats it already serves as running, and no "not heartbeating" note', async () => {
      const id = await cluster.submit('reliable.ts', 'state', { 'topology.workers': 1 }, { 'test.input.count': 100 });
      const page = await waitFor(
        'REST to serve the worker heartbeat with every message acked',
        async () => {
          const p = await cluster.topology(id);
          return p.workers.length === 1 && p.workers[0].pid && p.spouts[0].acked === 100 ? p : false;
        },
        20_000,
      );
      expect(page.workers[0].state).toBe('running');
      const [summary] = await cluster.topologies();
      expect(summary.schedulerDisplayResource).toBeUndefined();
    }, TEST_TIMEOUT_MS);
  });
}
