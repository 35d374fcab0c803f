/**
 * The link between two workers cut and restored, on a real cluster (ZooKeeper, `squall nimbus`,
 * two `squall supervisor` processes, on loopback).
 *
 * How the cut is made, without root: the supervisors advertise `supervisor.host` 127.0.0.2, so
 * each worker reaches its peer at 127.0.0.2:<slot port>, while workers listen on 127.0.0.1 (a
 * loopback `supervisor.host` makes them bind 127.0.0.1, worker/main.ts). A TCP proxy of the test
 * listens on 127.0.0.2:<slot port> for every slot and forwards to 127.0.0.1:<slot port>: every
 * worker link goes through it. Cutting resets every connection through the proxies (both
 * workers' sockets fail, as when a route or a NIC goes away) and resets new ones at once, so the
 * workers' reconnect attempts fail too; restoring lets them through again.
 *
 * Processing must resume by itself within a bound after the restore (link reconnect backoff, then
 * replays of what was lost on the wire), no worker may be restarted for it, and no message may be
 * lost. Then strangers knock at a worker's slot port (bytes that are not HTTP, plain HTTP, a
 * websocket peer without the topology's secret): each is refused and logged, and the worker and
 * its topology carry on. Needs the built CLI (node scripts/build.js) and ZooKeeper
 * (scripts/ensure-packages.sh).
 */
import type { Recovery, SpoutLedger } from '../../bench/chaos/ledger';
import type { TopologyPage } from '../../common/protocol/rest';
import type { LogRecord } from '../helpers/cluster-faults';
import { Cluster, sleep, waitFor, backstopMs, CLUSTER_START_BOUND_MS, CLUSTER_STOP_BOUND_MS, SUBMIT_BOUND_MS } from '../helpers/cluster-harness';
import {
  FAULT_FIXTURE,
  FAULT_TOPOLOGY_CONFIG,
  LINK_BACKOFF_MAX_MS,
  TUPLE_FAIL_MAX_MS,
  TcpProxy,
  describeRecovery,
  ledgerOf,
  ledgerReport,
  logRecords,
  rawExchange,
  slotPortsOf,
  strangerHandshake,
  waitProgress,
  waitRecovered,
  RECOVERY_WAIT_MS,
} from '../helpers/cluster-faults';
import { zookeeperAvailable } from '../helpers/zookeeper';

/** Jest backstops behind the named waits (test/helpers/cluster-harness.ts, "time budgets"). */
const SETUP_TIMEOUT_MS = backstopMs(CLUSTER_START_BOUND_MS, SUBMIT_BOUND_MS, 15_000, 10_000);
const TEARDOWN_TIMEOUT_MS = backstopMs(CLUSTER_STOP_BOUND_MS);
/** The longest test: two recoveries and the links coming back. */
const TEST_TIMEOUT_MS = backstopMs(2 * RECOVERY_WAIT_MS, 15_000);
const NAME = 'wc-links';
const RATE = 100;
/** Where the supervisors say their workers are; the proxies listen there. */
const ADVERTISED_HOST = '127.0.0.2';
/** How long the link stays cut: as long as a message timeout, so tuples fail during the cut. */
const CUT_MS = 3_000;
/**
 * After the restore: the next reconnect attempt (backoff capped at 5 s), then the tuples lost on
 * the wire (and replays sent into the cut) failing and being replayed, twice over at worst.
 */
const AFTER_RESTORE_BOUND_MS = LINK_BACKOFF_MAX_MS + 2 * TUPLE_FAIL_MAX_MS;

if (!zookeeperAvailable()) {
  test('ZooKeeper is installed', () => {
    throw new Error('ZooKeeper (or java) is missing: run scripts/ensure-packages.sh');
  });
} else {
  describe('worker links on a two-supervisor cluster', () => {
    let cluster: Cluster;
    let id: string;
    let ledger: SpoutLedger;
    let first: TopologyPage;
    const proxies: TcpProxy[] = [];
    const linksThroughProxies = (): number => proxies.reduce((n, p) => n + p.open, 0);

    beforeAll(async () => {
      cluster = await Cluster.start({ name: 'faults-links', supervisors: 2, slotsPerSupervisor: 2, config: { 'supervisor.host': ADVERTISED_HOST } });
      await cluster.run(async () => {
        for (const sup of cluster.supervisorIds()) {
          for (const port of slotPortsOf(cluster, sup)) {
            const proxy = new TcpProxy(ADVERTISED_HOST, port, '127.0.0.1', port);
            await proxy.start();
            proxies.push(proxy);
          }
        }
        id = await cluster.submit(FAULT_FIXTURE.wordCount, NAME, { ...FAULT_TOPOLOGY_CONFIG, 'topology.workers': 2 }, { 'ledger.spout.rate': RATE });
        ledger = ledgerOf(cluster, NAME);
        first = await cluster.waitForWorkersRunning(id, 2);
        expect(new Set(first.workers.map((w) => w.supervisorId))).toEqual(new Set(['sup-1', 'sup-2']));
        expect(first.workers.every((w) => w.host === ADVERTISED_HOST)).toBe(true);
        await waitProgress(ledger, 200, 15_000, 'the topology starting');
        // Both links (one each way) go through the proxies.
        await waitFor('both worker links through the proxies', () => linksThroughProxies() === 2, 10_000);
      });
    }, SETUP_TIMEOUT_MS);

    afterAll(async () => {
      try {
        await cluster?.stop();
      } finally {
        for (const p of proxies) await p.close();
      }
    }, TEARDOWN_TIMEOUT_MS);

    /** No worker was restarted, no worker error reported, and every message emitted so far is acked. */
    async function unharmed(what: string): Promise<void> {
      const now = await cluster.topology(id);
      expect(now.workers.map((w) => w.pid).sort()).toEqual(first.workers.map((w) => w.pid).sort());
      expect(now.workerErrors).toEqual([]);
      const end = Date.now();
      await waitRecovered(ledger, end, 2 * TUPLE_FAIL_MAX_MS, what, { resumed: true });
      expect(ledger.gaps(2, end)).toEqual([]);
    }

    it(
      'cut for a message timeout: both workers see it, reconnect by themselves after the restore, and nothing is lost',
      () =>
        cluster.run(async () => {
          const cutAt = Date.now();
          const cut = proxies.reduce((n, p) => n + p.cut(), 0);
          expect(cut).toBe(2);
          await sleep(CUT_MS);
          const refused = proxies.reduce((n, p) => n + p.refused, 0);
          for (const p of proxies) p.restore();
          const restoredAt = Date.now();

          const recovery: Recovery = await waitRecovered(ledger, restoredAt, AFTER_RESTORE_BOUND_MS, 'link restored', { resumed: true });
          // Nothing emitted before the cut either is missing, and the stream stalled during it.
          const fromCut = ledger.recovery(cutAt) as Recovery;
          expect(fromCut.stallMs).toBeGreaterThanOrEqual(CUT_MS / 2);
          await waitFor('both worker links through the proxies again', () => linksThroughProxies() === 2, 5_000);

          // Each worker saw its link fail and open again (in its own log file, which its logger
          // writes asynchronously: the last line may land a moment after the link is back).
          const seen = (): Array<{ sup: string; lost: boolean; reopened: boolean }> => {
            const links = logRecords(cluster, ['sup-1', 'sup-2'], cutAt).filter((r) => /^link to worker /.test(r.msg));
            return ['sup-1', 'sup-2'].map((sup) => {
              const mine = links.filter((r) => r.daemon === sup);
              return { sup, lost: mine.some((r) => / lost: /.test(r.msg) && r.time < restoredAt), reopened: mine.some((r) => / open$/.test(r.msg) && r.time >= restoredAt) };
            });
          };
          await waitFor('each worker logging its link lost and open again', () => seen().every((s) => s.lost && s.reopened), 10_000).catch(() => undefined);
          expect(seen()).toEqual([
            { sup: 'sup-1', lost: true, reopened: true },
            { sup: 'sup-2', lost: true, reopened: true },
          ]);
          // No worker was restarted for it, and nothing is lost.
          await unharmed('after the link cut');
          console.log(`link cut for ${CUT_MS} ms (${cut} connections reset, ${refused} reconnect attempts refused): from the cut, ${describeRecovery(fromCut)}; from the restore, ${describeRecovery(recovery)}`);
          console.log(ledgerReport('link cut', ledger).replace(/, \d+ unacked/, ', none emitted before the end unacked'));
        }),
      TEST_TIMEOUT_MS,
    );

    it(
      "strangers at a worker's slot port are refused and logged; the worker and its topology carry on",
      () =>
        cluster.run(async () => {
          const target = first.workers[0];
          const since = Date.now();
          const other = first.workers[1];
          // Bytes that are not HTTP, then HTTP that is not a websocket upgrade.
          expect(await rawExchange('127.0.0.1', target.port, Buffer.from(Array.from({ length: 256 }, (_, i) => (i * 97) & 0xff)))).toMatch(/^HTTP\/1\.1 400 .*ERR_FRAME_MALFORMED/s);
          expect(await rawExchange('127.0.0.1', target.port, 'GET / HTTP/1.1\r\nHost: x\r\nConnection: close\r\n\r\n')).toMatch(/^HTTP\/1\.1 426 /);
          // A peer that claims to be the other worker of this topology but does not know its secret
          // (Nimbus makes one per topology and never serves it): refused before any tuple counts.
          expect(JSON.stringify(await cluster.topology(id))).not.toMatch(/secret/i);
          const stranger = await strangerHandshake('127.0.0.1', target.port, { secret: 'a guess', topologyId: id, clientId: `${other.supervisorId}:${other.port}` });
          expect(stranger).toMatchObject({ code: 4001, frames: 1 });
          expect(stranger.reason).toMatch(/^ERR_HANDSHAKE_FAILED /);
          // Each refusal is logged by the worker, in one line. The worker writes its log file
          // through a stream of its own, so a line can land after the refused peer saw its answer.
          const refused = (): LogRecord[] => logRecords(cluster, [target.supervisorId], since).filter((r) => r.code === 'ERR_FRAME_MALFORMED' || r.code === 'ERR_HANDSHAKE_FAILED');
          await waitFor('three refusals in the worker log', () => refused().length >= 3, 10_000).catch(() => undefined);
          const refusals = refused();
          expect(refusals.map((r) => r.code).sort()).toEqual(['ERR_FRAME_MALFORMED', 'ERR_FRAME_MALFORMED', 'ERR_HANDSHAKE_FAILED']);
          await unharmed('after the strangers');
          console.log(`strangers refused: ${refusals.map((r) => `${r.code as string} (${r.msg})`).join('; ')}`);
          await cluster.killTopology(NAME);
        }),
      TEST_TIMEOUT_MS,
    );
  });
}
